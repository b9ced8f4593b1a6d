#include "support/server_process.hpp"

#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <csignal>
#include <optional>
#include <stdexcept>

namespace crud::e2e {
namespace {

// The port of a `{"message":"listening",...,"port":N}` line.
std::optional<std::uint16_t> listening_port(std::string_view line) {
  boost::system::error_code ec;
  const auto value = boost::json::parse(line, ec);
  if (ec || !value.is_object()) {
    return std::nullopt;
  }
  const auto& obj = value.get_object();
  const auto* message = obj.if_contains("message");
  const auto* port = obj.if_contains("port");
  if (message == nullptr || !message->is_string() || message->get_string() != "listening" ||
      port == nullptr || !port->is_int64()) {
    return std::nullopt;
  }
  const auto p = port->get_int64();
  if (p <= 0 || p > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(p);
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) {
    out += l;
    out += '\n';
  }
  return out;
}

}  // namespace

server_process::server_process(const store_target& store,
                               const std::vector<std::string>& extra_args, const env_list& env,
                               std::chrono::milliseconds startup_timeout) {
  test_support::spawn_options opts;
  opts.args = {"serve", "--host", "127.0.0.1", "--port", "0"};
  opts.args.insert(opts.args.end(), store.args.begin(), store.args.end());
  opts.args.insert(opts.args.end(), extra_args.begin(), extra_args.end());
  // The test's own variables come last, so they win over the store's.
  opts.env = store.env;
  opts.env.insert(opts.env.end(), env.begin(), env.end());
  // stdout is read here, line by line; stderr goes to the test's log.
  opts.stdout_to = test_support::output::pipe;
  opts.stderr_to = test_support::output::inherit;
  child_ = std::make_unique<child_process>(opts);
  reader_ = std::thread([this] { drain(); });

  std::unique_lock lock(mutex_);
  std::size_t seen = 0;
  const auto deadline = std::chrono::steady_clock::now() + startup_timeout;
  while (port_ == 0) {
    for (; seen < lines_.size() && port_ == 0; ++seen) {
      if (auto p = listening_port(lines_[seen])) {
        port_ = *p;
      }
    }
    if (port_ != 0) {
      break;
    }
    if (eof_ || changed_.wait_until(lock, deadline) == std::cv_status::timeout) {
      const bool ended = eof_;
      const auto output = joined(lines_);
      lock.unlock();
      child_->signal(SIGKILL);
      child_->wait_for(std::chrono::seconds(10));
      finish_drain();
      throw std::runtime_error(std::string("crud-api serve ") +
                               (ended ? "exited" : "did not report listening") +
                               " before listening; stdout:\n" + output);
    }
  }
}

server_process::~server_process() {
  if (!exited()) {
    child_->signal(SIGKILL);
    child_->wait_for(std::chrono::seconds(10));
  }
  finish_drain();
}

void server_process::finish_drain() {
  if (reader_.joinable()) {
    reader_.join();
  }
}

void server_process::drain() {
  std::string pending;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(child_->stdout_fd(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    pending.append(buf, static_cast<std::size_t>(n));
    std::size_t start = 0;
    std::vector<std::string> complete;
    for (auto nl = pending.find('\n', start); nl != std::string::npos;
         nl = pending.find('\n', start)) {
      complete.push_back(pending.substr(start, nl - start));
      start = nl + 1;
    }
    pending.erase(0, start);
    if (!complete.empty()) {
      std::lock_guard lock(mutex_);
      for (auto& l : complete) {
        lines_.push_back(std::move(l));
      }
      changed_.notify_all();
    }
  }
  std::lock_guard lock(mutex_);
  if (!pending.empty()) {
    lines_.push_back(std::move(pending));
  }
  eof_ = true;
  changed_.notify_all();
}

int server_process::stop(std::chrono::milliseconds timeout) {
  child_->signal(SIGTERM);
  auto code = child_->wait_for(timeout);
  if (!code) {
    child_->signal(SIGKILL);
    child_->wait_for(std::chrono::seconds(10));
    finish_drain();
    return -1;
  }
  finish_drain();
  return *code;
}

void server_process::kill() {
  child_->signal(SIGKILL);
  child_->wait_for(std::chrono::seconds(10));
  finish_drain();
}

std::vector<std::string> server_process::lines() const {
  std::lock_guard lock(mutex_);
  return lines_;
}

bool server_process::wait_for_line(const std::function<bool(std::string_view)>& pred,
                                   std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  std::size_t seen = 0;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    for (; seen < lines_.size(); ++seen) {
      if (pred(lines_[seen])) {
        return true;
      }
    }
    if (eof_ || changed_.wait_until(lock, deadline) == std::cv_status::timeout) {
      for (; seen < lines_.size(); ++seen) {
        if (pred(lines_[seen])) {
          return true;
        }
      }
      return false;
    }
  }
}

}  // namespace crud::e2e

#include "support/child_process.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>

extern char** environ;

namespace crud::test_support {
namespace {

// What CONTRACT §1, the AWS credential chain and the Lambda runtime read from the environment.
// Prefixes end in `_`.
constexpr std::array<std::string_view, 14> scrubbed = {"CRUD_",
                                                       "AWS_",
                                                       "PORT",
                                                       "TABLE_NAME",
                                                       "DYNAMODB_ENDPOINT",
                                                       "DELETE_MODE",
                                                       "RATE_LIMIT_",
                                                       "LOG_LEVEL",
                                                       "CORS_ALLOW_ORIGIN",
                                                       "POWERTOOLS_",
                                                       "_HANDLER",
                                                       "_X_AMZN_TRACE_ID",
                                                       "LAMBDA_",
                                                       "_LAMBDA_"};

bool is_scrubbed(std::string_view entry) {
  std::string_view name = entry.substr(0, entry.find('='));
  for (std::string_view s : scrubbed) {
    if (s.back() == '_' ? name.starts_with(s) : name == s)
      return true;
  }
  return false;
}

void make_pipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
}

void close_fd(int& fd) {
  if (fd >= 0)
    ::close(fd);
  fd = -1;
}

// execve() takes a path; helper servers are named as on a command line. Looked up before fork,
// since after it only async-signal-safe calls are allowed.
std::filesystem::path resolve(const std::filesystem::path& executable) {
  if (executable.string().find('/') != std::string::npos)
    return executable;
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    const auto colon = dirs.find(':');
    const auto dir = dirs.substr(0, colon);
    dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
    const auto candidate = std::filesystem::path(dir.empty() ? "." : dir) / executable;
    if (::access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  throw std::runtime_error(executable.string() + " is not on PATH");
}

int decode_status(int status) {
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::filesystem::path crud_api_binary() {
  return CRUD_API_BINARY;
}

struct child_process::pipes {
  mutable std::mutex mutex;
  std::string out;
  std::string err;
  std::thread out_reader;
  std::thread err_reader;
  std::thread in_writer;

  void join() {
    for (std::thread* t : {&out_reader, &err_reader, &in_writer}) {
      if (t->joinable())
        t->join();
    }
  }

  void read_into(int fd, std::string pipes::*target) {
    char buf[8192];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      std::lock_guard lock(mutex);
      (this->*target).append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
  }
};

child_process::child_process(const spawn_options& opts) : io_(std::make_unique<pipes>()) {
  if (opts.stderr_to == output::pipe)
    throw std::invalid_argument("child_process: only stdout can be a pipe");
  // A child that exits before reading all of its stdin must not kill the test with SIGPIPE.
  static std::once_flag ignore_sigpipe;
  std::call_once(ignore_sigpipe, [] { std::signal(SIGPIPE, SIG_IGN); });

  // Everything the child needs is built before fork: after it, only async-signal-safe calls.
  std::vector<std::string> argv_strings{resolve(opts.executable).string()};
  argv_strings.insert(argv_strings.end(), opts.args.begin(), opts.args.end());
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!is_scrubbed(*e))
      env_strings.emplace_back(*e);
  }
  for (const auto& [name, value] : opts.env) {
    // A later override of the same name replaces an earlier one.
    std::erase_if(env_strings, [&](const std::string& e) { return e.starts_with(name + "="); });
    env_strings.push_back(name + "=" + value);
  }
  auto pointers = [](std::vector<std::string>& strings) {
    std::vector<char*> out;
    for (auto& s : strings)
      out.push_back(s.data());
    out.push_back(nullptr);
    return out;
  };
  std::vector<char*> argv = pointers(argv_strings);
  std::vector<char*> envp = pointers(env_strings);

  int in[2] = {-1, -1};
  int out[2] = {-1, -1};
  int err[2] = {-1, -1};
  if (opts.stdin_text) {
    make_pipe(in);
  } else {
    in[0] = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
  auto target = [](output to, int fds[2]) {
    if (to == output::collect || to == output::pipe) {
      make_pipe(fds);
    } else if (to == output::discard) {
      fds[1] = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    }
  };
  target(opts.stdout_to, out);
  target(opts.stderr_to, err);
  const pid_t parent = ::getpid();

  pid_ = ::fork();
  if (pid_ < 0)
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid_ == 0) {
    // If the test dies, its children go too: no server or runtime loop outlives a crash.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent)
      ::_exit(127);
    if (::dup2(in[0], 0) < 0 || (out[1] >= 0 && ::dup2(out[1], 1) < 0) ||
        (err[1] >= 0 && ::dup2(err[1], 2) < 0))
      ::_exit(127);
    // Sockets the test's other threads hold (Asio's are not close-on-exec) must not live on in
    // the child.
    ::close_range(3, ~0U, 0);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  close_fd(in[0]);
  close_fd(out[1]);
  close_fd(err[1]);
  pipes* p = io_.get();
  if (opts.stdout_to == output::collect)
    p->out_reader = std::thread([p, fd = out[0]] { p->read_into(fd, &pipes::out); });
  else if (opts.stdout_to == output::pipe)
    stdout_fd_ = out[0];
  if (opts.stderr_to == output::collect)
    p->err_reader = std::thread([p, fd = err[0]] { p->read_into(fd, &pipes::err); });
  if (opts.stdin_text) {
    p->in_writer = std::thread([fd = in[1], text = *opts.stdin_text] {
      std::size_t done = 0;
      while (done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR)
          continue;
        if (n <= 0)
          break;  // the child closed its stdin: it has read what it wants
        done += static_cast<std::size_t>(n);
      }
      ::close(fd);
    });
  }
}

child_process::~child_process() {
  if (!status_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int st = 0;
    while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
  }
  io_->join();
  close_fd(stdout_fd_);
}

void child_process::signal(int sig) const {
  if (!status_ && pid_ > 0)
    ::kill(pid_, sig);
}

std::optional<int> child_process::wait_for(std::chrono::milliseconds timeout) {
  if (status_)
    return status_;
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      status_ = decode_status(st);
      // The pipes reach end of file now that the only writer is gone.
      io_->join();
      return status_;
    }
    if (r < 0 && errno != EINTR)
      throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
    if (std::chrono::steady_clock::now() >= until)
      return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string child_process::stdout_text() const {
  std::lock_guard lock(io_->mutex);
  return io_->out;
}

std::string child_process::stderr_text() const {
  std::lock_guard lock(io_->mutex);
  return io_->err;
}

run_result run_to_end(spawn_options opts, std::chrono::milliseconds timeout) {
  opts.stdout_to = output::collect;
  opts.stderr_to = output::collect;
  child_process child(opts);
  run_result r;
  r.exit_code = child.wait_for(timeout);
  if (!r.exit_code) {
    child.signal(SIGKILL);
    child.wait_for(std::chrono::seconds(10));
  }
  r.out = child.stdout_text();
  r.err = child.stderr_text();
  return r;
}

run_result run_crud_api(const std::vector<std::string>& args, const env_list& env,
                        std::chrono::milliseconds timeout) {
  spawn_options opts;
  opts.args = args;
  opts.env = env;
  return run_to_end(std::move(opts), timeout);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty())
      lines.push_back(line);
  }
  return lines;
}

std::optional<long> resident_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmRSS:")) {
      try {
        return std::stol(line.substr(6));
      } catch (const std::exception&) {
        return std::nullopt;
      }
    }
  }
  return std::nullopt;
}

}  // namespace crud::test_support

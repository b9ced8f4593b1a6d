#include "support/dynamodb_engine.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace crud::test_support {
namespace {

using namespace std::chrono_literals;

// moto_server imports its DynamoDB backend on the first request, and both engines start slowly
// on a machine busy with other tests.
constexpr auto ready_timeout = 60s;

std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// The status of a ListTables call, with a signature both engines accept (they check that a
// request is signed, not the signature); 0 when nothing answered within a few seconds.
unsigned list_tables_status(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return 0;
  timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  unsigned status = 0;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string request =
        "POST / HTTP/1.1\r\n"
        "Host: 127.0.0.1:" +
        std::to_string(port) +
        "\r\n"
        "Content-Type: application/x-amz-json-1.0\r\n"
        "X-Amz-Target: DynamoDB_20120810.ListTables\r\n"
        "X-Amz-Date: 20260101T000000Z\r\n"
        "Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/"
        "aws4_request, SignedHeaders=host;x-amz-date, Signature=00\r\n"
        "Content-Length: 2\r\n"
        "Connection: close\r\n\r\n{}";
    std::string response;
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      char buf[4096];
      for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
        response.append(buf, static_cast<std::size_t>(n));
    }
    // "HTTP/1.1 200 OK"
    if (response.starts_with("HTTP/1.") && response.size() > 12)
      status = static_cast<unsigned>(std::atoi(response.c_str() + 9));
  }
  ::close(fd);
  return status;
}

// The inode of the socket listening on 127.0.0.1:port, from /proc/net/tcp; 0 when none is.
unsigned long listener_inode(std::uint16_t port) {
  std::ifstream tcp("/proc/net/tcp");
  std::string line;
  std::getline(tcp, line);  // the header
  char wanted[16];
  std::snprintf(wanted, sizeof wanted, "0100007F:%04X", static_cast<unsigned>(port));
  while (std::getline(tcp, line)) {
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
    std::istringstream fields(line);
    std::string sl, local, remote, state, queues, timer, retransmits, uid, timeout;
    unsigned long inode = 0;
    fields >> sl >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >>
        inode;
    if (fields && local == wanted && state == "0A")  // 0A: TCP_LISTEN
      return inode;
  }
  return 0;
}

std::filesystem::path project_root() {
  const char* root = std::getenv("CRUD_SOURCE_DIR");
  return root != nullptr ? std::filesystem::path(root) : std::filesystem::current_path();
}

// The last lines of what the engine said, for an error message.
std::string tail_of(const std::string& text) {
  constexpr std::size_t keep = 2000;
  return text.size() <= keep ? text : "..." + text.substr(text.size() - keep);
}

}  // namespace

bool holds_listener(int pid, std::uint16_t port) {
  const auto inode = listener_inode(port);
  if (inode == 0)
    return false;
  const std::string want = "socket:[" + std::to_string(inode) + "]";
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end;
       !ec && it != end; it.increment(ec)) {
    std::error_code link_ec;
    if (std::filesystem::read_symlink(it->path(), link_ec).string() == want)
      return true;
  }
  return false;
}

std::string_view name_of(dynamodb_engine engine) {
  return engine == dynamodb_engine::moto ? "moto" : "dynalite";
}

dynamodb_engine dynamodb_engine_from_environment() {
  const char* v = std::getenv("CRUD_DYNAMODB_ENGINE");
  const std::string_view name = v != nullptr ? v : "";
  if (name.empty() || name == "dynalite")
    return dynamodb_engine::dynalite;
  if (name == "moto")
    return dynamodb_engine::moto;
  throw std::runtime_error("CRUD_DYNAMODB_ENGINE must be dynalite or moto, not " +
                           std::string(name));
}

dynamodb_engine_process::dynamodb_engine_process(dynamodb_engine_options options)
    : options_(std::move(options)) {
  start();
}

env_list dynamodb_engine_process::crud_env(std::string_view table) const {
  return {{"CRUD_STORE", "dynamodb"},
          {"TABLE_NAME", std::string(table)},
          {"DYNAMODB_ENDPOINT", endpoint()},
          {"AWS_REGION", "us-east-1"},
          {"AWS_ACCESS_KEY_ID", "it"},
          {"AWS_SECRET_ACCESS_KEY", "it-secret"},
          {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"},
          {"AWS_CONFIG_FILE", "/dev/null"}};
}

dynamodb_engine_process::~dynamodb_engine_process() {
  stop();
}

bool dynamodb_engine_process::start() {
  if (child_)
    return true;
  error_.clear();
  const bool fixed_port = options_.port != 0 || port_ != 0;
  if (options_.port != 0)
    port_ = options_.port;
  // A restart on a fixed port may find it briefly held by the old process's sockets; a free
  // port may be taken by someone else before the engine binds it.
  const int max_tries = options_.start_tries > 0 ? options_.start_tries : fixed_port ? 50 : 3;
  for (int tries = 0; tries < max_tries && !child_; ++tries) {
    if (!fixed_port)
      port_ = free_port();
    if (port_ == 0)
      continue;
    if (!spawn())
      return false;
    if (wait_until_ready())
      return true;
    kill();
    if (fixed_port)
      std::this_thread::sleep_for(100ms);
  }
  if (error_.empty())
    error_ = std::string(name_of(options_.engine)) + " did not start answering";
  return false;
}

bool dynamodb_engine_process::spawn() {
  spawn_options opts;
  const std::string port = std::to_string(port_);
  if (options_.engine == dynamodb_engine::moto) {
    const char* override_path = std::getenv("CRUD_MOTO_SERVER");
    opts.executable = override_path != nullptr && *override_path ? override_path : "moto_server";
    opts.args = {"-H", "127.0.0.1", "-p", port};
  } else {
    const auto cli = project_root() / "node_modules" / "dynalite" / "cli.js";
    if (!std::filesystem::exists(cli)) {
      error_ = cli.string() + " is missing: run `npm ci` in the project root";
      return false;
    }
    opts.executable = "node";
    opts.args = {cli.string(), "--host",          "127.0.0.1", "--port",
                 port,         "--createTableMs", "20",        "--deleteTableMs",
                 "20",         "--updateTableMs", "20"};
    if (!options_.path.empty()) {
      opts.args.push_back("--path");
      opts.args.push_back(options_.path);
    }
  }
  // moto logs every request on stderr; it is kept for the error message of a failed start.
  opts.stdout_to = output::discard;
  opts.stderr_to = output::collect;
  try {
    child_ = std::make_unique<child_process>(opts);
  } catch (const std::exception& e) {
    error_ = std::string("cannot run ") + std::string(name_of(options_.engine)) + ": " + e.what();
    if (options_.engine == dynamodb_engine::moto)
      error_ += " (moto_server comes with Python's moto package, `pip install 'moto[server]'`)";
    return false;
  }
  return true;
}

bool dynamodb_engine_process::wait_until_ready() {
  const auto give_up = std::chrono::steady_clock::now() + ready_timeout;
  while (std::chrono::steady_clock::now() < give_up) {
    if (auto code = child_->wait_for(0ms)) {
      error_ = std::string(name_of(options_.engine)) + " exited at start-up (status " +
               std::to_string(*code) + "): " + tail_of(child_->stderr_text());
      child_.reset();
      return false;
    }
    // A 200 from the port we gave it, whose listener our child holds: it is ours, and it is
    // listening. The answer alone is not enough: another test's engine may have bound the port
    // first while ours, still starting, has yet to fail to; the two tests would then share one
    // engine and see each other's items.
    if (list_tables_status(port_) == 200 && holds_listener(child_->pid(), port_))
      return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

void dynamodb_engine_process::kill() {
  if (!child_)
    return;
  child_->signal(SIGKILL);
  child_->wait_for(10s);
  child_.reset();
}

void dynamodb_engine_process::stop() {
  if (!child_)
    return;
  child_->signal(SIGTERM);
  if (!child_->wait_for(5s))
    child_->signal(SIGKILL);
  // The destructor kills (if need be) and reaps.
  child_.reset();
}

}  // namespace crud::test_support

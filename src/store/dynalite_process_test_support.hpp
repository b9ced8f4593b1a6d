#pragma once
// Test support only: runs dynalite (a DynamoDB-compatible server in Node.js, pinned in the
// project's package-lock.json and installed by `npm ci`) on a loopback port for the lifetime
// of the object, and stops it afterwards. In memory by default; with a LevelDB folder it keeps
// its tables across a kill and a restart on the same port, which the fault tests rely on.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace crud::store::testing {

struct dynalite_options {
  std::uint16_t port = 0;  // 0: a free one
  std::string path;        // LevelDB folder; empty: in memory
};

class dynalite_process {
 public:
  dynalite_process() : dynalite_process(dynalite_options{}) {}
  explicit dynalite_process(dynalite_options options) : options_(std::move(options)) { start(); }
  dynalite_process(const dynalite_process&) = delete;
  dynalite_process& operator=(const dynalite_process&) = delete;
  ~dynalite_process() { stop(); }

  // Starts it again after stop() or kill(), on the same port when it had one.
  bool start() {
    if (pid_ > 0)
      return true;
    error_.clear();
    const char* root_env = std::getenv("CRUD_SOURCE_DIR");
    const std::filesystem::path root = root_env ? root_env : std::filesystem::current_path();
    const auto cli = root / "node_modules" / "dynalite" / "cli.js";
    if (!std::filesystem::exists(cli)) {
      error_ = cli.string() + " is missing: run `npm ci` in the project root";
      return false;
    }
    const bool fixed_port = options_.port != 0 || port_ != 0;
    if (options_.port != 0)
      port_ = options_.port;
    // A restart on a fixed port may find it briefly held by the old process's sockets.
    for (int tries = 0; tries < (fixed_port ? 50 : 3) && pid_ <= 0; ++tries) {
      if (!fixed_port)
        port_ = free_port();
      if (port_ == 0)
        continue;
      if (!spawn(cli.string()))
        return false;
      if (wait_until_listening())
        return true;
      stop();
      if (fixed_port)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (error_.empty())
      error_ = "dynalite did not start listening";
    return false;
  }

  bool running() const { return pid_ > 0; }
  const std::string& error() const { return error_; }
  std::uint16_t port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // A power cut: SIGKILL, then reap.
  void kill() {
    if (pid_ <= 0)
      return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  void stop() {
    if (pid_ <= 0)
      return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 500; ++i) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  static std::uint16_t free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
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

  bool accepts_connections() const {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
      return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port_);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
  }

  bool spawn(const std::string& cli) {
    const std::string port = std::to_string(port_);
    std::vector<std::string> args = {"node",
                                     cli,
                                     "--host",
                                     "127.0.0.1",
                                     "--port",
                                     port,
                                     "--createTableMs",
                                     "20",
                                     "--deleteTableMs",
                                     "20",
                                     "--updateTableMs",
                                     "20"};
    if (!options_.path.empty()) {
      args.push_back("--path");
      args.push_back(options_.path);
    }
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, "node", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      error_ = "cannot run node: " + std::string(std::strerror(rc));
      return false;
    }
    pid_ = pid;
    return true;
  }

  bool wait_until_listening() {
    for (int i = 0; i < 300; ++i) {
      if (accepts_connections())
        return true;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        error_ = "dynalite exited at start-up";
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  dynalite_options options_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::string error_;
};

}  // namespace crud::store::testing

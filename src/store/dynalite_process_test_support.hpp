#pragma once
// Test support only: runs dynalite (a DynamoDB-compatible server in Node.js, pinned in the
// project's package-lock.json and installed by `npm ci`) on a free loopback port for the
// lifetime of the object, in memory, and stops it afterwards.

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
#include <vector>

extern char** environ;

namespace crud::store::testing {

class dynalite_process {
 public:
  dynalite_process() {
    const char* root_env = std::getenv("CRUD_SOURCE_DIR");
    const std::filesystem::path root = root_env ? root_env : std::filesystem::current_path();
    const auto cli = root / "node_modules" / "dynalite" / "cli.js";
    if (!std::filesystem::exists(cli)) {
      error_ = cli.string() + " is missing: run `npm ci` in the project root";
      return;
    }
    for (int tries = 0; tries < 3 && pid_ <= 0; ++tries) {
      port_ = free_port();
      if (port_ == 0)
        continue;
      if (!spawn(cli.string()))
        continue;
      if (wait_until_listening())
        return;
      stop();
    }
    if (error_.empty())
      error_ = "dynalite did not start listening";
  }
  dynalite_process(const dynalite_process&) = delete;
  dynalite_process& operator=(const dynalite_process&) = delete;
  ~dynalite_process() { stop(); }

  bool running() const { return pid_ > 0; }
  const std::string& error() const { return error_; }
  std::uint16_t port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

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

  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::string error_;
};

}  // namespace crud::store::testing

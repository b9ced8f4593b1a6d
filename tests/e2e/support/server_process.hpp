#pragma once
// `crud-api serve` running as a child process on a free loopback port. It starts the binary
// with `--host 127.0.0.1 --port 0 --db DB`, waits for the "listening" log line and takes the
// port from it. A background thread keeps draining stdout (one log line per request: a full
// pipe would stall the server) and keeps every line for tests to inspect.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/child_process.hpp"
#include "support/store_backend.hpp"

namespace crud::e2e {

class server_process {
 public:
  // Throws std::runtime_error when the server exits or stays silent instead of listening.
  server_process(const store_target& store, const std::vector<std::string>& extra_args = {},
                 const env_list& env = {},
                 std::chrono::milliseconds startup_timeout = std::chrono::seconds(30));
  // On the SQLite database `db`.
  explicit server_process(const std::filesystem::path& db,
                          const std::vector<std::string>& extra_args = {}, const env_list& env = {})
      : server_process(sqlite_target(db), extra_args, env) {}
  ~server_process();
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  pid_t pid() const noexcept { return child_->pid(); }

  // SIGTERM, then wait. The exit code (128 + signal if it died of one), or -1 when it had
  // not exited by the timeout and had to be killed.
  int stop(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // SIGKILL, then wait: the crash test's power cut.
  void kill();
  bool exited() const noexcept { return child_->exit_status().has_value(); }

  // A copy of every stdout line so far.
  std::vector<std::string> lines() const;
  // Waits until some stdout line satisfies `pred`; false on timeout or end of output.
  bool wait_for_line(const std::function<bool(std::string_view)>& pred,
                     std::chrono::milliseconds timeout) const;

 private:
  void drain();
  void finish_drain();

  std::unique_ptr<child_process> child_;
  std::uint16_t port_ = 0;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<std::string> lines_;
  bool eof_ = false;
  std::thread reader_;
};

}  // namespace crud::e2e

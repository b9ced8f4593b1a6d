#pragma once
// The built `crud-api` (or a copy of it) as a child process: its stdout and stderr collected on
// background threads, an optional stdin text fed to it, and an environment scrubbed of every
// variable the binary reads, so the developer's shell cannot change what a test sees. Every wait
// is bounded; a child still running when its object goes away is killed and reaped.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace crud::lambda_it {

using env_list = std::vector<std::pair<std::string, std::string>>;

// The binary under test (CRUD_API_BINARY, set by CMake).
std::filesystem::path crud_api_binary();

struct spawn_options {
  std::filesystem::path executable = crud_api_binary();
  std::vector<std::string> args;          // after argv[0], which is `executable`
  env_list env;                           // set over the scrubbed environment
  std::optional<std::string> stdin_text;  // nullopt: stdin is /dev/null
};

class child_process {
 public:
  explicit child_process(const spawn_options& opts);
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const noexcept { return pid_; }
  void signal(int sig) const;

  // The exit code, or 128 + the signal that ended it; nullopt while it still runs at timeout.
  // Once it has a value, the output below is complete.
  std::optional<int> wait_for(std::chrono::milliseconds timeout);

  std::string stdout_text() const;
  std::string stderr_text() const;

 private:
  struct pipes;
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::unique_ptr<pipes> io_;
};

struct run_result {
  std::optional<int> exit_code;  // nullopt: it did not finish in time and was killed
  std::string out;
  std::string err;
};

// Runs the child to completion (killing it after `timeout`).
run_result run_to_end(const spawn_options& opts,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));

// The non-empty lines of `text`.
std::vector<std::string> lines_of(const std::string& text);

// VmRSS of a live process in KiB, from /proc/<pid>/status; nullopt when it cannot be read.
std::optional<long> resident_kib(pid_t pid);

}  // namespace crud::lambda_it

#pragma once
// A child process started from an argv with its stdout (and optionally stderr) on pipes, for
// driving the real `crud-api` binary. The child gets the test's environment minus every
// variable CONTRACT §1 reads, plus the overrides given, so a developer's shell cannot change
// what a test sees. A child still running when its object goes away is killed and reaped.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace crud::e2e {

using env_list = std::vector<std::pair<std::string, std::string>>;

// The binary under test (CRUD_API_BINARY, set by CMake).
std::filesystem::path crud_api_binary();

class child_process {
 public:
  child_process(const std::vector<std::string>& argv, const env_list& env, bool capture_stderr);
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const noexcept { return pid_; }
  int stdout_fd() const noexcept { return stdout_fd_; }
  int stderr_fd() const noexcept { return stderr_fd_; }  // -1 unless captured

  void signal(int sig) const;
  // The exit code, or 128 + the signal that ended it; nullopt while it still runs at timeout.
  std::optional<int> wait_for(std::chrono::milliseconds timeout);
  std::optional<int> exit_status() const noexcept { return status_; }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  std::optional<int> status_;
};

struct run_result {
  int exit_code = -1;  // -1: it did not finish in time and was killed
  std::string out;
  std::string err;
};

// Runs `crud-api ARGS...` to completion, collecting stdout and stderr.
run_result run_crud_api(const std::vector<std::string>& args, const env_list& env = {},
                        std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace crud::e2e

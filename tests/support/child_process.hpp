#pragma once
// A child process for tests: the built `crud-api` (or a copy of it), or a helper server such as
// dynalite or moto_server. Its environment is the test's minus every variable the binary reads
// (CONTRACT §1, the Lambda runtime's, AWS_*), plus the overrides given, so a developer's shell
// cannot change what a test sees. Its stdout and stderr are each collected on a background
// thread, handed to the caller as a pipe, or dropped; stdin is /dev/null or a given text. Every
// wait is bounded, and no child outlives the test: one still running when its object goes away
// is killed and reaped, and one whose test process dies is killed by the kernel
// (PR_SET_PDEATHSIG).

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace crud::test_support {

using env_list = std::vector<std::pair<std::string, std::string>>;

// The binary under test (CRUD_API_BINARY, set by CMake).
std::filesystem::path crud_api_binary();

// Where a child's stdout or stderr goes.
enum class output {
  collect,  // read on a background thread; stdout_text() and stderr_text()
  pipe,     // the caller reads stdout_fd() (stdout only)
  inherit,  // the test's own, so it shows in the test log
  discard,  // /dev/null
};

struct spawn_options {
  // A path, or a bare name looked up on PATH.
  std::filesystem::path executable = crud_api_binary();
  std::vector<std::string> args;          // after argv[0], which is `executable`
  env_list env;                           // set over the scrubbed environment
  std::optional<std::string> stdin_text;  // nullopt: stdin is /dev/null
  output stdout_to = output::collect;
  output stderr_to = output::collect;
};

class child_process {
 public:
  // Throws std::runtime_error when the child cannot be started.
  explicit child_process(const spawn_options& opts);
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const noexcept { return pid_; }
  void signal(int sig) const;

  // The exit code, or 128 + the signal that ended it; nullopt while it still runs at timeout.
  // Once it has a value, the collected output below is complete.
  std::optional<int> wait_for(std::chrono::milliseconds timeout);
  std::optional<int> exit_status() const noexcept { return status_; }

  // With output::pipe, the read end of the child's stdout; -1 otherwise.
  int stdout_fd() const noexcept { return stdout_fd_; }
  std::string stdout_text() const;
  std::string stderr_text() const;

 private:
  struct pipes;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::optional<int> status_;
  std::unique_ptr<pipes> io_;
};

struct run_result {
  std::optional<int> exit_code;  // nullopt: it did not finish in time and was killed
  std::string out;
  std::string err;
};

// Runs the child to completion, collecting stdout and stderr (killing it after `timeout`).
run_result run_to_end(spawn_options opts,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Runs `crud-api ARGS...` to completion.
run_result run_crud_api(const std::vector<std::string>& args, const env_list& env = {},
                        std::chrono::milliseconds timeout = std::chrono::seconds(30));

// The non-empty lines of `text`.
std::vector<std::string> lines_of(const std::string& text);

// VmRSS of a live process in KiB, from /proc/<pid>/status; nullopt when it cannot be read.
std::optional<long> resident_kib(pid_t pid);

}  // namespace crud::test_support

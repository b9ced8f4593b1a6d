#include "support/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

extern char** environ;

namespace crud::e2e {
namespace {

// Everything CONTRACT §1 reads from the environment.
constexpr std::array<std::string_view, 17> contract_variables = {
    "CRUD_HOST",
    "PORT",
    "CRUD_STORE",
    "CRUD_DB",
    "TABLE_NAME",
    "DYNAMODB_ENDPOINT",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "DELETE_MODE",
    "RATE_LIMIT_RPS",
    "RATE_LIMIT_BURST",
    "CORS_ALLOW_ORIGIN",
    "LOG_LEVEL",
    "POWERTOOLS_SERVICE_NAME",
    "AWS_LAMBDA_RUNTIME_API",
    "_HANDLER",
    "POWERTOOLS_METRICS_NAMESPACE",
};

bool is_contract_variable(std::string_view entry) {
  const auto name = entry.substr(0, entry.find('='));
  for (const auto v : contract_variables) {
    if (name == v) {
      return true;
    }
  }
  return false;
}

std::vector<std::string> child_environment(const env_list& overrides) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!is_contract_variable(*e)) {
      env.emplace_back(*e);
    }
  }
  for (const auto& [name, value] : overrides) {
    // A later override of the same name replaces an earlier one.
    std::erase_if(env, [&name](const std::string& e) {
      return e.size() > name.size() && e.compare(0, name.size(), name) == 0 &&
             e[name.size()] == '=';
    });
    env.push_back(name + "=" + value);
  }
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) {
    out.push_back(s.data());
  }
  out.push_back(nullptr);
  return out;
}

void make_pipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  }
}

int decode_status(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return -1;
}

}  // namespace

std::filesystem::path crud_api_binary() {
  return CRUD_API_BINARY;
}

child_process::child_process(const std::vector<std::string>& argv, const env_list& env,
                             bool capture_stderr) {
  // Everything the child needs is built before fork(): after it, only async-signal-safe calls.
  std::vector<std::string> args = argv;
  std::vector<std::string> envs = child_environment(env);
  auto argp = pointers(args);
  auto envp = pointers(envs);

  int out[2];
  int err[2] = {-1, -1};
  make_pipe(out);
  if (capture_stderr) {
    make_pipe(err);
  }
  const int dev_null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t parent = ::getpid();

  pid_ = ::fork();
  if (pid_ < 0) {
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid_ == 0) {
    // A test process that dies must not leave servers behind.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) {
      ::_exit(127);
    }
    ::dup2(dev_null, STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    if (capture_stderr) {
      ::dup2(err[1], STDERR_FILENO);
    }
    // Sockets the test's other threads hold must not live on in the server.
    ::close_range(3, ~0U, 0);
    ::execve(argp[0], argp.data(), envp.data());
    ::_exit(127);
  }
  ::close(dev_null);
  ::close(out[1]);
  stdout_fd_ = out[0];
  if (capture_stderr) {
    ::close(err[1]);
    stderr_fd_ = err[0];
  }
}

child_process::~child_process() {
  if (!status_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (stdout_fd_ >= 0) {
    ::close(stdout_fd_);
  }
  if (stderr_fd_ >= 0) {
    ::close(stderr_fd_);
  }
}

void child_process::signal(int sig) const {
  if (!status_ && pid_ > 0) {
    ::kill(pid_, sig);
  }
}

std::optional<int> child_process::wait_for(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!status_) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      status_ = decode_status(status);
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return status_;
}

run_result run_crud_api(const std::vector<std::string>& args, const env_list& env,
                        std::chrono::milliseconds timeout) {
  std::vector<std::string> argv{crud_api_binary().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  child_process child(argv, env, true);

  run_result result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::array<pollfd, 2> fds{pollfd{child.stdout_fd(), POLLIN, 0},
                            pollfd{child.stderr_fd(), POLLIN, 0}};
  std::array<std::string*, 2> sinks{&result.out, &result.err};
  int open_pipes = 2;
  while (open_pipes > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      break;
    }
    if (::poll(fds.data(), fds.size(), static_cast<int>(left.count())) < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
        continue;
      }
      char buf[4096];
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open_pipes;
      }
    }
  }
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (auto code = child.wait_for(std::max(left, std::chrono::milliseconds(0)))) {
    result.exit_code = *code;
  }
  return result;
}

}  // namespace crud::e2e

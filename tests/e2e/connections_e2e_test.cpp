// `crud-api serve` against connection exhaustion: one client holding idle sockets (slowloris),
// a descriptor limit it cannot raise, and accept failing for want of descriptors. These tests
// do not touch the store, so they run on SQLite only.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace crud::e2e {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// A client socket, closed with the object.
class socket_fd {
 public:
  socket_fd() = default;
  explicit socket_fd(int fd) : fd_(fd) {}
  socket_fd(socket_fd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  socket_fd& operator=(socket_fd&&) = delete;
  socket_fd(const socket_fd&) = delete;
  socket_fd& operator=(const socket_fd&) = delete;
  ~socket_fd() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_ = -1;
};

// A TCP connection from `source` (any of 127/8 reaches loopback on Linux) to 127.0.0.1:port;
// an invalid socket when it cannot be made.
socket_fd connect_from(const char* source, std::uint16_t port) {
  socket_fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (s.get() < 0)
    return {};
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, source, &local.sin_addr);
  if (::bind(s.get(), reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0)
    return {};
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &server.sin_addr);
  if (::connect(s.get(), reinterpret_cast<const sockaddr*>(&server), sizeof server) != 0)
    return {};
  return s;
}

// True when the server has closed (or reset) the connection; false while it is open.
bool closed_by_server(const socket_fd& s) {
  char byte = 0;
  const ssize_t n = ::recv(s.get(), &byte, 1, MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

// GET /health from `source`, with everything (connect included) within `budget`: the status,
// or 0 when no status line came in time.
int health_from(const char* source, std::uint16_t port, std::chrono::milliseconds budget) {
  const auto until = clock_type::now() + budget;
  socket_fd s = connect_from(source, port);
  if (s.get() < 0)
    return 0;
  const std::string request = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  if (::send(s.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size()))
    return 0;
  std::string got;
  while (got.find("\r\n") == std::string::npos) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(until - clock_type::now());
    if (left.count() <= 0)
      return 0;
    pollfd p{s.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      return 0;
    char buf[512];
    const ssize_t n = ::recv(s.get(), buf, sizeof buf, 0);
    if (n <= 0)
      return 0;
    got.append(buf, static_cast<std::size_t>(n));
  }
  // "HTTP/1.1 200 OK"
  return got.size() > 12 ? std::stoi(got.substr(9, 3)) : 0;
}

// The test's own soft descriptor limit raised to at least `wanted` (within the hard limit).
bool allow_descriptors(rlim_t wanted) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0)
    return false;
  if (limit.rlim_cur >= wanted)
    return true;
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < wanted)
    return false;
  limit.rlim_cur = wanted;
  return ::setrlimit(RLIMIT_NOFILE, &limit) == 0;
}

// Sets another process's descriptor limit, soft and hard, as `prlimit --nofile` would.
bool limit_descriptors(pid_t pid, rlim_t soft, rlim_t hard) {
  const rlimit limit{soft, hard};
  return ::prlimit(pid, RLIMIT_NOFILE, &limit, nullptr) == 0;
}

std::size_t open_descriptors(pid_t pid) {
  std::size_t n = 0;
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end;
       !ec && it != end; it.increment(ec))
    ++n;
  return n;
}

// Waits until the server's descriptor count has held still for a moment (it has dealt with the
// connections just made), at most a few seconds.
void wait_until_settled(pid_t pid) {
  std::size_t last = open_descriptors(pid);
  auto still_since = clock_type::now();
  const auto give_up = clock_type::now() + 5s;
  while (clock_type::now() < give_up && clock_type::now() - still_since < 300ms) {
    std::this_thread::sleep_for(20ms);
    const std::size_t now = open_descriptors(pid);
    if (now != last) {
      last = now;
      still_since = clock_type::now();
    }
  }
}

// User plus system CPU time of a process, from /proc/<pid>/stat, in clock ticks.
long cpu_ticks(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto paren = text.rfind(')');
  if (paren == std::string::npos)
    return -1;
  std::istringstream fields(text.substr(paren + 2));
  std::string field;
  long utime = 0;
  long stime = 0;
  // After "pid (comm) ": state is field 3; utime and stime are fields 14 and 15.
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14)
      utime = std::stol(field);
    if (i == 15)
      stime = std::stol(field);
  }
  return utime + stime;
}

TEST(ServeConnectionsE2e, IdleSocketsFromOneAddressLeaveRoomForAnother) {
  constexpr int idle_sockets = 1100;
  constexpr std::size_t per_client_cap = 256;  // the default
  ASSERT_TRUE(allow_descriptors(idle_sockets + 200)) << "the test needs 1300 descriptors";
  temp_dir dir;
  server_process server(dir.path() / "items.db");
  // The descriptor limit many systems start a process with, which it cannot raise: without a
  // cap of its own, one client could take every descriptor.
  ASSERT_TRUE(limit_descriptors(server.pid(), 1024, 1024));

  std::vector<socket_fd> held;
  for (int i = 0; i < idle_sockets; ++i) {
    held.push_back(connect_from("127.0.0.1", server.port()));
    ASSERT_GE(held.back().get(), 0) << "connection " << i << ": " << std::strerror(errno);
  }
  wait_until_settled(server.pid());

  const auto start = clock_type::now();
  EXPECT_EQ(health_from("127.0.0.2", server.port(), 1s), 200);
  EXPECT_LT(clock_type::now() - start, 1s);

  std::size_t still_open = 0;
  for (const auto& s : held)
    still_open += closed_by_server(s) ? 0 : 1;
  EXPECT_EQ(still_open, per_client_cap);
}

TEST(ServeConnectionsE2e, RaisesItsDescriptorLimitToTheHardLimit) {
  rlimit mine{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &mine), 0);
  if (mine.rlim_max != RLIM_INFINITY && mine.rlim_max <= 256) {
    if (std::getenv("CRUD_REQUIRE_ALL_TESTS") != nullptr)
      FAIL() << "the hard limit is too low to tell, and CRUD_REQUIRE_ALL_TESTS forbids skipping";
    GTEST_SKIP() << "the hard limit is too low to tell";
  }
  // Started with a soft limit of 256 (children inherit it), the test's own put back after.
  rlimit low = mine;
  low.rlim_cur = 256;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  temp_dir dir;
  std::unique_ptr<server_process> server;
  try {
    server = std::make_unique<server_process>(dir.path() / "items.db");
  } catch (...) {
  }
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &mine), 0);
  ASSERT_TRUE(server);

  rlimit now{};
  ASSERT_EQ(::prlimit(server->pid(), RLIMIT_NOFILE, nullptr, &now), 0);
  EXPECT_EQ(now.rlim_cur, now.rlim_max);
  EXPECT_GT(now.rlim_cur, 256u);
  // The listening line says what it got.
  const std::string said = "\"openFilesLimit\":" + std::to_string(now.rlim_cur);
  bool logged = false;
  for (const auto& line : server->lines())
    logged = logged || line.find(said) != std::string::npos;
  EXPECT_TRUE(logged) << said;
}

TEST(ServeConnectionsE2e, OutOfDescriptorsItBacksOffThenServesAgain) {
  temp_dir dir;
  server_process server(dir.path() / "items.db");
  ASSERT_EQ(health_from("127.0.0.1", server.port(), 5s), 200);
  // Room for a few connections only, so that accept fails for want of descriptors.
  const rlim_t room = open_descriptors(server.pid()) + 8;
  ASSERT_TRUE(limit_descriptors(server.pid(), room, room));

  std::vector<socket_fd> held;
  for (int i = 0; i < 40; ++i) {
    held.push_back(connect_from("127.0.0.1", server.port()));
    ASSERT_GE(held.back().get(), 0);
  }
  wait_until_settled(server.pid());
  ASSERT_GE(open_descriptors(server.pid()), room - 1) << "the server should be out of descriptors";

  // The connections it could not accept wait in the backlog, keeping the listener ready. A
  // server that retried at once would burn a core for all of this.
  const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
  const long before = cpu_ticks(server.pid());
  std::this_thread::sleep_for(2s);
  const long used = cpu_ticks(server.pid()) - before;
  EXPECT_LT(used, ticks_per_second / 4) << "CPU ticks used in 2 s while out of descriptors";

  // Once the sockets go, the server accepts (and drops) the ones that waited, and serves again.
  held.clear();
  const auto start = clock_type::now();
  int status = 0;
  while (status != 200 && clock_type::now() - start < 5s)
    status = health_from("127.0.0.2", server.port(), 2s);
  EXPECT_EQ(status, 200);
  EXPECT_LT(clock_type::now() - start, 3s);
  EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace crud::e2e

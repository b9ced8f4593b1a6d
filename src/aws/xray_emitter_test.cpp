#include "aws/xray_emitter.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <string>

namespace crud::aws {
namespace {

TEST(XrayEmitter, ParsesAHostAndPort) {
  auto a = parse_daemon_address("169.254.79.129:2000");
  ASSERT_TRUE(a.has_value()) << a.error();
  EXPECT_EQ(a->host, "169.254.79.129");
  EXPECT_EQ(a->port, 2000);
}

TEST(XrayEmitter, TakesTheUdpOneOfTcpAndUdp) {
  for (const char* text : {"tcp:127.0.0.1:2000 udp:127.0.0.2:2001",
                           "udp:127.0.0.2:2001 tcp:127.0.0.1:2000", "udp:127.0.0.2:2001"}) {
    auto a = parse_daemon_address(text);
    ASSERT_TRUE(a.has_value()) << text << ": " << a.error();
    EXPECT_EQ(a->host, "127.0.0.2") << text;
    EXPECT_EQ(a->port, 2001) << text;
  }
}

TEST(XrayEmitter, RejectsWhatIsNotAnAddress) {
  for (const char* text : {"", "   ", "localhost", ":2000", "host:", "host:0", "host:65536",
                           "host:20x0", "tcp:127.0.0.1:2000", "http:127.0.0.1:2000 udp:h:1"}) {
    auto a = parse_daemon_address(text);
    EXPECT_FALSE(a.has_value()) << "'" << text << "'";
    if (!a.has_value()) {
      EXPECT_FALSE(a.error().empty());
    }
  }
}

TEST(XrayEmitter, SendsEachDatagramToTheDaemon) {
  int listener = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);

  auto emitter = make_udp_xray_emitter({"127.0.0.1", ntohs(addr.sin_port)});
  ASSERT_TRUE(emitter.has_value()) << emitter.error();
  (*emitter)->emit("first");
  (*emitter)->emit("second datagram");

  for (const char* expected : {"first", "second datagram"}) {
    pollfd p{listener, POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 5000), 1) << "no datagram arrived";
    std::array<char, 256> buf{};
    ssize_t n = ::recv(listener, buf.data(), buf.size(), 0);
    ASSERT_GT(n, 0);
    EXPECT_EQ(std::string(buf.data(), static_cast<std::size_t>(n)), expected);
  }
  ::close(listener);
}

TEST(XrayEmitter, SendingToNobodyIsHarmless) {
  // A port nothing listens on: the datagram is dropped, and later ones too, without a fuss.
  int probe = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(probe, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(probe, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(probe);
  auto emitter = make_udp_xray_emitter({"127.0.0.1", ntohs(addr.sin_port)});
  ASSERT_TRUE(emitter.has_value()) << emitter.error();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i)
    (*emitter)->emit("lost");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1)) << "emit blocked";
  // The refusals (ICMP port unreachable, reported on the next send) did not break the emitter:
  // once a daemon listens there, the next datagram reaches it.
  int daemon = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(daemon, 0);
  ASSERT_EQ(::bind(daemon, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  (*emitter)->emit("found");
  pollfd p{daemon, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1) << "no datagram arrived after the refusals";
  std::array<char, 64> buf{};
  const ssize_t n = ::recv(daemon, buf.data(), buf.size(), 0);
  ::close(daemon);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf.data(), static_cast<std::size_t>(n)), "found");
}

TEST(XrayEmitter, FailsOnAHostThatDoesNotResolve) {
  auto emitter = make_udp_xray_emitter({"no-such-host.invalid", 2000});
  ASSERT_FALSE(emitter.has_value());
  EXPECT_NE(emitter.error().find("no-such-host.invalid"), std::string::npos) << emitter.error();
}

}  // namespace
}  // namespace crud::aws

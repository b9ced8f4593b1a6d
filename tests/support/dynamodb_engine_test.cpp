#include "support/dynamodb_engine.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace crud::test_support {
namespace {

// A socket of this process listening on a free loopback port; closed with the object.
class listening_socket {
 public:
  listening_socket() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::listen(fd_, 1) == 0 && ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
      port_ = ntohs(addr.sin_port);
  }
  listening_socket(const listening_socket&) = delete;
  listening_socket& operator=(const listening_socket&) = delete;
  ~listening_socket() { close(); }

  void close() {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = -1;
  }
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

TEST(HoldsListener, OnlyTheProcessWhoseSocketListensOnThePort) {
  listening_socket socket;
  ASSERT_NE(socket.port(), 0);
  EXPECT_TRUE(holds_listener(::getpid(), socket.port()));
  EXPECT_FALSE(holds_listener(::getppid(), socket.port())) << "ctest's, not ours";
  EXPECT_FALSE(holds_listener(::getpid(), static_cast<std::uint16_t>(socket.port() + 1)));
  socket.close();
  EXPECT_FALSE(holds_listener(::getpid(), socket.port()));
}

// Two tests once shared one dynalite: the second's engine had not yet failed to bind the port
// the first's already answered on, and the answer passed for its own.
TEST(DynamodbEngine, NeverTakesAnotherEnginesAnswerForItsOwn) {
  dynamodb_engine_process first;
  ASSERT_TRUE(first.running()) << first.error();
  dynamodb_engine_options same_port;
  same_port.port = first.port();
  same_port.start_tries = 1;
  dynamodb_engine_process second(same_port);
  EXPECT_FALSE(second.running()) << "it claimed the first engine's port";
  EXPECT_NE(second.error().find("exited at start-up"), std::string::npos) << second.error();
}

}  // namespace
}  // namespace crud::test_support

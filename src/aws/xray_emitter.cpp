#include "aws/xray_emitter.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <system_error>
#include <vector>

namespace crud::aws {
namespace {

using address_result = boost::system::result<daemon_address, std::string>;

// Built by appending: GCC 12 misreports `"'" + std::string` under -Wrestrict.
std::string quoted(std::string_view text) {
  std::string q;
  q.reserve(text.size() + 2);
  q.push_back('\'');
  q.append(text);
  q.push_back('\'');
  return q;
}

// daemon_address is constructible from a string too (C++20 aggregates), so say which.
address_result fail(std::string reason) {
  return address_result(boost::system::in_place_error, std::move(reason));
}

boost::system::result<daemon_address, std::string> parse_host_port(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0)
    return fail(quoted(text) + " is not host:port");
  daemon_address a;
  a.host = std::string(text.substr(0, colon));
  const std::string_view port = text.substr(colon + 1);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535)
    return fail(quoted(text) + " has no valid port");
  a.port = static_cast<std::uint16_t>(value);
  return a;
}

class udp_emitter final : public xray_emitter {
 public:
  udp_emitter(int fd, const sockaddr* address, socklen_t length) : fd_(fd), length_(length) {
    std::memcpy(&address_, address, length);
  }
  ~udp_emitter() override { ::close(fd_); }
  udp_emitter(const udp_emitter&) = delete;
  udp_emitter& operator=(const udp_emitter&) = delete;

  void emit(std::string_view datagram) noexcept override {
    // Non-blocking and unchecked: a full socket buffer or an absent daemon drops the trace.
    (void)::sendto(fd_, datagram.data(), datagram.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
                   reinterpret_cast<const sockaddr*>(&address_), length_);
  }

 private:
  int fd_;
  sockaddr_storage address_{};  // the daemon, as resolved at start-up
  socklen_t length_;
};

}  // namespace

boost::system::result<daemon_address, std::string> parse_daemon_address(std::string_view text) {
  std::vector<std::string_view> parts;
  while (!text.empty()) {
    const auto space = text.find_first_of(" \t");
    if (space != 0)
      parts.push_back(text.substr(0, space));
    text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
  }
  if (parts.empty())
    return fail("is empty");
  if (parts.size() == 1 && parts[0].substr(0, 4) != "udp:" && parts[0].substr(0, 4) != "tcp:")
    return parse_host_port(parts[0]);
  for (std::string_view p : parts) {
    if (p.substr(0, 4) == "udp:")
      return parse_host_port(p.substr(4));
    if (p.substr(0, 4) != "tcp:")
      return fail(quoted(p) + " is neither tcp:host:port nor udp:host:port");
  }
  return fail("names no udp:host:port");
}

boost::system::result<std::unique_ptr<xray_emitter>, std::string> make_udp_xray_emitter(
    const daemon_address& address) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(address.port);
  if (int rc = ::getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found); rc != 0)
    return "cannot resolve " + address.host + ": " + ::gai_strerror(rc);
  std::string failure = "no address for " + address.host;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    int fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      failure =
          std::string("cannot open a UDP socket: ").append(std::system_category().message(errno));
      continue;
    }
    if (ai->ai_addrlen > sizeof(sockaddr_storage)) {
      ::close(fd);
      continue;
    }
    auto emitter = std::make_unique<udp_emitter>(fd, ai->ai_addr, ai->ai_addrlen);
    ::freeaddrinfo(found);
    return std::unique_ptr<xray_emitter>(std::move(emitter));
  }
  ::freeaddrinfo(found);
  return failure;
}

}  // namespace crud::aws

#pragma once
// Sending documents to the X-Ray daemon, fire and forget. The daemon listens on UDP (Lambda
// runs one beside every function and names it in AWS_XRAY_DAEMON_ADDRESS); a lost datagram
// costs a trace, never a request, so sending neither blocks nor reports failure.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <boost/system/result.hpp>

namespace crud::aws {

struct daemon_address {
  std::string host;
  std::uint16_t port = 2000;
};

// AWS_XRAY_DAEMON_ADDRESS: "host:port", or "tcp:host:port udp:host:port" (either order), of
// which the UDP one is taken. The error says what is wrong.
boost::system::result<daemon_address, std::string> parse_daemon_address(std::string_view text);

class xray_emitter {
 public:
  virtual ~xray_emitter() = default;
  // Sends one datagram, or drops it.
  virtual void emit(std::string_view datagram) noexcept = 0;
};

// A non-blocking UDP socket aimed at the daemon. Fails when the host does not resolve or no
// socket can be opened.
boost::system::result<std::unique_ptr<xray_emitter>, std::string> make_udp_xray_emitter(
    const daemon_address& address);

}  // namespace crud::aws

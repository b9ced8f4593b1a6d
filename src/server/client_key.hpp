#pragma once
// Who a connection comes from, as the server counts clients: the peer's address, an IPv4
// address mapped into IPv6 as plain IPv4, and an IPv6 address by its /64, which is what one
// subscriber typically gets, so that one host cannot dodge a limit by rotating addresses. The
// rate limit and the per-client connection cap both key on it. The peer address is used rather
// than X-Forwarded-For, which any client can forge.

#include <string>

#include <boost/asio/ip/address.hpp>

namespace crud::server {

std::string client_key(const boost::asio::ip::address& address);

}  // namespace crud::server

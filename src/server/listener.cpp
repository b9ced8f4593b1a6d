#include "server/listener.hpp"

#include <algorithm>
#include <chrono>
#include <string_view>
#include <utility>

#include <boost/asio/strand.hpp>

#include "server/client_key.hpp"
#include "server/http_session.hpp"
#include "server/server_state.hpp"

namespace crud::server {
namespace asio = boost::asio;
using tcp = boost::asio::ip::tcp;

namespace {

// The pause after a failed accept doubles from the first to the last, and starts again from
// the first once an accept succeeds.
constexpr std::chrono::milliseconds min_retry_delay{50};
constexpr std::chrono::milliseconds max_retry_delay{500};

}  // namespace

listener::listener(const control_executor& control, std::vector<asio::io_context*> workers,
                   server_state& state)
    : workers_(std::move(workers)), acceptor_(control), retry_timer_(control), state_(state) {}

boost::system::result<std::uint16_t, std::string> listener::open(const std::string& host,
                                                                 std::uint16_t port) {
  const std::string where = host + ":" + std::to_string(port);
  auto fail = [&](const boost::system::error_code& ec) {
    return "cannot listen on " + where + ": " + ec.message();
  };
  // "[::1]", as IPv6 literals are written in URLs, is the address "::1".
  std::string_view name = host;
  if (name.size() > 2 && name.front() == '[' && name.back() == ']') {
    name = name.substr(1, name.size() - 2);
  }
  boost::system::error_code ec;
  tcp::endpoint endpoint;
  const auto address = asio::ip::make_address(name, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, port);
  } else {
    // A host name such as "localhost": listen on its first address.
    tcp::resolver resolver(acceptor_.get_executor());
    const auto results = resolver.resolve(name, std::to_string(port), tcp::resolver::passive, ec);
    if (ec)
      return fail(ec);
    if (results.empty())
      return fail(asio::error::host_not_found);
    endpoint = results.begin()->endpoint();
  }

  acceptor_.open(endpoint.protocol(), ec);
  if (ec)
    return fail(ec);
  // Lets a restarted server bind while old connections sit in TIME_WAIT.
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec)
    return fail(ec);
  acceptor_.bind(endpoint, ec);
  if (ec)
    return fail(ec);
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return fail(ec);
  const auto local = acceptor_.local_endpoint(ec);
  if (ec)
    return fail(ec);
  return local.port();
}

void listener::start() {
  asio::dispatch(acceptor_.get_executor(), [self = shared_from_this()] { self->do_accept(); });
}

void listener::stop() {
  stopped_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  retry_timer_.cancel();
}

void listener::do_accept() {
  if (stopped_ || !acceptor_.is_open())
    return;
  asio::io_context& worker = *workers_[next_worker_];
  next_worker_ = (next_worker_ + 1) % workers_.size();
  acceptor_.async_accept(
      worker.get_executor(),
      [self = shared_from_this()](boost::system::error_code ec, session_socket socket) {
        self->on_accept(ec, std::move(socket));
      });
}

void listener::on_accept(boost::system::error_code ec, session_socket socket) {
  if (stopped_ || ec == asio::error::operation_aborted)
    return;
  if (ec) {
    // Out of descriptors or memory, say. The pending connection keeps the acceptor ready, so
    // accepting again at once would spin: pause, longer each time in a row, and try again once
    // sessions have ended and given descriptors back.
    retry_delay_ =
        retry_delay_.count() == 0 ? min_retry_delay : std::min(retry_delay_ * 2, max_retry_delay);
    retry_timer_.expires_after(retry_delay_);
    retry_timer_.async_wait([self = shared_from_this()](boost::system::error_code wait_ec) {
      if (!wait_ec)
        self->do_accept();
    });
    return;
  }
  retry_delay_ = {};
  std::string client;
  try {
    boost::system::error_code peer_ec;
    const auto peer = socket.remote_endpoint(peer_ec);
    if (!peer_ec)
      client = client_key(peer.address());
  } catch (...) {
    client.clear();  // out of memory: refused below like a connection that has gone
  }
  if (client.empty() || state_.stopping() || !state_.try_open_connection(client)) {
    boost::system::error_code ignored;
    socket.close(ignored);
  } else {
    std::shared_ptr<http_session> session;
    try {
      session = std::make_shared<http_session>(std::move(socket), state_, client);
    } catch (...) {
      state_.close_connection(client);  // no session took the count over
    }
    try {
      if (session)
        session->start();
    } catch (...) {
      // Out of memory: the session's destructor closes the socket and returns the count.
    }
  }
  do_accept();
}

}  // namespace crud::server

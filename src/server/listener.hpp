#pragma once
// Accepts connections and starts a session for each, each on a strand of its own so that
// sessions spread over all I/O threads. Past the connection cap a new connection is accepted
// and closed at once, which costs less than letting it wait in the backlog.

#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/system/result.hpp>

namespace crud::server {

class server_state;

class listener : public std::enable_shared_from_this<listener> {
 public:
  using control_executor = boost::asio::strand<boost::asio::io_context::executor_type>;

  // The acceptor's handlers run on `control`, the executor shutdown also uses.
  listener(boost::asio::io_context& ioc, control_executor control, server_state& state);

  // Resolves, binds and listens; the error is the one-line reason.
  boost::system::result<std::uint16_t, std::string> open(const std::string& host,
                                                         std::uint16_t port);
  void start();
  // Stops accepting. Call on the control executor.
  void stop();

 private:
  void do_accept();
  void on_accept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  server_state& state_;
  bool stopped_ = false;
};

}  // namespace crud::server

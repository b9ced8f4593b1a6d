#pragma once
// Accepts connections and starts a session for each. Each I/O thread runs an io_context of
// its own, and new connections go to them in turn: a session lives on one thread, so its
// handlers need no strand and never wake another thread. Past the connection cap, in all or
// for its client, a new connection is accepted and closed at once, which costs less than
// letting it wait in the backlog. When accepting fails (no descriptors left), the listener
// pauses and tries again rather than spin.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/system/result.hpp>

#include "server/http_session.hpp"

namespace crud::server {

class server_state;

class listener : public std::enable_shared_from_this<listener> {
 public:
  using control_executor = boost::asio::strand<boost::asio::io_context::executor_type>;

  // The acceptor's handlers run on `control`, the executor shutdown also uses. Sessions go to
  // `workers` in turn; each must be run by one thread only, and all must outlive the sessions.
  listener(const control_executor& control, std::vector<boost::asio::io_context*> workers,
           server_state& state);

  // Resolves, binds and listens; the error is the one-line reason.
  boost::system::result<std::uint16_t, std::string> open(const std::string& host,
                                                         std::uint16_t port);
  void start();
  // Stops accepting. Call on the control executor.
  void stop();

 private:
  void do_accept();
  void on_accept(boost::system::error_code ec, session_socket socket);

  std::vector<boost::asio::io_context*> workers_;
  std::size_t next_worker_ = 0;  // only touched on control
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  std::chrono::milliseconds retry_delay_{0};  // the last pause after a failed accept; 0 = none
  server_state& state_;
  bool stopped_ = false;
};

}  // namespace crud::server

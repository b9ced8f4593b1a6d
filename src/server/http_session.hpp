#pragma once
// One client connection. It reads one request at a time (header, then body, each under its
// own timeout and size limit), passes it to the app's pipeline, and writes the
// response before it reads the next. That strict one-at-a-time order is also the cap on
// pipelining: requests a client sends ahead wait, unread, in a read buffer bounded by the
// header limit and then in the kernel's socket buffers, so no client can queue up work.
//
// All of a session's handlers run in order on its executor: an io_context that one thread
// runs. Calls into the app run inline on the I/O thread (reads, when configured),
// on the store's writer thread (writes, when the store group-commits on one), or on the
// blocking pool; the last two post their response back to the executor.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "app/http_types.hpp"
#include "core/error.hpp"
#include "server/beast_messages.hpp"

namespace crud::server {

class server_state;

// Sockets and streams on an I/O thread's own io_context, by its concrete executor type: the
// type-erased any_io_executor cost a copy and a destruction through a vtable per operation.
using session_executor = boost::asio::io_context::executor_type;
using session_socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, session_executor>;
using session_stream = boost::beast::basic_stream<boost::asio::ip::tcp, session_executor>;

class http_session : public std::enable_shared_from_this<http_session> {
 public:
  // `socket`'s io_context must be run by one thread only; the caller has counted the connection for
  // `client`, the peer's client_key (server_state::try_open_connection), and the session uncounts
  // it when it ends.
  http_session(session_socket&& socket, server_state& state, std::string client);
  ~http_session();
  http_session(const http_session&) = delete;
  http_session& operator=(const http_session&) = delete;

  void start();

  // Shutdown has begun: close now if waiting between requests, else close after the current
  // response (which says `Connection: close`). Callable from any thread.
  void notify_stopping();

  // The grace period is over: close whatever the state. Callable from any thread.
  void force_close();

 private:
  enum class phase { idle, reading, handling, writing, closing };
  struct write_work;
  class write_request;

  void on_start();
  void do_read();
  void on_idle_read(boost::beast::error_code ec, std::size_t bytes);
  void watch_idle(std::chrono::milliseconds timeout);
  void arm_idle_timer();
  void on_idle_timer(boost::beast::error_code ec);
  void do_read_header();
  void begin_header();
  void read_rest_of_header();
  void on_read_header(boost::beast::error_code ec, std::size_t bytes);
  void do_continue();
  void on_continue(boost::beast::error_code ec, std::size_t bytes);
  void do_read_body();
  void on_read_body(boost::beast::error_code ec, std::size_t bytes);
  void on_request();
  void do_write(app::response res);
  void on_write(boost::beast::error_code ec, std::size_t bytes);
  void do_linger();
  void on_linger(boost::beast::error_code ec, std::size_t bytes);
  void close_now();

  // Framing failures (431, 413, a malformed message): answer, then close.
  void on_read_error(boost::beast::error_code ec);
  void reject_and_close(const core::api_error& error);
  app::request partial_request() const;

  void begin_request();
  void end_request() noexcept;

  using idle_timer =
      boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                        boost::asio::wait_traits<std::chrono::steady_clock>,
                                        session_executor>;

  session_stream stream_;
  idle_timer idle_timer_;
  idle_timer::time_point idle_deadline_{};
  bool idle_timer_armed_ = false;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  wire_response response_;        // the one being written
  bool announced_close_ = false;  // it says Connection: close (or, in HTTP/1.0, not keep-alive)
  server_state& state_;
  std::string client_key_;

  phase phase_ = phase::idle;
  bool close_after_ = false;  // the current response is the last
  bool in_flight_ = false;
  std::int64_t start_ns_ = 0;
  std::size_t lingered_bytes_ = 0;
  // The current request's framing, kept across the call into the app.
  unsigned version_ = 11;
  bool head_request_ = false;
  bool keep_alive_ = true;
};

}  // namespace crud::server

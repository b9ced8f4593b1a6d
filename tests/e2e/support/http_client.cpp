#include "support/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>

namespace crud::e2e {
namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return boost::beast::iequals(a, b);
}

bool has_header(const header_list& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) {
      return true;
    }
  }
  return false;
}

// The server closed a connection we had used before, before answering.
bool is_stale_connection(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == http::error::partial_message;
}

}  // namespace

std::optional<std::string> http_response::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) {
      return v;
    }
  }
  return std::nullopt;
}

std::size_t http_response::header_count(std::string_view name) const {
  std::size_t n = 0;
  for (const auto& [k, v] : headers) {
    n += iequals(k, name) ? 1 : 0;
  }
  return n;
}

struct http_client::impl {
  impl(std::uint16_t p, std::chrono::milliseconds t) : port(p), timeout(t) {}

  // Runs one asynchronous operation to completion or until `limit`, when the socket is closed
  // to abort it: synchronous socket calls would have no timeout at all.
  template <class Start>
  error_code run(Start start, std::chrono::milliseconds limit) {
    error_code result = asio::error::would_block;
    bool done = false;
    start([&](error_code ec, auto&&...) {
      result = ec;
      done = true;
    });
    ioc.restart();
    ioc.run_for(limit);
    if (!done) {
      error_code ignored;
      socket.close(ignored);
      ioc.restart();
      ioc.run();
      result = asio::error::timed_out;
    }
    return result;
  }

  error_code open() {
    error_code ignored;
    socket.close(ignored);
    buffer.clear();
    const tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), port);
    auto ec = run([&](auto handler) { socket.async_connect(endpoint, handler); }, timeout);
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ignored);
      ++opened;
      reusable = true;
    }
    return ec;
  }

  void close() {
    error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  // One exchange on the current connection. `received_any` tells a stale connection from a
  // failure in mid-response.
  http_response exchange(const http_request& req, error_code& ec, bool& received_any) {
    http::request<http::string_body> msg;
    msg.method_string(req.method);
    msg.target(req.target);
    msg.version(11);
    msg.set(http::field::host, "127.0.0.1:" + std::to_string(port));
    for (const auto& [name, value] : req.headers) {
      msg.insert(name, value);
    }
    if (req.body) {
      msg.body() = *req.body;
      msg.prepare_payload();
    }
    received_any = false;
    ec = run([&](auto handler) { http::async_write(socket, msg, handler); }, timeout);
    // A server may answer and close before reading all of a large body (413): read anyway.
    const bool write_failed = static_cast<bool>(ec);
    const error_code write_ec = ec;

    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    parser.header_limit(64 * 1024);
    if (req.method == "HEAD") {
      parser.skip(true);
    }
    const auto before = buffer.size();
    ec = run([&](auto handler) { http::async_read(socket, buffer, parser, handler); }, timeout);
    received_any = buffer.size() != before || parser.got_some();
    http_response out;
    if (ec) {
      if (write_failed) {
        ec = write_ec;
      }
      out.error = ec.message();
      close();
      return out;
    }
    auto res = parser.release();
    out.status = static_cast<int>(res.result_int());
    for (const auto& field : res) {
      out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    out.body = std::move(res.body());
    out.keep_alive = res.keep_alive();
    // Left open so peer_closed() can see the server close it; the next send() reconnects.
    reusable = out.keep_alive;
    return out;
  }

  http_response send(const http_request& req) {
    const bool reused = socket.is_open() && reusable;
    if (!reused) {
      if (auto ec = open()) {
        http_response out;
        out.error = "connect: " + ec.message();
        return out;
      }
    }
    error_code ec;
    bool received_any = false;
    auto out = exchange(req, ec, received_any);
    if (ec && reused && !received_any && is_stale_connection(ec)) {
      if (auto cec = open()) {
        out.error = "reconnect: " + cec.message();
        return out;
      }
      out = exchange(req, ec, received_any);
    }
    return out;
  }

  std::uint16_t port;
  std::chrono::milliseconds timeout;
  asio::io_context ioc{1};
  tcp::socket socket{ioc};
  boost::beast::flat_buffer buffer;
  int opened = 0;
  bool reusable = false;  // false after a response without keep-alive
};

http_client::http_client(std::uint16_t port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<impl>(port, timeout)) {}

http_client::~http_client() {
  impl_->close();
}

bool http_client::connect() {
  return impl_->socket.is_open() || !impl_->open();
}

bool http_client::is_open() const {
  return impl_->socket.is_open();
}

int http_client::connections_opened() const {
  return impl_->opened;
}

bool http_client::peer_closed(std::chrono::milliseconds wait) {
  if (!impl_->socket.is_open()) {
    return true;
  }
  char byte = 0;
  const auto ec = impl_->run(
      [&](auto handler) { impl_->socket.async_read_some(asio::buffer(&byte, 1), handler); }, wait);
  if (ec == asio::error::timed_out) {
    // run() closed the socket to stop the read: the server had not.
    return false;
  }
  const bool closed = ec == asio::error::eof || ec == asio::error::connection_reset;
  impl_->close();
  return closed;
}

http_response http_client::send(const http_request& req) {
  return impl_->send(req);
}

namespace {

http_request with_body(std::string method, std::string target, std::string body,
                       header_list headers) {
  if (!has_header(headers, "Content-Type")) {
    headers.emplace_back("Content-Type", "application/json");
  }
  return http_request{std::move(method), std::move(target), std::move(headers), std::move(body)};
}

}  // namespace

http_response http_client::get(std::string target, header_list headers) {
  return send(http_request{"GET", std::move(target), std::move(headers), std::nullopt});
}

http_response http_client::head(std::string target, header_list headers) {
  return send(http_request{"HEAD", std::move(target), std::move(headers), std::nullopt});
}

http_response http_client::post(std::string target, std::string body, header_list headers) {
  return send(with_body("POST", std::move(target), std::move(body), std::move(headers)));
}

http_response http_client::put(std::string target, std::string body, header_list headers) {
  return send(with_body("PUT", std::move(target), std::move(body), std::move(headers)));
}

http_response http_client::patch(std::string target, std::string body, header_list headers) {
  return send(with_body("PATCH", std::move(target), std::move(body), std::move(headers)));
}

http_response http_client::del(std::string target, header_list headers) {
  return send(http_request{"DELETE", std::move(target), std::move(headers), std::nullopt});
}

}  // namespace crud::e2e

#include "lambda/runtime_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <optional>

namespace crud::lambda {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr std::string_view api_prefix = "/2018-06-01/runtime";
// An event can be up to 6 MB; leave room.
constexpr std::size_t max_event_bytes = std::size_t{8} * 1024 * 1024;
constexpr auto post_timeout = std::chrono::seconds(10);
}  // namespace

struct runtime_client::impl {
  std::string host;
  std::string port;
  asio::io_context io;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  explicit impl(const std::string& endpoint) {
    auto colon = endpoint.rfind(':');
    host = colon == std::string::npos ? endpoint : endpoint.substr(0, colon);
    port = colon == std::string::npos ? "80" : endpoint.substr(colon + 1);
  }

  boost::system::error_code connect() {
    stream.reset();
    buffer.clear();
    tcp::resolver resolver(io);
    boost::system::error_code ec;
    auto endpoints = resolver.resolve(host, port, ec);
    if (ec)
      return ec;
    stream.emplace(io);
    stream->connect(endpoints, ec);
    if (ec) {
      stream.reset();
      return ec;
    }
    stream->socket().set_option(tcp::no_delay(true), ec);
    return {};
  }

  // One request/response exchange on the kept-alive connection; reconnects once if the
  // connection had gone away while idle.
  runtime_result<http::response<http::string_body>> exchange(http::request<http::string_body>& req,
                                                             bool long_poll) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!stream) {
        if (auto ec = connect()) {
          return runtime_failure{"cannot connect to " + host + ":" + port + ": " + ec.message(),
                                 false};
        }
      }
      req.set(http::field::host, host + ":" + port);
      req.keep_alive(true);
      req.prepare_payload();
      boost::system::error_code ec;
      if (long_poll) {
        stream->expires_never();
      } else {
        stream->expires_after(post_timeout);
      }
      http::write(*stream, req, ec);
      if (!ec) {
        http::response_parser<http::string_body> parser;
        parser.body_limit(max_event_bytes);
        http::read(*stream, buffer, parser, ec);
        if (!ec) {
          auto res = parser.release();
          if (!res.keep_alive())
            stream.reset();
          return res;
        }
      }
      stream.reset();
      if (attempt == 1 ||
          !(ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
            ec == asio::error::broken_pipe || ec == asio::error::eof)) {
        return runtime_failure{"runtime API exchange failed: " + ec.message(), false};
      }
    }
    return runtime_failure{"runtime API exchange failed", false};
  }

  runtime_result<void> post(const std::string& target, std::string body,
                            std::string_view error_type = {}) {
    http::request<http::string_body> req{http::verb::post, target, 11};
    req.body() = std::move(body);
    req.set(http::field::content_type, "application/json");
    if (!error_type.empty())
      req.set("Lambda-Runtime-Function-Error-Type", error_type);
    auto res = exchange(req, false);
    if (!res)
      return res.error();
    unsigned status = res->result_int();
    if (status == 202)
      return {};
    std::string what =
        "POST " + target + " answered " + std::to_string(status) + ": " + res->body();
    // 500 means the container is broken; 4xx means this one post was refused (a late or
    // oversized response), which must not end the loop.
    return runtime_failure{std::move(what), status >= 500};
  }
};

runtime_client::runtime_client(const std::string& endpoint)
    : impl_(std::make_unique<impl>(endpoint)) {}
runtime_client::~runtime_client() = default;

runtime_result<invocation> runtime_client::next() {
  http::request<http::string_body> req{http::verb::get,
                                       std::string(api_prefix) + "/invocation/next", 11};
  auto res = impl_->exchange(req, true);
  if (!res)
    return res.error();
  unsigned status = res->result_int();
  if (status != 200) {
    return runtime_failure{"GET next answered " + std::to_string(status), status >= 500};
  }
  return parse_invocation_headers(
      [&](std::string_view name) { return std::string_view((*res)[name]); },
      std::move(res->body()));
}

runtime_result<void> runtime_client::post_response(const std::string& request_id,
                                                   const std::string& body) {
  return impl_->post(std::string(api_prefix) + "/invocation/" + request_id + "/response", body);
}

runtime_result<void> runtime_client::post_error(const std::string& request_id,
                                                const std::string& error_type,
                                                const std::string& message) {
  return impl_->post(std::string(api_prefix) + "/invocation/" + request_id + "/error",
                     error_body(error_type, message), error_type);
}

runtime_result<void> runtime_client::post_init_error(const std::string& error_type,
                                                     const std::string& message) {
  return impl_->post(std::string(api_prefix) + "/init/error", error_body(error_type, message),
                     error_type);
}

}  // namespace crud::lambda

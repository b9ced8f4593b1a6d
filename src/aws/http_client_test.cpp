#include "aws/http_client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace crud::aws {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

// A one-thread HTTP server on 127.0.0.1 that answers 404 with "echo:<body>", serving one
// connection at a time, counting connections; it can close after each response or stall.
class test_server {
 public:
  enum class mode { keep_alive, close_each, stall };

  explicit test_server(mode m)
      : mode_(m), acceptor_(ioc_, {asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { run(); });
  }
  ~test_server() {
    stopping_ = true;
    asio::io_context ioc;
    tcp::socket s(ioc);
    boost::system::error_code ec;
    s.connect({asio::ip::make_address("127.0.0.1"), port()}, ec);
    thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int connections() const { return connections_; }

 private:
  void run() {
    for (;;) {
      tcp::socket s(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(s, ec);
      if (ec || stopping_)
        return;
      ++connections_;
      boost::beast::flat_buffer buffer;
      for (;;) {
        http::request<http::string_body> req;
        http::read(s, buffer, req, ec);
        if (ec)
          break;
        if (mode_ == mode::stall) {
          for (int i = 0; i < 500 && !stopping_; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
          break;
        }
        http::response<http::string_body> res{http::status::not_found, 11};
        res.body() = "echo:" + req.body();
        res.keep_alive(mode_ == mode::keep_alive);
        res.prepare_payload();
        http::write(s, res, ec);
        if (ec || mode_ != mode::keep_alive)
          break;
      }
    }
  }

  mode mode_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

std::unique_ptr<http_client> client() {
  auto c = make_beast_http_client({});
  EXPECT_TRUE(c.has_value());
  return std::move(*c);
}

http_request request_to(std::uint16_t port, std::string body) {
  http_request r;
  r.host = "127.0.0.1";
  r.port = port;
  r.body = std::move(body);
  r.timeout_ms = 5000;
  return r;
}

TEST(HttpClient, ReturnsErrorStatusesAsDataAndReusesTheConnection) {
  test_server server(test_server::mode::keep_alive);
  auto c = client();
  for (int i = 0; i < 3; ++i) {
    auto r = c->send(request_to(server.port(), "b" + std::to_string(i)));
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(r->status, 404u);
    EXPECT_EQ(r->body, "echo:b" + std::to_string(i));
    EXPECT_EQ(r->header("content-length"), std::to_string(r->body.size()));
  }
  EXPECT_EQ(server.connections(), 1);
}

TEST(HttpClient, OpensANewConnectionWhenTheServerClosesIt) {
  test_server server(test_server::mode::close_each);
  auto c = client();
  for (int i = 0; i < 2; ++i) {
    auto r = c->send(request_to(server.port(), "x"));
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(r->body, "echo:x");
  }
  EXPECT_EQ(server.connections(), 2);
}

TEST(HttpClient, AStalledResponseTimesOut) {
  test_server server(test_server::mode::stall);
  auto c = client();
  auto req = request_to(server.port(), "x");
  req.timeout_ms = 100;
  auto r = c->send(req);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), boost::asio::error::timed_out);
}

TEST(HttpClient, ARefusedConnectionIsATransportError) {
  std::uint16_t port = 0;
  {
    asio::io_context ioc;
    tcp::acceptor a(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }
  auto r = client()->send(request_to(port, "x"));
  ASSERT_FALSE(r.has_value());
}

TEST(HttpClient, TlsToAPlainServerFailsTheHandshake) {
  test_server server(test_server::mode::keep_alive);
  auto req = request_to(server.port(), "x");
  req.tls = true;
  req.timeout_ms = 2000;
  EXPECT_FALSE(client()->send(req).has_value());
}

TEST(HttpClient, AnUnreadableCaFileFailsSetup) {
  beast_http_options o;
  o.ca_file = "/nonexistent/ca.pem";
  auto c = make_beast_http_client(o);
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().find("/nonexistent/ca.pem"), std::string::npos);
}

}  // namespace
}  // namespace crud::aws

#include "aws/http_client.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace crud::aws {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

// A one-thread HTTP server on 127.0.0.1 that answers 404 with "echo:<body>", serving one
// connection at a time, counting connections; it can close after each response, stall, or
// (drop_second) read the second request on its first connection and close it unanswered.
class test_server {
 public:
  enum class mode { keep_alive, close_each, stall, drop, drop_second };

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
      for (int served = 0;; ++served) {
        http::request<http::string_body> req;
        http::read(s, buffer, req, ec);
        if (ec)
          break;
        if (mode_ == mode::drop || (mode_ == mode::drop_second && connections_ == 1 && served == 1))
          break;
        if (mode_ == mode::stall) {
          for (int i = 0; i < 500 && !stopping_; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
          break;
        }
        http::response<http::string_body> res{http::status::not_found, 11};
        res.body() = "echo:" + req.body();
        res.keep_alive(mode_ == mode::keep_alive || mode_ == mode::drop_second);
        res.prepare_payload();
        http::write(s, res, ec);
        if (ec || !res.keep_alive())
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

TEST(HttpClient, AResendOnAFreshConnectionIsReported) {
  test_server server(test_server::mode::drop_second);
  auto c = client();
  auto first = c->send(request_to(server.port(), "a"));
  ASSERT_TRUE(first.has_value()) << first.error().message();
  EXPECT_EQ(first->sends, 1);
  // The kept-alive connection fails under the second request, which goes out again.
  auto second = c->send(request_to(server.port(), "b"));
  ASSERT_TRUE(second.has_value()) << second.error().message();
  EXPECT_EQ(second->body, "echo:b");
  EXPECT_EQ(second->sends, 2);
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

TEST(HttpClient, AConnectionDroppedBeforeTheResponseIsAnError) {
  test_server server(test_server::mode::drop);
  auto r = client()->send(request_to(server.port(), "x"));
  ASSERT_FALSE(r.has_value()) << "status " << r->status;
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
  EXPECT_EQ(r.error(), boost::asio::error::connection_refused);
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

// A TLS server on 127.0.0.1 with a self-signed certificate for "localhost", made with the
// openssl command line in a temporary folder.
class tls_server {
 public:
  tls_server() : acceptor_(ioc_, {asio::ip::make_address("127.0.0.1"), 0}) {
    dir_ = std::filesystem::temp_directory_path() /
           ("crud_tls_test_" + std::to_string(::getpid()) + "_" + std::to_string(port()));
    std::filesystem::create_directories(dir_);
    const std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
        "-subj /CN=localhost -addext subjectAltName=DNS:localhost -keyout " +
        key() + " -out " + cert() + " >/dev/null 2>&1";
    ok_ = std::system(cmd.c_str()) == 0;  // NOLINT(concurrency-mt-unsafe): before any thread
    if (!ok_)
      return;
    tls_.use_certificate_chain_file(cert());
    tls_.use_private_key_file(key(), ssl::context::pem);
    thread_ = std::thread([this] { run(); });
  }
  ~tls_server() {
    stopping_ = true;
    if (thread_.joinable()) {
      asio::io_context ioc;
      tcp::socket s(ioc);
      boost::system::error_code ec;
      s.connect({asio::ip::make_address("127.0.0.1"), port()}, ec);
      thread_.join();
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  bool ok() const { return ok_; }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string cert() const { return (dir_ / "cert.pem").string(); }
  std::string key() const { return (dir_ / "key.pem").string(); }
  std::string last_sni() const {
    std::lock_guard lock(mutex_);
    return sni_;
  }

 private:
  void run() {
    for (;;) {
      tcp::socket s(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(s, ec);
      if (ec || stopping_)
        return;
      ssl::stream<tcp::socket> stream(std::move(s), tls_);
      stream.handshake(ssl::stream_base::server, ec);
      if (ec)
        continue;
      if (const char* name =
              SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name)) {
        std::lock_guard lock(mutex_);
        sni_ = name;
      }
      boost::beast::flat_buffer buffer;
      http::request<http::string_body> req;
      http::read(stream, buffer, req, ec);
      if (ec)
        continue;
      http::response<http::string_body> res{http::status::ok, 11};
      res.body() = "tls:" + req.body();
      res.keep_alive(false);
      res.prepare_payload();
      http::write(stream, res, ec);
      stream.shutdown(ec);
    }
  }

  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  ssl::context tls_{ssl::context::tls_server};
  std::filesystem::path dir_;
  bool ok_ = false;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::string sni_;
  std::thread thread_;
};

http_request tls_request(std::string host, std::uint16_t port) {
  http_request r;
  r.tls = true;
  r.host = std::move(host);
  r.port = port;
  r.body = "hello";
  r.timeout_ms = 5000;
  return r;
}

TEST(HttpClient, TlsVerifiesTheCertificateAgainstTheConfiguredCaAndSendsSni) {
  tls_server server;
  ASSERT_TRUE(server.ok()) << "openssl could not make a test certificate";
  beast_http_options o;
  o.ca_file = server.cert();
  auto c = make_beast_http_client(o);
  ASSERT_TRUE(c.has_value()) << c.error();
  auto r = (*c)->send(tls_request("localhost", server.port()));
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->body, "tls:hello");
  EXPECT_EQ(server.last_sni(), "localhost");
}

TEST(HttpClient, TlsRejectsACertificateForAnotherHostName) {
  tls_server server;
  ASSERT_TRUE(server.ok()) << "openssl could not make a test certificate";
  beast_http_options o;
  o.ca_file = server.cert();
  auto c = make_beast_http_client(o);
  ASSERT_TRUE(c.has_value()) << c.error();
  // Trusted issuer, but the certificate names "localhost", not this address.
  EXPECT_FALSE((*c)->send(tls_request("127.0.0.1", server.port())).has_value());
}

TEST(HttpClient, TlsRejectsAnUntrustedCertificate) {
  tls_server server;
  ASSERT_TRUE(server.ok()) << "openssl could not make a test certificate";
  // The system store does not trust a self-signed certificate.
  EXPECT_FALSE(client()->send(tls_request("localhost", server.port())).has_value());
}

TEST(HttpClient, TrustIsReadAtTheFirstHandshakeNotBefore) {
  // Servers first, so the client and its pooled connections go before them.
  test_server plain(test_server::mode::keep_alive);
  tls_server server;
  ASSERT_TRUE(server.ok()) << "openssl could not make a test certificate";
  // A CA file that exists but holds no certificate: plain HTTP never reads it, and the first
  // TLS connection fails on it, every time, rather than going on without trust.
  const auto garbage = std::filesystem::temp_directory_path() /
                       ("crud_garbage_ca_" + std::to_string(::getpid()) + ".pem");
  { std::ofstream(garbage) << "not a certificate\n"; }
  beast_http_options o;
  o.ca_file = garbage.string();
  auto c = make_beast_http_client(o);
  ASSERT_TRUE(c.has_value()) << c.error();
  auto r = (*c)->send(request_to(plain.port(), "x"));
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->body, "echo:x");
  EXPECT_FALSE((*c)->send(tls_request("localhost", server.port())).has_value());
  EXPECT_FALSE((*c)->send(tls_request("localhost", server.port())).has_value());
  std::filesystem::remove(garbage);
}

TEST(HttpClient, TlsTrustsAHashedCertificateDirectory) {
  tls_server server;
  ASSERT_TRUE(server.ok()) << "openssl could not make a test certificate";
  // SSL_CERT_DIR's layout: certificates under their subject-hash names.
  const auto dir = std::filesystem::path(server.cert()).parent_path() / "hashed";
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(server.cert(), dir / "localhost.pem");
  const std::string rehash = "openssl rehash " + dir.string() + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(rehash.c_str()), 0);  // NOLINT(concurrency-mt-unsafe): one thread here
  beast_http_options o;
  o.ca_dir = dir.string();
  auto c = make_beast_http_client(o);
  ASSERT_TRUE(c.has_value()) << c.error();
  auto r = (*c)->send(tls_request("localhost", server.port()));
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->body, "tls:hello");
  // As strict as with a bundle: the right issuer for the wrong host is still refused.
  EXPECT_FALSE((*c)->send(tls_request("127.0.0.1", server.port())).has_value());
}

TEST(HttpClient, AMissingCaDirectoryFailsSetup) {
  beast_http_options o;
  o.ca_dir = "/nonexistent/certs";
  auto c = make_beast_http_client(o);
  ASSERT_FALSE(c.has_value());
  EXPECT_NE(c.error().find("/nonexistent/certs"), std::string::npos);
}

}  // namespace
}  // namespace crud::aws

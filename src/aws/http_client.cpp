#include "aws/http_client.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <tuple>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

// Each pooled connection owns its io_context, so a call runs its connection's operations on
// the calling thread without sharing an event loop: the server's threads call in
// synchronously, and a slow exchange never delays another. A timeout is an absolute deadline
// for the whole exchange; when it passes, the socket is closed and the pending operation ends
// with operation_aborted, which is reported as timed_out.

namespace crud::aws {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using steady = std::chrono::steady_clock;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

struct endpoint_key {
  bool tls;
  std::string host;
  std::uint16_t port;
  friend bool operator<(const endpoint_key& a, const endpoint_key& b) {
    return std::tie(a.tls, a.host, a.port) < std::tie(b.tls, b.host, b.port);
  }
};

class connection {
 public:
  connection(ssl::context* tls, const endpoint_key& key) : key_(key), socket_(ioc_) {
    if (key.tls) {
      stream_.emplace(ioc_, *tls);
    }
  }

  bool used() const { return used_; }

  // Runs the io_context until `done` or the deadline; on the deadline closes the socket so the
  // pending operation ends, and reports timed_out.
  error_code run_until(steady::time_point deadline, const bool& done, const error_code& ec_in) {
    ioc_.restart();
    ioc_.run_until(deadline);
    if (!done) {
      close();
      ioc_.restart();
      ioc_.run();
      return asio::error::timed_out;
    }
    return ec_in;
  }

  error_code connect(steady::time_point deadline) {
    bool done = false;
    error_code ec;
    // An address needs no lookup, and skipping it spares the thread Asio resolves on: the
    // local endpoints of tests, dynalite and a VPC endpoint's IP start one thread fewer.
    if (auto address = asio::ip::make_address(key_.host, ec); !ec) {
      lowest().async_connect(tcp::endpoint(address, key_.port), [&](error_code e) {
        ec = e;
        done = true;
      });
      if (auto e = run_until(deadline, done, ec))
        return e;
      return after_connect(deadline);
    }
    ec = {};
    tcp::resolver resolver(ioc_);
    tcp::resolver::results_type results;
    resolver.async_resolve(key_.host, std::to_string(key_.port),
                           [&](error_code e, tcp::resolver::results_type r) {
                             ec = e;
                             results = std::move(r);
                             done = true;
                           });
    ioc_.restart();
    ioc_.run_until(deadline);
    if (!done) {
      resolver.cancel();
      ioc_.restart();
      ioc_.run();
      return asio::error::timed_out;
    }
    if (ec)
      return ec;
    done = false;
    asio::async_connect(lowest(), results, [&](error_code e, const tcp::endpoint&) {
      ec = e;
      done = true;
    });
    if (auto e = run_until(deadline, done, ec))
      return e;
    return after_connect(deadline);
  }

  // TCP is up: no Nagle, and the TLS handshake when the endpoint wants one.
  error_code after_connect(steady::time_point deadline) {
    error_code ignored;
    lowest().set_option(tcp::no_delay(true), ignored);
    if (!stream_)
      return {};
    bool done = false;
    error_code ec;
    // SNI, and the peer's certificate must name the host we asked for.
    if (!SSL_set_tlsext_host_name(stream_->native_handle(), key_.host.c_str())) {
      return error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
    }
    stream_->set_verify_mode(ssl::verify_peer);
    stream_->set_verify_callback(ssl::host_name_verification(key_.host));
    done = false;
    stream_->async_handshake(ssl::stream_base::client, [&](error_code e) {
      ec = e;
      done = true;
    });
    return run_until(deadline, done, ec);
  }

  // One exchange on this connection; `keep` says whether it can be reused afterwards.
  error_code exchange(const http::request<http::string_body>& req, http_response& out,
                      std::size_t body_limit, steady::time_point deadline, bool& keep) {
    used_ = true;
    keep = false;
    bool done = false;
    error_code ec;
    auto on_done = [&](error_code e, std::size_t) {
      ec = e;
      done = true;
    };
    if (stream_) {
      http::async_write(*stream_, req, on_done);
    } else {
      http::async_write(socket_, req, on_done);
    }
    if (auto e = run_until(deadline, done, ec))
      return e;
    http::response_parser<http::string_body> parser;
    parser.body_limit(body_limit);
    done = false;
    if (stream_) {
      http::async_read(*stream_, buffer_, parser, on_done);
    } else {
      http::async_read(socket_, buffer_, parser, on_done);
    }
    if (auto e = run_until(deadline, done, ec))
      return e;
    auto& res = parser.get();
    out.status = res.result_int();
    out.headers.clear();
    for (const auto& field : res) {
      out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    out.body = std::move(res.body());
    keep = res.keep_alive();
    return {};
  }

  void close() {
    error_code ignored;
    lowest().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().close(ignored);
  }

 private:
  tcp::socket& lowest() { return stream_ ? stream_->next_layer() : socket_; }

  endpoint_key key_;
  asio::io_context ioc_{1};
  tcp::socket socket_;  // plain HTTP
  std::optional<ssl::stream<tcp::socket>> stream_;
  boost::beast::flat_buffer buffer_;
  bool used_ = false;
};

// Errors that a reused keep-alive connection gives when the server closed it while idle; the
// request is sent again on a fresh connection.
bool stale_connection_error(const error_code& ec) {
  return ec == asio::error::eof || ec == http::error::end_of_stream ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted || ec == ssl::error::stream_truncated;
}

// Whether `dir` holds OpenSSL's subject-hash links ("5ad8a5d6.0"), without which a lookup
// in it finds nothing. Stops at the first one.
bool has_hash_links(const std::filesystem::path& dir) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() == 10 && name.compare(8, 2, ".0") == 0 &&
        std::all_of(name.begin(), name.begin() + 8,
                    [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }))
      return true;
  }
  return false;
}

// The client context: TLS 1.2 or later, the peer always verified (the host name is checked
// per connection), trust from where `options` says.
error_code make_tls_context(const beast_http_options& options, std::optional<ssl::context>& out) {
  ssl::context tls(ssl::context::tls_client);
  tls.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  tls.set_verify_mode(ssl::verify_peer);
  error_code ec;
  if (!options.ca_file.empty() || !options.ca_dir.empty()) {
    if (!options.ca_file.empty()) {
      tls.load_verify_file(options.ca_file, ec);
      if (ec)
        return ec;
    }
    if (!options.ca_dir.empty()) {
      tls.add_verify_path(options.ca_dir, ec);
      if (ec)
        return ec;
    }
    out.emplace(std::move(tls));
    return {};
  }
  // A hashed directory is read lazily by OpenSSL, one root per handshake; a bundle is parsed
  // whole (about 140 certificates, tens of milliseconds), so it is the fallback.
  for (const char* dir : {"/etc/pki/ca-trust/extracted/pem/directory-hash", "/etc/ssl/certs"}) {
    if (has_hash_links(dir)) {
      tls.add_verify_path(dir, ec);
      if (!ec) {
        out.emplace(std::move(tls));
        return {};
      }
    }
  }
  for (const char* bundle :
       {"/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/certs/ca-certificates.crt"}) {
    std::error_code fs_ec;
    if (std::filesystem::exists(bundle, fs_ec)) {
      tls.load_verify_file(bundle, ec);
      if (!ec) {
        out.emplace(std::move(tls));
        return {};
      }
    }
  }
  return ec ? ec : error_code(asio::error::not_found);
}

class beast_http_client final : public http_client {
 public:
  explicit beast_http_client(const beast_http_options& options) : options_(options) {}

  boost::system::result<http_response> send(const http_request& request) override {
    const std::int64_t budget =
        request.timeout_ms > 0 ? request.timeout_ms : options_.request_timeout_ms;
    const auto deadline = steady::now() + std::chrono::milliseconds(budget);
    endpoint_key key{request.tls, request.host, request.port};

    http::request<http::string_body> req;
    auto verb = http::string_to_verb(request.method);
    if (verb == http::verb::unknown)
      return error_code(asio::error::invalid_argument);
    req.method(verb);
    req.target(request.target);
    req.version(11);
    bool has_host = false;
    for (const auto& [name, value] : request.headers) {
      has_host = has_host || iequals(name, "host");
      req.insert(name, value);
    }
    if (!has_host) {
      const bool default_port = request.port == (request.tls ? 443 : 80);
      req.set(http::field::host,
              default_port ? request.host : request.host + ":" + std::to_string(request.port));
    }
    req.body() = request.body;
    req.prepare_payload();
    req.keep_alive(true);

    for (int round = 0; round < 2; ++round) {
      std::unique_ptr<connection> conn = take(key);
      const bool reused = conn != nullptr;
      if (!conn) {
        ssl::context* tls = nullptr;
        if (key.tls) {
          auto made = tls_context();
          if (!made)
            return made.error();
          tls = *made;
        }
        conn = std::make_unique<connection>(tls, key);
        const auto connect_deadline = std::min(
            deadline, steady::now() + std::chrono::milliseconds(options_.connect_timeout_ms));
        if (auto ec = conn->connect(connect_deadline)) {
          return ec;
        }
      }
      http_response out;
      bool keep = false;
      auto ec = conn->exchange(req, out, options_.max_response_bytes, deadline, keep);
      if (ec) {
        conn->close();
        if (reused && round == 0 && stale_connection_error(ec))
          continue;
        return ec;
      }
      out.sends = round + 1;
      if (keep) {
        give_back(key, std::move(conn));
      } else {
        conn->close();
      }
      return out;
    }
    return error_code(asio::error::connection_reset);
  }

 private:
  // Built at the first TLS connection, once; a failure is kept and reported each time.
  boost::system::result<ssl::context*> tls_context() {
    std::call_once(tls_once_, [this] { tls_error_ = make_tls_context(options_, tls_); });
    if (tls_error_)
      return tls_error_;
    return &*tls_;
  }

  std::unique_ptr<connection> take(const endpoint_key& key) {
    std::lock_guard lock(mutex_);
    auto it = idle_.find(key);
    if (it == idle_.end() || it->second.empty())
      return nullptr;
    auto conn = std::move(it->second.back());
    it->second.pop_back();
    return conn;
  }

  void give_back(const endpoint_key& key, std::unique_ptr<connection> conn) {
    std::lock_guard lock(mutex_);
    auto& list = idle_[key];
    if (list.size() < options_.max_idle_per_endpoint)
      list.push_back(std::move(conn));
  }

  beast_http_options options_;
  std::once_flag tls_once_;
  std::optional<ssl::context> tls_;
  error_code tls_error_;
  std::mutex mutex_;
  std::map<endpoint_key, std::vector<std::unique_ptr<connection>>> idle_;
};

}  // namespace

boost::system::result<std::unique_ptr<http_client>, std::string> make_beast_http_client(
    const beast_http_options& options) {
  std::error_code ec;
  if (!options.ca_file.empty() && !std::filesystem::is_regular_file(options.ca_file, ec))
    return "cannot load the CA bundle " + options.ca_file + ": no such file";
  if (!options.ca_dir.empty() && !std::filesystem::is_directory(options.ca_dir, ec))
    return "cannot use the CA directory " + options.ca_dir + ": no such directory";
  return std::unique_ptr<http_client>(std::make_unique<beast_http_client>(options));
}

}  // namespace crud::aws

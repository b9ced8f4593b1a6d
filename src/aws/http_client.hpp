#pragma once
// The HTTP client the aws layer talks to AWS through, behind an interface so that the DynamoDB
// client's retry policy can be tested on a fake, and faults can be injected between the store and
// a server. An HTTP status of 4xx or 5xx is data, returned as a response; only transport
// failures (resolution, connection, TLS, timeouts, a malformed response) are errors.
//
// The Beast implementation keeps a small pool of keep-alive connections per endpoint, verifies
// TLS certificates and host names against the system CA store, and is safe to call from many
// threads at once: each call borrows a connection for its duration.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/system/result.hpp>

namespace crud::aws {

using http_headers = std::vector<std::pair<std::string, std::string>>;

struct http_request {
  std::string method = "POST";
  bool tls = false;
  std::string host;  // a name or an IP literal, without brackets
  std::uint16_t port = 80;
  std::string target = "/";  // path and query as sent
  // As sent. A Host header is added when absent; Content-Length always follows the body.
  http_headers headers;
  std::string body;
  // Budget for the whole exchange (connect, send, receive), in ms; 0 takes the client default.
  std::int64_t timeout_ms = 0;
};

struct http_response {
  unsigned status = 0;
  http_headers headers;
  std::string body;
  // How many times the request went out: 2 when a reused keep-alive connection failed and it
  // was sent again on a fresh one. The first copy may have reached the server, so a caller
  // must treat this like a retry (a conditional write may then fail on its own first copy).
  int sends = 1;

  // The first header of that name (compared case-insensitively), or empty.
  std::string_view header(std::string_view name) const;
};

class http_client {
 public:
  virtual ~http_client() = default;
  virtual boost::system::result<http_response> send(const http_request& request) = 0;
};

struct beast_http_options {
  std::int64_t connect_timeout_ms = 2000;
  std::int64_t request_timeout_ms = 10000;  // the default whole-exchange budget
  std::size_t max_idle_per_endpoint = 32;
  std::size_t max_response_bytes = std::size_t{16} * 1024 * 1024;
  // What to trust instead of the system store: a PEM bundle and/or a hashed certificate
  // directory (main passes SSL_CERT_FILE and SSL_CERT_DIR). When both are empty: the
  // platform's hashed directory (Amazon Linux 2023's, then Debian's), from which OpenSSL reads
  // only the roots a handshake needs, else its bundle. Nothing is read before the first TLS
  // handshake, so a client that only speaks plain HTTP never pays for trust at all.
  std::string ca_file;
  std::string ca_dir;
};

// Fails only when a configured CA file or directory does not exist. Whether it parses is
// known at the first TLS handshake, which then fails.
boost::system::result<std::unique_ptr<http_client>, std::string> make_beast_http_client(
    const beast_http_options& options);

}  // namespace crud::aws

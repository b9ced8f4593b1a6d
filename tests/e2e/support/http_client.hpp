#pragma once
// A small synchronous HTTP/1.1 client for the e2e tests: one keep-alive connection to
// 127.0.0.1:port, one request at a time, every operation bounded by a timeout. Transport
// failures do not throw: they come back as status 0 with `error` set, so a test thread can
// count them and a killed server simply ends a load loop. Many connections are many clients.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace crud::e2e {

using header_list = std::vector<std::pair<std::string, std::string>>;

struct http_request {
  std::string method = "GET";
  std::string target = "/";
  header_list headers;              // Host is added
  std::optional<std::string> body;  // nullopt: no body and no Content-Length
};

struct http_response {
  int status = 0;     // 0: no response, see `error`
  std::string error;  // the transport failure
  header_list headers;
  std::string body;
  bool keep_alive = false;

  // The first field named `name` (any case).
  std::optional<std::string> header(std::string_view name) const;
  std::size_t header_count(std::string_view name) const;
};

class http_client {
 public:
  explicit http_client(std::uint16_t port,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  // Opens the connection now (before a barrier, say); false when it cannot.
  bool connect();
  // A connection the next request can use (open, and the last response kept it alive).
  bool is_open() const;
  // How many connections this client has opened so far.
  int connections_opened() const;
  // True when the server has closed the connection: it reads for up to `wait` without sending.
  // Afterwards the connection is closed on this side too.
  bool peer_closed(std::chrono::milliseconds wait);

  // A request on the open connection, reconnecting first if there is none. A reused
  // connection the server had already closed is retried once on a new one.
  http_response send(const http_request& req);

  // Shorthands; the ones with a body add `Content-Type: application/json` unless `headers`
  // already has a Content-Type.
  http_response get(std::string target, header_list headers = {});
  http_response head(std::string target, header_list headers = {});
  http_response post(std::string target, std::string body, header_list headers = {});
  http_response put(std::string target, std::string body, header_list headers = {});
  http_response patch(std::string target, std::string body, header_list headers = {});
  http_response del(std::string target, header_list headers = {});

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace crud::e2e

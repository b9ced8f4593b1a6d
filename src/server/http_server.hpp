#pragma once
// The standalone HTTP/1.1 server behind `crud-api serve`, a thin adapter over the app's
// pipeline. It owns the sockets and the threads: it parses requests (with size limits,
// timeouts and a connection cap), hands each one to the app as an app::request together with
// its hooks (a per-client rate limit, optional bearer authentication, and the metrics behind
// `/health` and `/metrics`), and writes the app::response back with keep-alive. Shutdown
// (SIGINT/SIGTERM or stop()) is graceful: no new connections, idle ones closed at once,
// requests in flight finished.
//
// Asio and Beast stay behind the pimpl so that `main` compiles without them.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/system/result.hpp>

#include "app/request_handler.hpp"
#include "core/clock.hpp"
#include "store/item_store.hpp"

namespace crud::server {

// What an authenticator says of a request: its owner, or why it is refused (for the log).
struct auth_outcome {
  std::optional<std::string> owner;
  std::string reason;
};

struct server_config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0 = pick a free port
  unsigned io_threads = 0;    // 0 = std::thread::hardware_concurrency()
  // The blocking pool for handler calls whose store blocks (DynamoDB's network calls), with
  // many in flight at once. Writes a write_store takes never reach it.
  unsigned handler_threads = 64;
  // GET/HEAD/OPTIONS run directly on the I/O thread (a fast local store); others go to the pool.
  bool inline_reads = true;
  // Optional: the store whose writer thread runs the other requests (store::write_job), each
  // answered from there once its group commit is durable, with no pool thread waiting for it.
  // A store without a writer thread gives them back to the pool.
  store::item_store* write_store = nullptr;
  std::size_t body_limit = std::size_t{64} * 1024;   // larger -> 413
  std::size_t header_limit = std::size_t{8} * 1024;  // larger -> 431
  std::chrono::milliseconds header_timeout{
      10'000};  // from a request's first byte to its header's end
  std::chrono::milliseconds idle_timeout{60'000};  // keep-alive idle
  std::chrono::milliseconds body_timeout{30'000};  // reading the body; also writing a response
  double rate_limit_rps = 1000;                    // per client (peer IP; IPv6 by /64); 0 = off
  double rate_limit_burst = 2000;
  std::chrono::milliseconds shutdown_grace{25'000};
  bool handle_signals = true;            // SIGINT/SIGTERM -> graceful stop
  std::size_t max_connections = 10'000;  // beyond this, new connections are accepted and closed
  // The same for each client (server/client_key.hpp: an address, IPv6 by /64), so that one
  // client cannot hold every connection (slowloris). 0 = no cap of its own; a server behind a
  // reverse proxy, which sees all its traffic come from one address, needs it higher or off.
  std::size_t max_connections_per_client = 256;
  // Once more than 80% of max_connections are open, a connection waits at most this long for a
  // request's first byte, and again for the rest of its header, so that idle and slow
  // connections make room sooner.
  std::chrono::milliseconds crowded_timeout{2'000};
  // Optional: who is calling, from the Authorization header's value ("" when absent). It
  // becomes the app's authenticate hook: an API request it refuses gets 401; /health, CORS
  // preflights (which browsers send without credentials) and, when `metrics_public`, /metrics
  // are not asked. Unset, every caller is `public`. Called on I/O threads: it must be quick and
  // thread-safe.
  std::function<auth_outcome(std::string_view authorization)> authenticate;
  // With `authenticate`: /metrics is served without credentials (CONTRACT §2,
  // --metrics-public). Otherwise it needs a token like the API.
  bool metrics_public = false;
  // Each request's deadline, from the moment it has been read in full: the store gives up (503 +
  // Retry-After) rather than retry past it. 0 = none.
  std::chrono::milliseconds request_timeout{5'000};
};

class http_server {
 public:
  // `app` outlives the server; its calls run on the I/O threads and the handler pool at once.
  http_server(server_config config, app::request_handler& app, const core::clock& clock);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  // Binds and listens. The error is a one-line reason, e.g.
  // "cannot listen on 127.0.0.1:8080: Address already in use". Returns the bound port.
  boost::system::result<std::uint16_t, std::string> listen();

  // Runs the I/O threads (this one among them) until stopped; returns after the graceful
  // shutdown, once every connection is closed and the handler pool has drained. Call once.
  void run();

  // Starts the graceful stop. Callable from any thread, any number of times, even before run().
  void stop();

  // Runs `task` every `period` on the handler pool until stop; runs never overlap. `main` uses
  // it to flush logs and purge expired rows.
  void every(std::chrono::milliseconds period, std::function<void()> task);

 private:
  class impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace crud::server

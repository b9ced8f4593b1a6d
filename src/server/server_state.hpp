#pragma once
// The server's state, which the listener and the sessions share: configuration, the app and
// the hooks it is called with (rate limit, authentication, metrics), the metrics themselves,
// the rate limiter, the blocking pool, the registry of live sessions that shutdown walks, and
// the connection count that tells the server when the last connection has gone.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/thread_pool.hpp>

#include "app/request_handler.hpp"
#include "app/transport_hooks.hpp"
#include "core/clock.hpp"
#include "server/http_server.hpp"
#include "server/metrics.hpp"
#include "server/rate_limiter.hpp"

namespace crud::server {

class http_session;

class server_state {
 public:
  using blocking_executor = boost::asio::thread_pool::executor_type;

  server_state(server_config config, app::request_handler& app, const core::clock& clock,
               blocking_executor blocking);
  server_state(const server_state&) = delete;
  server_state& operator=(const server_state&) = delete;

  const server_config& config() const noexcept { return config_; }
  const core::clock& clock() const noexcept { return clock_; }
  metrics& stats() noexcept { return metrics_; }
  rate_limiter& limiter() noexcept { return limiter_; }
  blocking_executor blocking() const noexcept { return blocking_; }

  // The app's pipeline, with this server's hooks.
  app::response handle(const app::request& req) noexcept { return app_.handle(req, hooks_); }
  app::response reject(const app::request& req, const core::api_error& error) noexcept {
    return app_.reject(req, error);
  }
  std::unique_ptr<app::pending_response> prepare(const app::request& req) noexcept {
    return app_.prepare(req, hooks_);
  }

  // Connections: counted from accept to the session's end, capped by max_connections in all
  // and by max_connections_per_client for each `client` (its client_key).
  bool try_open_connection(const std::string& client) noexcept;
  void close_connection(const std::string& client) noexcept;
  std::size_t open_connections() const noexcept {
    return open_connections_.load(std::memory_order_acquire);
  }
  // More than 80% of max_connections are open: the waits below get shorter.
  bool crowded() const noexcept { return open_connections() * 5 > config_.max_connections * 4; }
  // How long a session waits for a request's first byte, and then for the rest of its header:
  // the configured timeouts, cut to crowded_timeout while crowded.
  std::chrono::milliseconds idle_timeout() const noexcept {
    return crowded() ? std::min(config_.idle_timeout, config_.crowded_timeout)
                     : config_.idle_timeout;
  }
  std::chrono::milliseconds header_timeout() const noexcept {
    return crowded() ? std::min(config_.header_timeout, config_.crowded_timeout)
                     : config_.header_timeout;
  }

  // The registry shutdown walks to reach every live session.
  void add_session(const std::shared_ptr<http_session>& session);
  void remove_session(const http_session* session) noexcept;
  std::vector<std::shared_ptr<http_session>> live_sessions() const;

  // Shutdown: once stopping, `on_drained` runs when the last connection closes.
  bool stopping() const noexcept { return stopping_.load(std::memory_order_acquire); }
  void begin_stopping() noexcept { stopping_.store(true, std::memory_order_release); }
  void set_on_drained(std::function<void()> on_drained) { on_drained_ = std::move(on_drained); }

 private:
  app::transport_hooks make_hooks();

  server_config config_;
  app::request_handler& app_;
  const core::clock& clock_;
  blocking_executor blocking_;
  metrics metrics_;
  rate_limiter limiter_;
  app::transport_hooks hooks_;

  std::atomic<std::size_t> open_connections_{0};
  std::mutex clients_mutex_;
  std::unordered_map<std::string, std::size_t> per_client_;  // open connections per client
  std::atomic<bool> stopping_{false};
  std::function<void()> on_drained_;

  mutable std::mutex sessions_mutex_;
  std::unordered_map<const http_session*, std::weak_ptr<http_session>> sessions_;
};

}  // namespace crud::server

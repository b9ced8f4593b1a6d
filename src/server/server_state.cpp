#include "server/server_state.hpp"

#include <algorithm>
#include <array>

#include "core/envelope.hpp"

namespace crud::server {
namespace {

constexpr std::string_view json_content_type = "application/json; charset=utf-8";
constexpr std::size_t max_correlation_id_length = 128;

std::uint64_t splitmix64(std::uint64_t x) noexcept {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

bool is_printable_ascii(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7F; });
}

}  // namespace

server_state::server_state(server_config config, server_handlers handlers, const core::clock& clock,
                           blocking_executor blocking)
    : config_(std::move(config)),
      handlers_(std::move(handlers)),
      clock_(clock),
      blocking_(blocking),
      limiter_(rate_limit_config{config_.rate_limit_rps, config_.rate_limit_burst}, clock),
      // Ids only need to differ between processes, not to be secret: the start instant will do.
      id_seed_(splitmix64(static_cast<std::uint64_t>(clock.wall_ms()) ^
                          (static_cast<std::uint64_t>(clock.steady_ns()) << 17))) {}

std::string server_state::new_request_id() {
  if (handlers_.new_request_id) {
    try {
      std::string id = handlers_.new_request_id();
      if (!id.empty())
        return id;
    } catch (...) {
      // Fall back to a local id below.
    }
  }
  // UUID-shaped (version 4 layout) like the app's, from a counter mixed with the seed.
  const std::uint64_t n = id_counter_.fetch_add(1, std::memory_order_relaxed);
  const std::uint64_t hi = splitmix64(id_seed_ ^ (n * 2));
  const std::uint64_t lo = splitmix64(id_seed_ ^ (n * 2 + 1));
  std::array<std::uint8_t, 16> b{};
  for (int i = 0; i < 8; ++i) {
    b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(hi >> (8 * i));
    b[static_cast<std::size_t>(i + 8)] = static_cast<std::uint8_t>(lo >> (8 * i));
  }
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3F) | 0x80);
  static constexpr char hex[] = "0123456789abcdef";
  std::string id;
  id.reserve(36);
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      id.push_back('-');
    id.push_back(hex[b[i] >> 4]);
    id.push_back(hex[b[i] & 0xF]);
  }
  return id;
}

std::string server_state::correlation_id(const app::request& req, const std::string& request_id) {
  auto client = req.header("X-Correlation-Id");
  if (client && !client->empty() && client->size() <= max_correlation_id_length &&
      is_printable_ascii(*client)) {
    return std::string(*client);
  }
  return request_id;
}

app::response server_state::fallback_error(const app::request& req, const core::api_error& error) {
  app::response res;
  res.status = error.http_status();
  res.request_id = new_request_id();
  res.body = core::error_envelope(error, res.request_id);
  res.headers.emplace_back("Content-Type", json_content_type);
  res.headers.emplace_back("X-Request-Id", res.request_id);
  res.headers.emplace_back("X-Correlation-Id", correlation_id(req, res.request_id));
  if (error.retry_after_s > 0) {
    res.headers.emplace_back("Retry-After", std::to_string(error.retry_after_s));
  }
  return res;
}

// The app always sets these; this is the safety net for a handler that does not, so that the
// contract's "every response carries ..." holds whatever sits behind the server.
void server_state::complete(const app::request& req, app::response& res) {
  if (!res.header("Content-Type") && !res.body.empty()) {
    res.headers.emplace_back("Content-Type", json_content_type);
  }
  if (!res.header("X-Request-Id")) {
    if (res.request_id.empty())
      res.request_id = new_request_id();
    res.headers.emplace_back("X-Request-Id", res.request_id);
  } else if (res.request_id.empty()) {
    res.request_id = std::string(*res.header("X-Request-Id"));
  }
  if (!res.header("X-Correlation-Id")) {
    res.headers.emplace_back("X-Correlation-Id", correlation_id(req, res.request_id));
  }
}

app::response server_state::reject(const app::request& req, const core::api_error& error) noexcept {
  try {
    try {
      if (handlers_.reject) {
        app::response res = handlers_.reject(req, error);
        if (res.status >= 200 && res.status <= 599) {
          complete(req, res);
          return res;
        }
      }
    } catch (...) {
      // The app's reject is noexcept; a stand-in may not be. Answer without it.
    }
    return fallback_error(req, error);
  } catch (...) {
    // Out of memory or similar: the fixed last resort, which allocates as little as it can.
    app::response res;
    res.status = 500;
    try {
      res.headers = {{"Content-Type", std::string(json_content_type)}};
      res.body =
          R"({"statusCode":500,"message":"Internal server error","error":{"code":"INTERNAL",)"
          R"("message":"Internal server error"}})";
    } catch (...) {
    }
    return res;
  }
}

app::response server_state::handle(const app::request& req) noexcept {
  try {
    if (handlers_.handle) {
      app::response res = handlers_.handle(req);
      // A status outside 200-599 cannot be sent as a final response: treat it as a failure.
      if (res.status >= 200 && res.status <= 599) {
        complete(req, res);
        return res;
      }
    }
  } catch (...) {
    // Never let an exception escape a handler; answer 500 below.
  }
  return reject(req, core::make_error(core::error_code::internal, "Internal server error"));
}

bool server_state::try_open_connection() noexcept {
  if (open_connections_.fetch_add(1, std::memory_order_acq_rel) >= config_.max_connections) {
    open_connections_.fetch_sub(1, std::memory_order_acq_rel);
    metrics_.connection_refused();
    return false;
  }
  metrics_.connection_opened();
  return true;
}

void server_state::close_connection() noexcept {
  metrics_.connection_closed();
  if (open_connections_.fetch_sub(1, std::memory_order_acq_rel) == 1 && stopping() && on_drained_) {
    on_drained_();
  }
}

void server_state::add_session(const std::shared_ptr<http_session>& session) {
  std::lock_guard lock(sessions_mutex_);
  sessions_.emplace(session.get(), session);
}

void server_state::remove_session(const http_session* session) noexcept {
  std::lock_guard lock(sessions_mutex_);
  sessions_.erase(session);
}

std::vector<std::shared_ptr<http_session>> server_state::live_sessions() const {
  std::vector<std::shared_ptr<http_session>> out;
  std::lock_guard lock(sessions_mutex_);
  out.reserve(sessions_.size());
  for (const auto& [ptr, weak] : sessions_) {
    if (auto s = weak.lock())
      out.push_back(std::move(s));
  }
  return out;
}

}  // namespace crud::server

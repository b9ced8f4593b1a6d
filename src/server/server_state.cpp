#include "server/server_state.hpp"

#include <optional>
#include <string_view>
#include <utility>

#include "server/docs_files.hpp"

namespace crud::server {

server_state::server_state(server_config config, app::request_handler& app,
                           const core::clock& clock, blocking_executor blocking)
    : config_(std::move(config)),
      app_(app),
      clock_(clock),
      blocking_(std::move(blocking)),
      limiter_(rate_limit_config{config_.rate_limit_rps, config_.rate_limit_burst}, clock),
      hooks_(make_hooks()) {}

app::transport_hooks server_state::make_hooks() {
  app::transport_hooks hooks;
  hooks.render_metrics = [this] { return metrics_.render(); };
  hooks.docs_files = docs_files();
  if (limiter_.enabled()) {
    // The app charges every request to its address first (before any token work), and a
    // caller with a good token to its owner as well (the contract's "owner's rate").
    hooks.rate_limit = [this](const app::request& req,
                              std::optional<std::string_view> owner) -> std::optional<int> {
      std::string owner_key;
      if (owner)
        owner_key.append("owner ").append(*owner);
      const rate_decision decision =
          limiter_.acquire(owner ? std::string_view(owner_key) : req.client_address);
      if (decision.allowed)
        return std::nullopt;
      metrics_.rate_limited();
      return decision.retry_after_s;
    };
  }
  if (config_.authenticate) {
    hooks.metrics_need_credentials = !config_.metrics_public;
    hooks.authenticate =
        [this](const app::request& req) -> boost::system::result<std::string, std::string> {
      auth_outcome who = config_.authenticate(req.header("Authorization").value_or(""));
      if (who.owner)
        return {boost::system::in_place_value, std::move(*who.owner)};
      return {boost::system::in_place_error, std::move(who.reason)};
    };
  }
  return hooks;
}

bool server_state::try_open_connection(const std::string& client) noexcept {
  if (open_connections_.fetch_add(1, std::memory_order_acq_rel) >= config_.max_connections) {
    open_connections_.fetch_sub(1, std::memory_order_acq_rel);
    metrics_.connection_refused();
    return false;
  }
  if (const std::size_t cap = config_.max_connections_per_client; cap > 0) {
    bool admitted = false;
    try {
      std::lock_guard lock(clients_mutex_);
      std::size_t& open = per_client_[client];
      admitted = open < cap;  // an entry made here starts at 0, below any cap
      if (admitted)
        ++open;
    } catch (...) {
      // Out of memory for the entry: refused like a client at its cap.
    }
    if (!admitted) {
      open_connections_.fetch_sub(1, std::memory_order_acq_rel);
      metrics_.connection_refused();
      return false;
    }
  }
  metrics_.connection_opened();
  return true;
}

void server_state::close_connection(const std::string& client) noexcept {
  if (config_.max_connections_per_client > 0) {
    std::lock_guard lock(clients_mutex_);
    if (const auto it = per_client_.find(client); it != per_client_.end() && --it->second == 0)
      per_client_.erase(it);
  }
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

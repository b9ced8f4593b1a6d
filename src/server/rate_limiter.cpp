#include "server/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

namespace crud::server {

rate_limiter::rate_limiter(rate_limit_config config, const core::clock& clock)
    : config_(config), clock_(clock), enabled_(config.rate_per_s > 0 && config.burst > 0) {
  // A bucket smaller than one token would refuse everything.
  config_.burst = std::max(config_.burst, 1.0);
  config_.shards = std::max<std::size_t>(config_.shards, 1);
  config_.max_clients = std::max(config_.max_clients, config_.shards);
  shard_capacity_ = (config_.max_clients + config_.shards - 1) / config_.shards;
  shards_.reserve(config_.shards);
  for (std::size_t i = 0; i < config_.shards; ++i)
    shards_.push_back(std::make_unique<shard>());
}

rate_limiter::~rate_limiter() = default;

rate_limiter::shard& rate_limiter::shard_for(std::string_view client) noexcept {
  return *shards_[std::hash<std::string_view>{}(client) % shards_.size()];
}

void rate_limiter::refill(bucket& b, std::int64_t now_ns) const noexcept {
  // A clock that steps backwards must not mint tokens or make them negative.
  if (now_ns > b.last_ns) {
    const double elapsed_s = static_cast<double>(now_ns - b.last_ns) / 1e9;
    b.tokens = std::min(config_.burst, b.tokens + elapsed_s * config_.rate_per_s);
    b.last_ns = now_ns;
  }
}

bool rate_limiter::is_full_at(const bucket& b, std::int64_t now_ns) const noexcept {
  if (b.tokens >= config_.burst)
    return true;
  if (now_ns <= b.last_ns)
    return false;
  const double elapsed_s = static_cast<double>(now_ns - b.last_ns) / 1e9;
  return b.tokens + elapsed_s * config_.rate_per_s >= config_.burst;
}

rate_decision rate_limiter::acquire(std::string_view client) {
  if (!enabled_)
    return {};
  const std::int64_t now = clock_.steady_ns();
  shard& s = shard_for(client);
  std::lock_guard lock(s.mutex);

  auto found = s.index.find(client);
  if (found == s.index.end()) {
    // Reclaim before growing: the oldest bucket if it has refilled anyway (keeps idle memory
    // low with O(1) work per insert), else, at capacity, the least recently seen one.
    if (!s.lru.empty() && (s.lru.size() >= shard_capacity_ || is_full_at(s.lru.back(), now))) {
      s.index.erase(s.lru.back().client);
      s.lru.pop_back();
    }
    s.lru.push_front(bucket{std::string(client), config_.burst, now});
    found = s.index.emplace(s.lru.front().client, s.lru.begin()).first;
  } else if (found->second != s.lru.begin()) {
    s.lru.splice(s.lru.begin(), s.lru, found->second);
  }

  bucket& b = *found->second;
  refill(b, now);
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return {};
  }
  const double wait_s = (1.0 - b.tokens) / config_.rate_per_s;
  const double rounded = std::ceil(wait_s);
  // Clamp before converting: a tiny rate can ask for a wait beyond int's range.
  const int retry = rounded >= 86'400.0 ? 86'400 : std::max(1, static_cast<int>(rounded));
  return {false, retry};
}

std::size_t rate_limiter::evict_idle() {
  const std::int64_t now = clock_.steady_ns();
  std::size_t dropped = 0;
  for (auto& sp : shards_) {
    shard& s = *sp;
    std::lock_guard lock(s.mutex);
    for (auto it = s.lru.begin(); it != s.lru.end();) {
      if (is_full_at(*it, now)) {
        s.index.erase(it->client);
        it = s.lru.erase(it);
        ++dropped;
      } else {
        ++it;
      }
    }
  }
  return dropped;
}

std::size_t rate_limiter::size() const {
  std::size_t n = 0;
  for (const auto& sp : shards_) {
    std::lock_guard lock(sp->mutex);
    n += sp->lru.size();
  }
  return n;
}

}  // namespace crud::server

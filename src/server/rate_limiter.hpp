#pragma once
// A per-client token-bucket rate limiter. Each client (the server keys it by peer address) gets
// a bucket of `burst` tokens that refills at `rate_per_s`; a request takes one token, and when
// none is left the caller learns how many seconds until one will be. Time comes from the
// injected clock, so tests drive it by hand.
//
// Buckets live in independently locked shards so concurrent clients rarely contend. Memory is
// bounded: each shard holds at most its share of `max_clients` buckets, evicting the least
// recently seen one when full, and a bucket that has refilled to `burst` is dropped by
// evict_idle() (and opportunistically on inserts) since it carries no state a fresh one lacks.

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"

namespace crud::server {

struct rate_limit_config {
  double rate_per_s = 1000;  // tokens added per second; 0 turns the limiter off
  double burst = 2000;       // bucket capacity; 0 turns the limiter off
  std::size_t max_clients = 100'000;
  std::size_t shards = 16;
};

struct rate_decision {
  bool allowed = true;
  int retry_after_s = 0;  // when refused: whole seconds until a token is available, at least 1
};

class rate_limiter {
 public:
  rate_limiter(rate_limit_config config, const core::clock& clock);
  ~rate_limiter();
  rate_limiter(const rate_limiter&) = delete;
  rate_limiter& operator=(const rate_limiter&) = delete;

  bool enabled() const noexcept { return enabled_; }

  // Takes one token from `client`'s bucket, or says how long to wait. Always allows when the
  // limiter is off.
  rate_decision acquire(std::string_view client);

  // Drops the buckets that have refilled completely; returns how many were dropped.
  std::size_t evict_idle();

  // The number of buckets held.
  std::size_t size() const;

 private:
  struct bucket {
    std::string client;
    double tokens = 0;
    std::int64_t last_ns = 0;
  };
  // Most recently used first; the map's keys view the strings inside the list's nodes, which
  // never move.
  struct shard {
    mutable std::mutex mutex;
    std::list<bucket> lru;
    std::unordered_map<std::string_view, std::list<bucket>::iterator> index;
  };

  void refill(bucket& b, std::int64_t now_ns) const noexcept;
  bool is_full_at(const bucket& b, std::int64_t now_ns) const noexcept;
  shard& shard_for(std::string_view client) noexcept;

  rate_limit_config config_;
  const core::clock& clock_;
  bool enabled_;
  std::size_t shard_capacity_;
  std::vector<std::unique_ptr<shard>> shards_;
};

}  // namespace crud::server

#pragma once
// The server's Prometheus metrics: request counts by operation and status, a latency histogram,
// and gauges for requests in flight and open connections. Recording is lock-free (relaxed
// atomics in fixed arrays, no allocation), so it costs next to nothing on the hot path;
// render() writes text exposition format 0.0.4 for `GET /metrics`.

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "app/http_types.hpp"

namespace crud::server {

class metrics {
 public:
  // Upper bounds of the latency buckets, in seconds (+Inf is implicit).
  static constexpr std::array<double, 14> latency_buckets_s = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

  metrics() = default;
  metrics(const metrics&) = delete;
  metrics& operator=(const metrics&) = delete;

  // One finished request: its operation, the status sent, and how long it took.
  void record_request(app::operation op, int status, std::int64_t duration_ns) noexcept;

  void request_started() noexcept { in_flight_.fetch_add(1, std::memory_order_relaxed); }
  void request_finished() noexcept { in_flight_.fetch_sub(1, std::memory_order_relaxed); }
  void rate_limited() noexcept { rate_limited_.fetch_add(1, std::memory_order_relaxed); }
  void connection_opened() noexcept { connections_open_.fetch_add(1, std::memory_order_relaxed); }
  void connection_closed() noexcept { connections_open_.fetch_sub(1, std::memory_order_relaxed); }
  void connection_refused() noexcept {
    connections_refused_.fetch_add(1, std::memory_order_relaxed);
  }

  std::int64_t in_flight() const noexcept { return in_flight_.load(std::memory_order_relaxed); }
  std::int64_t connections_open() const noexcept {
    return connections_open_.load(std::memory_order_relaxed);
  }

  // The exposition text.
  std::string render() const;

 private:
  static constexpr int min_status = 100;
  static constexpr int max_status = 599;
  static constexpr std::size_t status_slots = max_status - min_status + 1;
  static constexpr std::size_t bucket_slots = latency_buckets_s.size() + 1;  // + Inf

  using counter = std::atomic<std::uint64_t>;

  struct per_operation {
    std::array<counter, status_slots> by_status{};
    std::array<counter, bucket_slots> buckets{};  // not cumulative; render() sums them
    counter duration_ns_sum{0};
    counter count{0};
  };

  std::array<per_operation, app::operation_count> ops_{};
  std::atomic<std::int64_t> in_flight_{0};
  std::atomic<std::int64_t> connections_open_{0};
  counter rate_limited_{0};
  counter connections_refused_{0};
};

}  // namespace crud::server

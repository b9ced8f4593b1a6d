#pragma once
// The AWS SDKs' "standard" retry mode, in one place: which failures are worth another attempt,
// how long to wait before it (full-jitter exponential backoff), and a retry quota shared by every
// call of a client, so that when a service is down retries stop instead of multiplying the load.
//
// The quota is a token bucket: a retry costs `retry_cost` tokens (`timeout_cost` after a timeout
// or transport failure); a call that succeeds gives back what its last retry took, or
// `success_refund` when it needed none. With no tokens left, failures surface at once.

#include <cstdint>
#include <mutex>
#include <string_view>

#include "core/random_source.hpp"

namespace crud::aws {

struct retry_policy {
  int max_attempts = 3;
  // DynamoDB's SDKs start at 25 ms rather than the 1 s of other services: a request that a
  // client waits on should not stall for seconds on a brief throttle.
  std::int64_t base_delay_ms = 25;
  std::int64_t max_backoff_ms = 20'000;
  int quota_capacity = 500;
  int retry_cost = 5;
  int timeout_cost = 10;
  int success_refund = 1;
};

enum class failure_class : std::uint8_t {
  none,       // success, or a failure no retry can fix (validation, a failed condition, auth)
  throttled,  // the service asked us to slow down
  transient,  // 5xx, a CRC mismatch: another attempt may well succeed
  timeout,    // timed out or the connection failed: costs more quota
};

// How a response with this HTTP status and DynamoDB error type (the part of `__type` after '#',
// empty when none) should be treated.
failure_class classify_response(unsigned http_status, std::string_view error_type);

// Thread-safe token bucket.
class retry_quota {
 public:
  explicit retry_quota(const retry_policy& policy)
      : policy_(policy), tokens_(policy.quota_capacity) {}

  // Takes the cost of retrying after `failure`; returns the tokens taken, or 0 when the quota
  // cannot pay (then do not retry).
  int acquire(failure_class failure);
  // After a successful call; `last_acquired` is what its last retry took (0 if none).
  void on_success(int last_acquired);
  int available() const;

 private:
  retry_policy policy_;
  mutable std::mutex mutex_;
  int tokens_;
};

// Full jitter: uniform in [0, min(max_backoff, base * 2^(retry - 1))], retry counted from 1.
std::int64_t backoff_delay_ms(const retry_policy& policy, int retry, core::random_source& random);

}  // namespace crud::aws

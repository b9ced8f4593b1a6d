#include "aws/retry_strategy.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>

namespace crud::aws {

failure_class classify_response(unsigned http_status, std::string_view error_type) {
  static constexpr std::array<std::string_view, 10> throttling = {
      "ThrottlingException",       "ProvisionedThroughputExceededException",
      "RequestLimitExceeded",      "RequestThrottled",
      "RequestThrottledException", "ThrottledException",
      "TooManyRequestsException",  "SlowDown",
      "BandwidthLimitExceeded",    "Throttling",
  };
  static constexpr std::array<std::string_view, 5> transient = {
      "InternalServerError", "InternalFailure",         "ServiceUnavailable",
      "RequestTimeout",      "RequestTimeoutException",
  };
  if (http_status >= 200 && http_status < 300)
    return failure_class::none;
  if (std::find(throttling.begin(), throttling.end(), error_type) != throttling.end())
    return failure_class::throttled;
  if (std::find(transient.begin(), transient.end(), error_type) != transient.end())
    return failure_class::transient;
  if (http_status == 429)
    return failure_class::throttled;
  if (http_status == 500 || http_status == 502 || http_status == 503 || http_status == 504)
    return failure_class::transient;
  return failure_class::none;
}

int retry_quota::acquire(failure_class failure) {
  const int cost = failure == failure_class::timeout ? policy_.timeout_cost : policy_.retry_cost;
  std::lock_guard lock(mutex_);
  if (tokens_ < cost)
    return 0;
  tokens_ -= cost;
  return cost;
}

void retry_quota::on_success(int last_acquired) {
  std::lock_guard lock(mutex_);
  tokens_ = std::min(policy_.quota_capacity,
                     tokens_ + (last_acquired > 0 ? last_acquired : policy_.success_refund));
}

int retry_quota::available() const {
  std::lock_guard lock(mutex_);
  return tokens_;
}

std::int64_t backoff_delay_ms(const retry_policy& policy, int retry, core::random_source& random) {
  std::int64_t ceiling = policy.base_delay_ms;
  for (int i = 1; i < retry && ceiling < policy.max_backoff_ms; ++i)
    ceiling *= 2;
  ceiling = std::min(ceiling, policy.max_backoff_ms);
  if (ceiling <= 0)
    return 0;
  std::uint64_t r = 0;
  std::array<std::byte, 8> bytes{};
  random.fill(bytes);
  for (std::size_t i = 0; i < bytes.size(); ++i)
    r |= static_cast<std::uint64_t>(bytes[i]) << (8 * i);
  return static_cast<std::int64_t>(r % static_cast<std::uint64_t>(ceiling + 1));
}

}  // namespace crud::aws

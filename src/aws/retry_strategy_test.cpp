#include "aws/retry_strategy.hpp"

#include <gtest/gtest.h>

#include "support/testing_fakes.hpp"

namespace crud::aws {
namespace {

TEST(RetryStrategy, ClassifiesThrottlingTransientAndFinalErrors) {
  EXPECT_EQ(classify_response(400, "ProvisionedThroughputExceededException"),
            failure_class::throttled);
  EXPECT_EQ(classify_response(400, "ThrottlingException"), failure_class::throttled);
  EXPECT_EQ(classify_response(400, "RequestLimitExceeded"), failure_class::throttled);
  EXPECT_EQ(classify_response(500, "InternalServerError"), failure_class::transient);
  EXPECT_EQ(classify_response(503, ""), failure_class::transient);
  EXPECT_EQ(classify_response(400, "ConditionalCheckFailedException"), failure_class::none);
  EXPECT_EQ(classify_response(400, "ValidationException"), failure_class::none);
  EXPECT_EQ(classify_response(400, "UnrecognizedClientException"), failure_class::none);
  EXPECT_EQ(classify_response(200, ""), failure_class::none);
}

TEST(RetryStrategy, QuotaChargesRetriesAndTimeoutsAndRefundsOnSuccess) {
  retry_policy p;
  retry_quota q(p);
  EXPECT_EQ(q.available(), 500);
  EXPECT_EQ(q.acquire(failure_class::throttled), 5);
  EXPECT_EQ(q.acquire(failure_class::timeout), 10);
  EXPECT_EQ(q.available(), 485);
  q.on_success(10);
  EXPECT_EQ(q.available(), 495);
  q.on_success(0);
  EXPECT_EQ(q.available(), 496);
  for (int i = 0; i < 10; ++i)
    q.on_success(0);
  EXPECT_EQ(q.available(), 500) << "never above capacity";
}

TEST(RetryStrategy, QuotaRefusesWhenExhausted) {
  retry_policy p;
  p.quota_capacity = 12;
  retry_quota q(p);
  EXPECT_EQ(q.acquire(failure_class::timeout), 10);
  EXPECT_EQ(q.acquire(failure_class::throttled), 0);
  EXPECT_EQ(q.available(), 2);
}

TEST(RetryStrategy, BackoffIsFullJitterWithinTheExponentialCeilingAndTheCap) {
  retry_policy p;
  core::testing::counting_random random;
  for (int retry = 1; retry <= 12; ++retry) {
    std::int64_t ceiling = std::min<std::int64_t>(p.max_backoff_ms, 25LL << (retry - 1));
    std::int64_t max_seen = 0;
    for (int i = 0; i < 200; ++i) {
      auto d = backoff_delay_ms(p, retry, random);
      ASSERT_GE(d, 0);
      ASSERT_LE(d, ceiling);
      max_seen = std::max(max_seen, d);
    }
    EXPECT_GT(max_seen, ceiling / 2) << "jitter spans the range, retry " << retry;
  }
  EXPECT_LE(backoff_delay_ms(p, 60, random), 20'000);
}

}  // namespace
}  // namespace crud::aws

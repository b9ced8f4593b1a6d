#include "server/rate_limiter.hpp"

#include <atomic>
#include <string>

#include <gtest/gtest.h>

namespace crud::server {
namespace {

class fake_clock : public core::clock {
 public:
  std::int64_t wall_ms() const override { return 1'700'000'000'000; }
  std::int64_t steady_ns() const override { return now_ns.load(); }
  void advance_ms(std::int64_t ms) { now_ns += ms * 1'000'000; }
  std::atomic<std::int64_t> now_ns{1'000'000'000};
};

TEST(RateLimiter, AllowsBurstThenRefuses) {
  fake_clock clock;
  rate_limiter limiter({.rate_per_s = 1, .burst = 3}, clock);
  EXPECT_TRUE(limiter.acquire("10.0.0.1").allowed);
  EXPECT_TRUE(limiter.acquire("10.0.0.1").allowed);
  EXPECT_TRUE(limiter.acquire("10.0.0.1").allowed);
  const auto refused = limiter.acquire("10.0.0.1");
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after_s, 1);
}

TEST(RateLimiter, RefillsAtTheConfiguredRate) {
  fake_clock clock;
  rate_limiter limiter({.rate_per_s = 10, .burst = 1}, clock);
  EXPECT_TRUE(limiter.acquire("a").allowed);
  EXPECT_FALSE(limiter.acquire("a").allowed);
  clock.advance_ms(50);  // half a token
  EXPECT_FALSE(limiter.acquire("a").allowed);
  clock.advance_ms(50);
  EXPECT_TRUE(limiter.acquire("a").allowed);
  EXPECT_FALSE(limiter.acquire("a").allowed);
}

TEST(RateLimiter, RefillNeverExceedsBurst) {
  fake_clock clock;
  rate_limiter limiter({.rate_per_s = 100, .burst = 2}, clock);
  EXPECT_TRUE(limiter.acquire("a").allowed);
  clock.advance_ms(60'000);
  EXPECT_TRUE(limiter.acquire("a").allowed);
  EXPECT_TRUE(limiter.acquire("a").allowed);
  EXPECT_FALSE(limiter.acquire("a").allowed);
}

TEST(RateLimiter, RetryAfterIsSecondsUntilATokenRoundedUp) {
  fake_clock clock;
  rate_limiter limiter({.rate_per_s = 0.25, .burst = 1}, clock);  // one token per 4 s
  EXPECT_TRUE(limiter.acquire("a").allowed);
  EXPECT_EQ(limiter.acquire("a").retry_after_s, 4);
  clock.advance_ms(2'500);
  EXPECT_EQ(limiter.acquire("a").retry_after_s, 2);  // 1.5 s left
  clock.advance_ms(1'400);
  EXPECT_EQ(limiter.acquire("a").retry_after_s, 1);  // 0.1 s left is still at least 1
}

TEST(RateLimiter, ClientsHaveSeparateBuckets) {
  fake_clock clock;
  rate_limiter limiter({.rate_per_s = 1, .burst = 1}, clock);
  EXPECT_TRUE(limiter.acquire("10.0.0.1").allowed);
  EXPECT_FALSE(limiter.acquire("10.0.0.1").allowed);
  EXPECT_TRUE(limiter.acquire("10.0.0.2").allowed);
  EXPECT_EQ(limiter.size(), 2u);
}

TEST(RateLimiter, ZeroRateOrBurstTurnsItOff) {
  fake_clock clock;
  rate_limiter no_rate({.rate_per_s = 0, .burst = 5}, clock);
  rate_limiter no_burst({.rate_per_s = 5, .burst = 0}, clock);
  EXPECT_FALSE(no_rate.enabled());
  EXPECT_FALSE(no_burst.enabled());
  for (int i = 0; i < 100; ++i) {
    EXPECT_TRUE(no_rate.acquire("a").allowed);
    EXPECT_TRUE(no_burst.acquire("a").allowed);
  }
  EXPECT_EQ(no_rate.size(), 0u);
}

TEST(RateLimiter, EvictIdleDropsOnlyRefilledBuckets) {
  fake_clock clock;
  rate_limiter limiter({.rate_per_s = 0.5, .burst = 2}, clock);
  limiter.acquire("old");
  clock.advance_ms(1'500);
  limiter.acquire("recent");
  EXPECT_EQ(limiter.evict_idle(), 0u);  // "old" is back to 1.75 of 2 tokens
  clock.advance_ms(600);                // "old" full, "recent" at 1.3
  EXPECT_EQ(limiter.evict_idle(), 1u);
  EXPECT_EQ(limiter.size(), 1u);
  // The evicted client starts afresh with a full bucket, which is what it had.
  EXPECT_TRUE(limiter.acquire("old").allowed);
  EXPECT_TRUE(limiter.acquire("old").allowed);
  EXPECT_FALSE(limiter.acquire("old").allowed);
}

TEST(RateLimiter, MemoryIsBoundedByMaxClients) {
  fake_clock clock;
  rate_limiter limiter({.rate_per_s = 1, .burst = 1, .max_clients = 8, .shards = 1}, clock);
  for (int i = 0; i < 100; ++i)
    limiter.acquire("client-" + std::to_string(i));
  EXPECT_LE(limiter.size(), 8u);
  // The most recent clients keep their (empty) buckets.
  EXPECT_FALSE(limiter.acquire("client-99").allowed);
}

TEST(RateLimiter, InsertReclaimsARefilledOldestBucket) {
  fake_clock clock;
  rate_limiter limiter({.rate_per_s = 1, .burst = 1, .max_clients = 1000, .shards = 1}, clock);
  limiter.acquire("a");
  clock.advance_ms(5'000);
  limiter.acquire("b");
  EXPECT_EQ(limiter.size(), 1u);
}

TEST(RateLimiter, ClockSteppingBackDoesNotMintTokens) {
  fake_clock clock;
  rate_limiter limiter({.rate_per_s = 1, .burst = 1}, clock);
  EXPECT_TRUE(limiter.acquire("a").allowed);
  clock.advance_ms(-10'000);
  EXPECT_FALSE(limiter.acquire("a").allowed);
}

}  // namespace
}  // namespace crud::server

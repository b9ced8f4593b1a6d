#include "app/idempotency_protocol.hpp"

#include <gtest/gtest.h>

#include "support/memory_store.hpp"
#include "support/testing_fakes.hpp"

namespace crud::app {
namespace {

constexpr std::int64_t t0 = 1'700'000'000'000;
constexpr std::int64_t in_progress_ms = 60'000;

class IdempotencyProtocol : public ::testing::Test {
 protected:
  response created(std::string body) {
    response res;
    res.status = 201;
    res.body = std::move(body);
    return res;
  }

  store::memory_store store_;
  core::testing::counting_random random_;
  idempotency_protocol protocol_{store_, random_, in_progress_ms, 24LL * 3600 * 1000};
  request req_;
};

TEST_F(IdempotencyProtocol, EachClaimDrawsItsOwnTokenFromTheRandomSource) {
  request_context a(req_), b(req_);
  auto first = protocol_.claim(a, "k1", "h", t0);
  auto second = protocol_.claim(b, "k2", "h", t0);
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_FALSE(first->replay.has_value());
  EXPECT_EQ(first->token.size(), 32U);  // 128 bits, in hex
  EXPECT_NE(first->token, second->token);
}

TEST_F(IdempotencyProtocol, AStalledRequestCannotCompleteOrReleaseTheRetrysClaim) {
  request_context a(req_), b(req_), c(req_), d(req_);
  auto claim_a = protocol_.claim(a, "k", "h", t0);
  ASSERT_TRUE(claim_a.has_value());
  // A stalls past in_progress_until; B's retry takes the key over.
  const std::int64_t later = t0 + in_progress_ms;
  auto claim_b = protocol_.claim(b, "k", "h", later);
  ASSERT_TRUE(claim_b.has_value());
  ASSERT_FALSE(claim_b->replay.has_value());

  // A wakes up: its completion is dropped (and logged), its release leaves B's claim.
  protocol_.complete(a, "k", claim_a->token, created("A"), later + 1);
  EXPECT_NE(a.cause.find("a retry took the key over"), std::string::npos) << a.cause;
  protocol_.release(a, "k", claim_a->token);
  auto while_b_runs = protocol_.claim(c, "k", "h", later + 2);
  ASSERT_FALSE(while_b_runs.has_value());
  EXPECT_EQ(while_b_runs.error().code, core::error_code::idempotency_in_progress);

  // B completes; a later retry replays B's response, not A's.
  protocol_.complete(b, "k", claim_b->token, created("B"), later + 3);
  EXPECT_TRUE(b.cause.empty()) << b.cause;
  auto replay = protocol_.claim(d, "k", "h", later + 4);
  ASSERT_TRUE(replay.has_value());
  ASSERT_TRUE(replay->replay.has_value());
  EXPECT_EQ(replay->replay->body, "B");
}

}  // namespace
}  // namespace crud::app

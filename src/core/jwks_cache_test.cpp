#include "core/jwks_cache.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/signing_keys.hpp"

namespace crud::core {
namespace {

using test_support::signing_key;

constexpr std::int64_t t0 = 1'800'000'000;

// A key-set server of the test's own: answers with `document` (or fails with `failure`) and
// records the timeout of every fetch.
struct fake_fetch {
  std::string document;
  std::string failure;
  std::vector<std::int64_t> timeouts;

  jwks_cache::fetch_fn fn() {
    return [this](std::int64_t timeout_ms) -> boost::system::result<std::string, std::string> {
      timeouts.push_back(timeout_ms);
      if (!failure.empty())
        return {boost::system::in_place_error, failure};
      return {boost::system::in_place_value, document};
    };
  }
};

std::string set_of(const std::string& keys) {
  return R"({"keys":[)" + keys + "]}";
}

class JwksCache : public ::testing::Test {
 protected:
  signing_key a_ = signing_key::es256();
  signing_key b_ = signing_key::es256();
  fake_fetch server_;
  jwks_cache cache_{server_.fn()};
};

TEST_F(JwksCache, LoadFetchesOnceWithTheStartUpTimeoutAndFindsKnownKidsWithoutFetching) {
  server_.document = set_of(a_.jwk("a"));
  ASSERT_TRUE(cache_.load().has_value());
  EXPECT_EQ(server_.timeouts, std::vector<std::int64_t>{5000});
  for (int i = 0; i < 3; ++i) {
    auto k = cache_.find("a", jws_alg::es256, t0 + i);
    ASSERT_TRUE(k.has_value()) << k.error();
    EXPECT_EQ(k->kid(), "a");
  }
  EXPECT_EQ(cache_.fetches(), 1U);
}

TEST_F(JwksCache, LoadFailsOnAFailedFetchOrAnUnusableSet) {
  server_.failure = "connection refused";
  auto failed = cache_.load();
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error(), "connection refused");
  server_.failure.clear();
  server_.document = R"({"keys":[]})";
  EXPECT_FALSE(cache_.load().has_value());
}

TEST_F(JwksCache, AnUnknownKidRefreshesAtMostOnceAMinute) {
  server_.document = set_of(a_.jwk("a"));
  ASSERT_TRUE(cache_.load().has_value());

  // The provider rotates: b appears. The first token with kid b refreshes, with the short
  // timeout, and is served.
  server_.document = set_of(a_.jwk("a") + "," + b_.jwk("b"));
  auto b = cache_.find("b", jws_alg::es256, t0);
  ASSERT_TRUE(b.has_value()) << b.error();
  EXPECT_EQ(server_.timeouts, (std::vector<std::int64_t>{5000, 2000}));

  // Unknown kids within the minute fetch nothing, even when the provider has them by now.
  server_.document = set_of(a_.jwk("a") + "," + b_.jwk("b") + "," + a_.jwk("c"));
  for (std::int64_t t : {t0, t0 + 1, t0 + 59}) {
    auto c = cache_.find("c", jws_alg::es256, t);
    ASSERT_FALSE(c.has_value());
    EXPECT_NE(c.error().find("refreshed less than 60 s ago"), std::string::npos) << c.error();
  }
  EXPECT_EQ(cache_.fetches(), 2U);
  // A minute after the last refresh, the next unknown kid refreshes again.
  auto c = cache_.find("c", jws_alg::es256, t0 + 60);
  ASSERT_TRUE(c.has_value()) << c.error();
  EXPECT_EQ(cache_.fetches(), 3U);
  // Still unknown after a refresh: refused, and the minute starts again.
  auto d = cache_.find("d", jws_alg::es256, t0 + 121);
  ASSERT_FALSE(d.has_value());
  EXPECT_NE(d.error().find("refreshed just now"), std::string::npos) << d.error();
  EXPECT_FALSE(cache_.find("d", jws_alg::es256, t0 + 122).has_value());
  EXPECT_EQ(cache_.fetches(), 4U);
}

TEST_F(JwksCache, AFailedRefreshKeepsTheKeysHeldAndCountsAgainstTheMinute) {
  server_.document = set_of(a_.jwk("a"));
  ASSERT_TRUE(cache_.load().has_value());
  server_.failure = "timed out";
  auto b = cache_.find("b", jws_alg::es256, t0);
  ASSERT_FALSE(b.has_value());
  EXPECT_NE(b.error().find("the refresh failed: timed out"), std::string::npos) << b.error();
  EXPECT_TRUE(cache_.find("a", jws_alg::es256, t0 + 1).has_value());
  // An unreachable provider is not asked again within the minute.
  EXPECT_FALSE(cache_.find("b", jws_alg::es256, t0 + 30).has_value());
  EXPECT_EQ(cache_.fetches(), 2U);
  // A set that no longer parses is a failed refresh too: a is still served.
  server_.failure.clear();
  server_.document = "<html>maintenance</html>";
  EXPECT_FALSE(cache_.find("b", jws_alg::es256, t0 + 60).has_value());
  EXPECT_TRUE(cache_.find("a", jws_alg::es256, t0 + 61).has_value());
  EXPECT_EQ(cache_.fetches(), 3U);
}

TEST_F(JwksCache, AKnownKidForTheOtherAlgorithmIsAMiss) {
  server_.document = set_of(a_.jwk("a"));
  ASSERT_TRUE(cache_.load().has_value());
  auto as_rsa = cache_.find("a", jws_alg::rs256, t0);
  ASSERT_FALSE(as_rsa.has_value());
  EXPECT_NE(as_rsa.error().find("no RS256 key with kid \"a\""), std::string::npos)
      << as_rsa.error();
}

TEST_F(JwksCache, AClockThatWentBackDoesNotRefresh) {
  server_.document = set_of(a_.jwk("a"));
  ASSERT_TRUE(cache_.load().has_value());
  EXPECT_FALSE(cache_.find("b", jws_alg::es256, t0).has_value());
  EXPECT_FALSE(cache_.find("b", jws_alg::es256, t0 - 3600).has_value());
  EXPECT_EQ(cache_.fetches(), 2U);
}

}  // namespace
}  // namespace crud::core

#include "core/ulid.hpp"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

#include "support/testing_fakes.hpp"

namespace crud::core {
namespace {

TEST(Ulid, EncodesTimeInTheFirstTenCharacters) {
  // The ULID specification's example: 1469918176385 ms is "01ARYZ6S41".
  std::array<std::uint8_t, 10> zero{};
  EXPECT_EQ(encode_ulid(1469918176385, zero), "01ARYZ6S410000000000000000");
  std::array<std::uint8_t, 10> ones;
  ones.fill(0xFF);
  EXPECT_EQ(encode_ulid(0, ones), "0000000000ZZZZZZZZZZZZZZZZ");
}

TEST(Ulid, IdsAreValidAndPrefixed) {
  testing::fake_clock clock;
  testing::counting_random random;
  ulid_generator gen(clock, random);
  auto id = gen.next_item_id();
  EXPECT_TRUE(is_item_id(id)) << id;
  EXPECT_EQ(id.size(), 31U);
  EXPECT_FALSE(is_item_id("item_01ARYZ6S41000000000000000"));  // 25 chars
  EXPECT_FALSE(is_item_id("item_01ARYZ6S410000000000000I"));   // I is not Crockford
  EXPECT_FALSE(is_item_id("item_81ARYZ6S4100000000000000"));   // overflows 128 bits
  EXPECT_FALSE(is_item_id("ITEM_01ARYZ6S4100000000000000"));
}

TEST(Ulid, StrictlyIncreasingWithinOneMillisecond) {
  testing::fake_clock clock;
  testing::counting_random random;
  ulid_generator gen(clock, random);
  std::string previous = gen.next();
  for (int i = 0; i < 1000; ++i) {
    std::string next = gen.next();
    ASSERT_LT(previous, next);
    previous = next;
  }
  clock.advance_ms(1);
  EXPECT_LT(previous, gen.next());
}

TEST(Ulid, StaysOrderedWhenTheClockStepsBack) {
  testing::fake_clock clock;
  testing::counting_random random;
  ulid_generator gen(clock, random);
  std::string first = gen.next();
  clock.advance_ms(-5000);
  EXPECT_LT(first, gen.next());
}

TEST(Ulid, UniqueAcrossThreads) {
  testing::fake_clock clock;
  testing::counting_random random;
  ulid_generator gen(clock, random);
  std::vector<std::vector<std::string>> per_thread(4);
  std::vector<std::thread> threads;
  threads.reserve(per_thread.size());
  for (auto& out : per_thread) {
    threads.emplace_back([&gen, &out] {
      for (int i = 0; i < 500; ++i)
        out.push_back(gen.next());
    });
  }
  for (auto& t : threads)
    t.join();
  std::set<std::string> all;
  for (const auto& v : per_thread)
    all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), 2000U);
}

}  // namespace
}  // namespace crud::core

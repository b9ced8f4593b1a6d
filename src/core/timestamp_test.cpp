#include "core/timestamp.hpp"

#include <gtest/gtest.h>

namespace crud::core {
namespace {

TEST(Timestamp, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(format_timestamp(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_timestamp(1'768'473'000'123), "2026-01-15T10:30:00.123Z");
  EXPECT_EQ(format_timestamp(951'782'400'000), "2000-02-29T00:00:00.000Z");  // leap day
  EXPECT_EQ(format_timestamp(253'402'300'799'999), "9999-12-31T23:59:59.999Z");
}

TEST(Timestamp, ParsesWhatItFormats) {
  for (std::int64_t ms : {0LL, 1LL, 951'782'400'000LL, 1'768'473'000'123LL, 4'102'444'800'000LL}) {
    EXPECT_EQ(parse_timestamp(format_timestamp(ms)), ms) << ms;
  }
}

TEST(Timestamp, RejectsOtherForms) {
  EXPECT_FALSE(parse_timestamp("2026-01-15T10:30:00Z"));
  EXPECT_FALSE(parse_timestamp("2026-01-15 10:30:00.123Z"));
  EXPECT_FALSE(parse_timestamp("2026-02-30T10:30:00.123Z"));
  EXPECT_FALSE(parse_timestamp("2026-13-01T10:30:00.123Z"));
  EXPECT_FALSE(parse_timestamp("2026-01-15T24:00:00.000Z"));
  EXPECT_FALSE(parse_timestamp("2026-01-15T10:30:00.12xZ"));
  EXPECT_FALSE(parse_timestamp(""));
}

}  // namespace
}  // namespace crud::core

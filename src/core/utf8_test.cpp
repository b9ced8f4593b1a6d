#include "core/utf8.hpp"

#include <gtest/gtest.h>

namespace crud::core {
namespace {

TEST(Utf8, CountsCodePointsNotBytes) {
  EXPECT_EQ(count_code_points(""), 0U);
  EXPECT_EQ(count_code_points("abc"), 3U);
  EXPECT_EQ(count_code_points("h\xC3\xA9llo"), 5U);       // é
  EXPECT_EQ(count_code_points("\xE2\x82\xAC"), 1U);       // €
  EXPECT_EQ(count_code_points("\xF0\x9F\x98\x80!"), 2U);  // 😀!
}

TEST(Utf8, RejectsIllFormedSequences) {
  EXPECT_FALSE(count_code_points("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(count_code_points("\xE0\x80\xAF"));      // overlong, 3 bytes
  EXPECT_FALSE(count_code_points("\xED\xA0\x80"));      // UTF-16 surrogate D800
  EXPECT_FALSE(count_code_points("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(count_code_points("\xE2\x82"));          // truncated
  EXPECT_FALSE(count_code_points("\x80"));              // lone continuation
  EXPECT_FALSE(count_code_points("\xFF"));
}

TEST(Utf8, VisitsEachCodePoint) {
  std::u32string seen;
  auto n =
      for_each_code_point("a\xC3\xA9\xF0\x9F\x98\x80", [&](char32_t cp) { seen.push_back(cp); });
  ASSERT_EQ(n, 3U);
  EXPECT_EQ(seen, (std::u32string{U'a', U'\u00E9', U'\U0001F600'}));
}

}  // namespace
}  // namespace crud::core

#include "app/conditional.hpp"

#include <gtest/gtest.h>

namespace crud::app {
namespace {

TEST(Conditional, IfMatchUsesStrongComparison) {
  EXPECT_TRUE(if_match_satisfied("\"a\"", "\"a\""));
  EXPECT_TRUE(if_match_satisfied("\"x\", \"a\"", "\"a\""));
  EXPECT_TRUE(if_match_satisfied(" * ", "\"a\""));
  EXPECT_FALSE(if_match_satisfied("W/\"a\"", "\"a\""));
  EXPECT_FALSE(if_match_satisfied("\"b\"", "\"a\""));
  EXPECT_FALSE(if_match_satisfied("a", "\"a\""));  // unquoted is malformed
  EXPECT_FALSE(if_match_satisfied("", "\"a\""));
  EXPECT_FALSE(if_match_satisfied("\"a", "\"a\""));
}

TEST(Conditional, IfNoneMatchUsesWeakComparison) {
  EXPECT_TRUE(if_none_match_matches("W/\"a\"", "\"a\""));
  EXPECT_TRUE(if_none_match_matches("\"b\",W/\"a\"", "\"a\""));
  EXPECT_TRUE(if_none_match_matches("*", "\"a\""));
  EXPECT_FALSE(if_none_match_matches("\"b\"", "\"a\""));
}

}  // namespace
}  // namespace crud::app

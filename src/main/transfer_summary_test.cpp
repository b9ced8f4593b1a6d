#include "main/transfer_summary.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace crud::main {
namespace {

TEST(TransferSummary, IsOneJsonLineWithTheCountsAndARateOverEverythingHandled) {
  const std::string line = summary_line({.moved_as = "imported",
                                         .moved = 300,
                                         .skipped = 100,
                                         .failed = 2,
                                         .complete = false,
                                         .seconds = 2.0});
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  const auto v = boost::json::parse(line).as_object();
  EXPECT_EQ(v.at("imported").to_number<int>(), 300);
  EXPECT_EQ(v.at("skipped").to_number<int>(), 100);
  EXPECT_EQ(v.at("failed").to_number<int>(), 2);
  EXPECT_FALSE(v.at("complete").as_bool());
  EXPECT_EQ(v.at("itemsPerSecond").to_number<int>(), 200);
}

TEST(TransferSummary, AnInstantRunHasNoRateRatherThanADivisionByZero) {
  const auto v =
      boost::json::parse(summary_line({.moved_as = "exported", .complete = true})).as_object();
  EXPECT_EQ(v.at("exported").to_number<int>(), 0);
  EXPECT_TRUE(v.at("complete").as_bool());
  EXPECT_EQ(v.at("itemsPerSecond").to_number<int>(), 0);
}

}  // namespace
}  // namespace crud::main

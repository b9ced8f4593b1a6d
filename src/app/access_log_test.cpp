#include "app/access_log.hpp"

#include <limits>
#include <string>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

namespace crud::app {
namespace {

std::string duration_text(double ms) {
  access_record r;
  r.duration_ms = ms;
  r.status = 200;
  const std::string line = format_access_line(r);
  // Every line is one JSON object, whatever the duration.
  boost::system::error_code ec;
  (void)boost::json::parse(line, ec);
  EXPECT_FALSE(ec) << line;
  const std::string key = R"("duration":)";
  const auto at = line.find(key);
  if (at == std::string::npos)
    return "<missing>";
  const auto start = at + key.size();
  return line.substr(start, line.find(',', start) - start);
}

TEST(AccessLog, DurationHasThreeDecimalsRoundedLikePrintf) {
  EXPECT_EQ(duration_text(0), "0.000");
  EXPECT_EQ(duration_text(12.5), "12.500");
  EXPECT_EQ(duration_text(0.0005), "0.001");  // the double is a hair above 0.0005
  EXPECT_EQ(duration_text(1.2345), "1.234");  // the double is a hair below 1.2345
  EXPECT_EQ(duration_text(0.0004999), "0.000");
  EXPECT_EQ(duration_text(1234567.891), "1234567.891");
}

TEST(AccessLog, NonsenseDurationsStayBoundedNumbers) {
  EXPECT_EQ(duration_text(-3), "0.000");
  EXPECT_EQ(duration_text(std::numeric_limits<double>::quiet_NaN()), "0.000");
  EXPECT_EQ(duration_text(std::numeric_limits<double>::infinity()), "0.000");
  EXPECT_EQ(duration_text(1e300), "1000000000000.000");
}

}  // namespace
}  // namespace crud::app

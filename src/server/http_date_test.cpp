#include "server/http_date.hpp"

#include <gtest/gtest.h>

namespace crud::server {
namespace {

TEST(HttpDate, FormatsImfFixdate) {
  EXPECT_EQ(format_http_date(784'111'777'000), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(format_http_date(784'111'777'999), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
}

TEST(HttpDate, CachedValueFollowsTheSecond) {
  EXPECT_EQ(cached_http_date(784'111'777'000), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(cached_http_date(784'111'777'500), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(cached_http_date(784'111'778'000), "Sun, 06 Nov 1994 08:49:38 GMT");
}

}  // namespace
}  // namespace crud::server

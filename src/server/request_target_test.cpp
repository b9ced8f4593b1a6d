#include "server/request_target.hpp"

#include <gtest/gtest.h>

namespace crud::server {
namespace {

using fields = app::field_list;

TEST(RequestTarget, DecodesPathAndQuery) {
  auto t = parse_request_target("/items/a%20b%2Fc?limit=5&lastKey=abc%3D%3D");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/items/a b%2Fc");
  EXPECT_EQ(t->query, (fields{{"limit", "5"}, {"lastKey", "abc=="}}));
}

TEST(RequestTarget, AnEncodedSlashIsNoSegmentBoundary) {
  // Otherwise "/items/<id>%2Frestore" would route as the restore of <id>.
  auto t = parse_request_target("/items/item_01JDQ3G6X0S6PZ9R6X7Y8Z9ABC%2Frestore");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/items/item_01JDQ3G6X0S6PZ9R6X7Y8Z9ABC%2Frestore");
  auto lower = parse_request_target("http://h/items/x%2fy/restore");
  ASSERT_TRUE(lower);
  EXPECT_EQ(lower->path, "/items/x%2fy/restore");
  auto other = parse_request_target("/items/%41%2520");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->path, "/items/A%20");
}

TEST(RequestTarget, PlusIsASpaceInTheQueryButNotInThePath) {
  auto t = parse_request_target("/a+b?name=x+y%2B");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/a+b");
  EXPECT_EQ(t->query, (fields{{"name", "x y+"}}));
}

TEST(RequestTarget, KeepsOrderRepeatsAndValuelessParameters) {
  auto t = parse_request_target("/items?b=2&a=1&b=3&flag&&empty=");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->query, (fields{{"b", "2"}, {"a", "1"}, {"b", "3"}, {"flag", ""}, {"empty", ""}}));
}

TEST(RequestTarget, NoQueryAndEmptyQuery) {
  auto plain = parse_request_target("/items");
  ASSERT_TRUE(plain);
  EXPECT_TRUE(plain->query.empty());
  auto empty = parse_request_target("/items?");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->path, "/items");
  EXPECT_TRUE(empty->query.empty());
}

TEST(RequestTarget, RejectsMalformedTargets) {
  EXPECT_FALSE(parse_request_target("/items/%zz"));
  EXPECT_FALSE(parse_request_target("/items/%2"));
  EXPECT_FALSE(parse_request_target("/items?x=%G1"));
  EXPECT_FALSE(parse_request_target(""));
  EXPECT_FALSE(parse_request_target("*"));
  EXPECT_FALSE(parse_request_target("items"));
  EXPECT_FALSE(parse_request_target("mailto:someone@example.com"));
}

TEST(RequestTarget, AcceptsAbsoluteForm) {
  auto t = parse_request_target("http://example.com:8080/items/x?limit=2");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/items/x");
  EXPECT_EQ(t->query, (fields{{"limit", "2"}}));
  auto bare = parse_request_target("http://example.com");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->path, "/");
}

}  // namespace
}  // namespace crud::server

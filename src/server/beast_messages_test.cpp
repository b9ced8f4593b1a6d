#include "server/beast_messages.hpp"

#include <gtest/gtest.h>

namespace crud::server {
namespace {

namespace http = boost::beast::http;

TEST(BeastMessages, ToAppRequestCopiesMethodHeadersAndBody) {
  beast_request msg{http::verb::post, "/ignored", 11};
  msg.set(http::field::content_type, "application/json");
  msg.insert("X-Correlation-Id", "abc");
  msg.body() = R"({"name":"x"})";
  request_target target{"/items", {{"a", "1"}}};
  const app::request req = to_app_request(std::move(msg), target);
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.path, "/items");
  EXPECT_EQ(req.query, (app::field_list{{"a", "1"}}));
  EXPECT_EQ(req.header("content-type"), "application/json");
  EXPECT_EQ(req.header("X-CORRELATION-ID"), "abc");
  EXPECT_EQ(req.body, R"({"name":"x"})");
  EXPECT_EQ(req.owner, "public");
  EXPECT_TRUE(req.request_id.empty());
}

TEST(BeastMessages, ToAppRequestKeepsAnUnknownMethodAsSent) {
  beast_request msg;
  msg.method_string("BREW");
  const app::request req = to_app_request(std::move(msg), {"/", {}});
  EXPECT_EQ(req.method, "BREW");
}

app::response sample(int status, std::string body) {
  app::response res;
  res.status = status;
  res.headers = {{"Content-Type", "application/json; charset=utf-8"}, {"ETag", "\"v1\""}};
  res.body = std::move(body);
  return res;
}

TEST(BeastMessages, ToBeastResponseSetsStatusHeadersAndLength) {
  auto out = to_beast_response(sample(201, "{\"a\":1}"), {.date = "Sun, 06 Nov 1994 08:49:37 GMT"});
  EXPECT_EQ(out.result_int(), 201u);
  EXPECT_EQ(out[http::field::content_type], "application/json; charset=utf-8");
  EXPECT_EQ(out[http::field::etag], "\"v1\"");
  EXPECT_EQ(out[http::field::content_length], "7");
  EXPECT_EQ(out[http::field::date], "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(out.body(), "{\"a\":1}");
  EXPECT_TRUE(out.keep_alive());
}

TEST(BeastMessages, HeadGetsTheLengthButNoBody) {
  auto out = to_beast_response(sample(200, "0123456789"), {.head_request = true});
  EXPECT_EQ(out[http::field::content_length], "10");
  EXPECT_TRUE(out.body().empty());
}

TEST(BeastMessages, NotModifiedHasNeitherBodyNorLength) {
  auto out = to_beast_response(sample(304, ""), {});
  EXPECT_EQ(out.count(http::field::content_length), 0u);
  EXPECT_TRUE(out.body().empty());
}

TEST(BeastMessages, ConnectionCloseWhenNotKeepingAlive) {
  auto out = to_beast_response(sample(200, "x"), {.keep_alive = false});
  EXPECT_FALSE(out.keep_alive());
  EXPECT_EQ(out[http::field::connection], "close");
}

TEST(BeastMessages, FramingAndUnsafeHeadersFromTheAppAreDropped) {
  app::response res = sample(200, "abc");
  res.headers.emplace_back("Content-Length", "999");
  res.headers.emplace_back("Transfer-Encoding", "chunked");
  res.headers.emplace_back("Connection", "keep-alive");
  res.headers.emplace_back("X-Evil", "a\r\nSet-Cookie: x=y");
  res.headers.emplace_back("Bad Name", "v");
  auto out = to_beast_response(std::move(res), {.keep_alive = false});
  EXPECT_EQ(out[http::field::content_length], "3");
  EXPECT_EQ(out.count(http::field::transfer_encoding), 0u);
  EXPECT_EQ(out[http::field::connection], "close");
  EXPECT_EQ(out.count("X-Evil"), 0u);
  EXPECT_EQ(out.count(http::field::set_cookie), 0u);
  EXPECT_EQ(out.count("Bad Name"), 0u);
}

TEST(BeastMessages, Http10KeepAliveIsExplicit) {
  auto out = to_beast_response(sample(200, "x"), {.version = 10, .keep_alive = true});
  EXPECT_EQ(out.version(), 10u);
  EXPECT_EQ(out[http::field::connection], "keep-alive");
}

}  // namespace
}  // namespace crud::server

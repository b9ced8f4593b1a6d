#include "server/beast_messages.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/write.hpp>

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

// What a client makes of the wire response: Beast's own parser reads it back. `head_request`
// tells the parser, as a client knows, that no body follows whatever Content-Length says.
beast_response parsed(const wire_response& wire, bool head_request = false) {
  http::response_parser<http::string_body> parser;
  parser.eager(true);
  if (head_request)
    parser.skip(true);
  const std::string bytes = wire.head + wire.body;
  boost::system::error_code ec;
  const std::size_t used = parser.put(boost::asio::buffer(bytes), ec);
  EXPECT_FALSE(ec) << ec.message() << " in:\n" << bytes;
  if (!parser.is_done())
    parser.put_eof(ec);  // a body delimited by the end of the connection (none here)
  EXPECT_TRUE(parser.is_done()) << bytes;
  EXPECT_EQ(used, bytes.size()) << "bytes after the message:\n" << bytes;
  return parser.release();
}

// The same message through Beast's serializer, for comparing bytes.
std::string beast_serialized(const beast_response& msg) {
  std::ostringstream out;
  out << msg;
  return out.str();
}

TEST(BeastMessages, SerializedResponseSetsStatusHeadersAndLength) {
  auto wire =
      serialize_response(sample(201, "{\"a\":1}"), {.date = "Sun, 06 Nov 1994 08:49:37 GMT"});
  auto out = parsed(wire);
  EXPECT_EQ(out.result_int(), 201u);
  EXPECT_EQ(out.reason(), "Created");
  EXPECT_EQ(out[http::field::content_type], "application/json; charset=utf-8");
  EXPECT_EQ(out[http::field::etag], "\"v1\"");
  EXPECT_EQ(out[http::field::content_length], "7");
  EXPECT_EQ(out[http::field::date], "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(out.body(), "{\"a\":1}");
  EXPECT_TRUE(out.keep_alive());
}

TEST(BeastMessages, SerializedBytesAreThoseOfBeastsSerializer) {
  for (const bool keep_alive : {true, false}) {
    for (const unsigned version : {10u, 11u}) {
      beast_response msg{http::status::not_found, version};
      msg.set(http::field::content_type, "application/json; charset=utf-8");
      msg.insert("X-Request-Id", "r-1");
      msg.set(http::field::date, "Sun, 06 Nov 1994 08:49:37 GMT");
      msg.body() = R"({"error":{}})";
      msg.content_length(msg.body().size());
      msg.keep_alive(keep_alive);
      app::response res;
      res.status = 404;
      res.headers = {{"Content-Type", "application/json; charset=utf-8"}, {"X-Request-Id", "r-1"}};
      res.body = R"({"error":{}})";
      auto wire = serialize_response(
          std::move(res),
          {.version = version, .keep_alive = keep_alive, .date = "Sun, 06 Nov 1994 08:49:37 GMT"});
      EXPECT_EQ(wire.head + wire.body, beast_serialized(msg))
          << "HTTP/" << version << " keep-alive " << keep_alive;
    }
  }
}

TEST(BeastMessages, HeadGetsTheLengthButNoBody) {
  auto wire = serialize_response(sample(200, "0123456789"), {.head_request = true});
  EXPECT_TRUE(wire.body.empty());
  auto out = parsed(wire, true);
  EXPECT_EQ(out[http::field::content_length], "10");
  EXPECT_TRUE(out.body().empty());
}

TEST(BeastMessages, NotModifiedHasNeitherBodyNorLength) {
  auto wire = serialize_response(sample(304, "ignored"), {});
  EXPECT_TRUE(wire.body.empty());
  auto out = parsed(wire);
  EXPECT_EQ(out.result_int(), 304u);
  EXPECT_EQ(out.count(http::field::content_length), 0u);
  EXPECT_TRUE(out.body().empty());
}

TEST(BeastMessages, ConnectionCloseWhenNotKeepingAlive) {
  auto out = parsed(serialize_response(sample(200, "x"), {.keep_alive = false}));
  EXPECT_FALSE(out.keep_alive());
  EXPECT_EQ(out[http::field::connection], "close");
}

TEST(BeastMessages, FramingAndUnsafeHeadersFromTheAppAreDropped) {
  app::response res = sample(200, "abc");
  res.headers.emplace_back("Content-Length", "999");
  res.headers.emplace_back("Transfer-Encoding", "chunked");
  res.headers.emplace_back("Connection", "keep-alive");
  res.headers.emplace_back("Date", "yesterday");
  res.headers.emplace_back("X-Evil", "a\r\nSet-Cookie: x=y");
  res.headers.emplace_back("X-Nul", std::string("a\0b", 3));
  res.headers.emplace_back("Bad Name", "v");
  res.headers.emplace_back("", "empty name");
  auto wire = serialize_response(std::move(res), {.keep_alive = false});
  auto out = parsed(wire);
  EXPECT_EQ(out[http::field::content_length], "3");
  EXPECT_EQ(out.count(http::field::content_length), 1u);
  EXPECT_EQ(out.count(http::field::transfer_encoding), 0u);
  EXPECT_EQ(out.count(http::field::date), 0u);
  EXPECT_EQ(out[http::field::connection], "close");
  EXPECT_EQ(out.count("X-Evil"), 0u);
  EXPECT_EQ(out.count("X-Nul"), 0u);
  EXPECT_EQ(out.count(http::field::set_cookie), 0u);
  EXPECT_EQ(out.count("Bad Name"), 0u);
  EXPECT_EQ(out.body(), "abc");
}

TEST(BeastMessages, Http10KeepAliveIsExplicit) {
  auto out = parsed(serialize_response(sample(200, "x"), {.version = 10, .keep_alive = true}));
  EXPECT_EQ(out.version(), 10u);
  EXPECT_EQ(out[http::field::connection], "keep-alive");
  EXPECT_TRUE(out.keep_alive());
}

TEST(BeastMessages, AnUnusualStatusStillMakesAValidStatusLine) {
  auto out = parsed(serialize_response(sample(599, "x"), {}));
  EXPECT_EQ(out.result_int(), 599u);
  EXPECT_EQ(out.body(), "x");
}

}  // namespace
}  // namespace crud::server

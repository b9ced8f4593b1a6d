#include "aws/dynamodb_client.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <vector>

#include <boost/asio/error.hpp>
#include <boost/json.hpp>

#include "support/testing_fakes.hpp"

namespace crud::aws {
namespace {

// Answers from a script and records what was sent.
class scripted_http final : public http_client {
 public:
  std::deque<boost::system::result<http_response>> script;
  std::vector<http_request> sent;

  boost::system::result<http_response> send(const http_request& request) override {
    sent.push_back(request);
    if (script.empty())
      return ok("{}");
    auto r = std::move(script.front());
    script.pop_front();
    return r;
  }

  static http_response ok(std::string body) { return http_response{200, {}, std::move(body)}; }
  static http_response error(unsigned status, std::string_view type) {
    return http_response{status,
                         {},
                         R"({"__type":"com.amazonaws.dynamodb.v20120810#)" + std::string(type) +
                             R"(","message":"m"})"};
  }
};

std::string header(const http_request& r, std::string_view name) {
  for (const auto& [n, v] : r.headers)
    if (n == name)
      return v;
  return {};
}

class DynamodbClient : public ::testing::Test {
 public:  // the tests reach into the fixture's fakes, as they would a struct's
  DynamodbClient() { reset(); }

  void reset(retry_policy policy = {}) {
    dynamodb_config config;
    config.region = "eu-west-1";
    config.endpoint = {false, "127.0.0.1", 8000};
    config.retry = policy;
    config.attempt_timeout_ms = 3000;
    client = std::make_unique<dynamodb_client>(
        config, dynamodb_deps{http, creds, clock, random, [this](std::int64_t ms) {
                                sleeps.push_back(ms);
                                clock.advance_ms(ms);
                              }});
  }

  ddb_result<std::string> call(request_context ctx = {}) {
    return client->call(ctx, "GetItem", R"({"TableName":"t"})");
  }

  scripted_http http;
  static_credentials_provider creds{credentials{"AKIDEXAMPLE", "secret", "token", 0}};
  core::testing::fake_clock clock;
  core::testing::counting_random random;
  std::vector<std::int64_t> sleeps;
  std::unique_ptr<dynamodb_client> client;
};

TEST_F(DynamodbClient, SendsASignedJson10Request) {
  http.script.push_back(scripted_http::ok("{}"));
  ASSERT_TRUE(call({0, "Root=1-abc"}).has_value());
  ASSERT_EQ(http.sent.size(), 1u);
  const auto& r = http.sent[0];
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/");
  EXPECT_EQ(r.host, "127.0.0.1");
  EXPECT_EQ(r.port, 8000);
  EXPECT_FALSE(r.tls);
  EXPECT_EQ(header(r, "Host"), "127.0.0.1:8000");
  EXPECT_EQ(header(r, "X-Amz-Target"), "DynamoDB_20120810.GetItem");
  EXPECT_EQ(header(r, "Content-Type"), "application/x-amz-json-1.0");
  EXPECT_EQ(header(r, "X-Amz-Security-Token"), "token");
  EXPECT_EQ(header(r, "X-Amzn-Trace-Id"), "Root=1-abc");
  EXPECT_NE(header(r, "Authorization").find("/eu-west-1/dynamodb/aws4_request"), std::string::npos);
  EXPECT_EQ(r.body, R"({"TableName":"t"})");
}

TEST_F(DynamodbClient, RetriesThrottlingAtMostThreeAttemptsWithBoundedBackoff) {
  for (int i = 0; i < 5; ++i)
    http.script.push_back(scripted_http::error(400, "ProvisionedThroughputExceededException"));
  auto r = call();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().type, "ProvisionedThroughputExceededException");
  EXPECT_EQ(r.error().attempts, 3);
  EXPECT_EQ(http.sent.size(), 3u);
  ASSERT_EQ(sleeps.size(), 2u);
  EXPECT_LE(sleeps[0], 25);
  EXPECT_LE(sleeps[1], 50);
  EXPECT_EQ(client->retry_tokens(), 490);
}

TEST_F(DynamodbClient, SucceedsAfterA500AndRefundsTheQuota) {
  http.script.push_back(scripted_http::error(500, "InternalServerError"));
  http.script.push_back(http_response{503, {}, "Service Unavailable"});
  http.script.push_back(scripted_http::ok(R"({"Item":{}})"));
  auto r = call();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(http.sent.size(), 3u);
  EXPECT_EQ(client->retry_tokens(), 495) << "two retries took 10, success gave back the last 5";
}

TEST_F(DynamodbClient, NeverRetriesAFailedConditionAndReturnsTheOldItem) {
  http.script.push_back(http_response{
      400,
      {},
      R"({"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",)"
      R"("message":"The conditional request failed","Item":{"version":{"N":"3"}}})"});
  auto r = call();
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is("ConditionalCheckFailedException"));
  EXPECT_EQ(r.error().message, "The conditional request failed");
  ASSERT_TRUE(r.error().item.has_value());
  EXPECT_EQ(r.error().item->at("version").as_int64(), 3);
  EXPECT_EQ(http.sent.size(), 1u);
  EXPECT_TRUE(sleeps.empty());
}

TEST_F(DynamodbClient, ATransportResendCountsAsAnAttempt) {
  // The pool sent the request again on a fresh connection after a reused one failed: the first
  // copy may have been applied, so a failed condition must not look like a first attempt.
  auto resent = scripted_http::error(400, "ConditionalCheckFailedException");
  resent.sends = 2;
  http.script.push_back(resent);
  auto r = call();
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().is("ConditionalCheckFailedException"));
  EXPECT_EQ(r.error().attempts, 2);
  EXPECT_EQ(http.sent.size(), 1u) << "the client itself did not retry";
}

TEST_F(DynamodbClient, NeverRetriesValidationOrAuthErrors) {
  http.script.push_back(scripted_http::error(400, "ValidationException"));
  EXPECT_FALSE(call().has_value());
  http.script.push_back(scripted_http::error(400, "UnrecognizedClientException"));
  auto r = call();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().type, "UnrecognizedClientException");
  EXPECT_EQ(http.sent.size(), 2u);
}

TEST_F(DynamodbClient, RetriesTransportErrorsAtTheTimeoutCost) {
  http.script.push_back(boost::system::error_code(boost::asio::error::timed_out));
  http.script.push_back(boost::system::error_code(boost::asio::error::connection_refused));
  http.script.push_back(boost::system::error_code(boost::asio::error::connection_reset));
  auto r = call();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().what, dynamodb_error::kind::transport);
  EXPECT_EQ(http.sent.size(), 3u);
  EXPECT_EQ(client->retry_tokens(), 480);
}

TEST_F(DynamodbClient, AnExhaustedQuotaStopsRetrying) {
  retry_policy p;
  p.quota_capacity = 7;
  reset(p);
  for (int i = 0; i < 6; ++i)
    http.script.push_back(scripted_http::error(400, "ThrottlingException"));
  EXPECT_FALSE(call().has_value());
  EXPECT_EQ(http.sent.size(), 2u) << "one retry paid 5 of 7 tokens, the next could not pay";
  EXPECT_FALSE(call().has_value());
  EXPECT_EQ(http.sent.size(), 3u) << "no retry at all once the quota is empty";
}

TEST_F(DynamodbClient, TheDeadlineBoundsAttemptsAndTheirTimeouts) {
  request_context ctx{clock.wall_ms() + 1000, {}};
  http.script.push_back(scripted_http::error(500, "InternalServerError"));
  EXPECT_TRUE(call(ctx).has_value());
  EXPECT_LE(http.sent[0].timeout_ms, 1000) << "an attempt never outlives the deadline";

  http.sent.clear();
  clock.advance_ms(2000);
  auto r = call(ctx);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().what, dynamodb_error::kind::deadline);
  EXPECT_TRUE(http.sent.empty());
}

TEST_F(DynamodbClient, DoesNotSleepPastTheDeadline) {
  retry_policy p;
  p.base_delay_ms = 10'000;
  reset(p);
  for (int i = 0; i < 3; ++i)
    http.script.push_back(scripted_http::error(400, "ThrottlingException"));
  // With a 10 s ceiling, jitter from counting_random almost surely exceeds 5 ms.
  auto r = call({clock.wall_ms() + 5, {}});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().type, "ThrottlingException");
  EXPECT_EQ(http.sent.size(), 1u);
  EXPECT_TRUE(sleeps.empty());
}

TEST_F(DynamodbClient, VerifiesTheCrc32OfTheBodyAndRetriesAMismatch) {
  http.script.push_back(http_response{200, {{"x-amz-crc32", "12345"}}, "{}"});
  http.script.push_back(http_response{200, {{"X-Amz-Crc32", std::to_string(crc32("{}"))}}, "{}"});
  auto r = call();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(http.sent.size(), 2u);
  for (int i = 0; i < 3; ++i)
    http.script.push_back(http_response{200, {{"x-amz-crc32", "1"}}, "{}"});
  auto bad = call();
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().what, dynamodb_error::kind::crc_mismatch);
}

TEST_F(DynamodbClient, QueryParsesItemsAndTheLastEvaluatedKey) {
  http.script.push_back(
      scripted_http::ok(R"({"Items":[{"pk":{"S":"a"},"n":{"N":"1"}}],"Count":1,)"
                        R"("LastEvaluatedKey":{"pk":{"S":"a"},"sk":{"S":"b"}}})"));
  query_input in;
  in.table = "t";
  in.key_condition = "pk = :pk";
  in.values[":pk"] = attribute_value::string("a");
  in.limit = 5;
  auto r = client->query({}, in);
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->items.size(), 1u);
  EXPECT_EQ(r->items[0].at("n").as_int64(), 1);
  ASSERT_TRUE(r->last_evaluated_key);
  EXPECT_EQ(*r->last_evaluated_key->at("sk").as_string(), "b");
  auto body = boost::json::parse(http.sent[0].body).as_object();
  EXPECT_EQ(body["ExpressionAttributeValues"].as_object()[":pk"].as_object()["S"], "a");
  EXPECT_EQ(body["Limit"].as_int64(), 5);
  EXPECT_EQ(header(http.sent[0], "X-Amz-Target"), "DynamoDB_20120810.Query");
}

TEST(DynamodbEndpoint, ResolvesTheRegionalDefaultAndOverrides) {
  auto d = resolve_dynamodb_endpoint("", "eu-west-1");
  ASSERT_TRUE(d.has_value());
  EXPECT_TRUE(d->tls);
  EXPECT_EQ(d->host, "dynamodb.eu-west-1.amazonaws.com");
  EXPECT_EQ(d->port, 443);
  auto local = resolve_dynamodb_endpoint("http://127.0.0.1:8000", "us-east-1");
  ASSERT_TRUE(local.has_value());
  EXPECT_FALSE(local->tls);
  EXPECT_EQ(local->host, "127.0.0.1");
  EXPECT_EQ(local->port, 8000);
  auto https = resolve_dynamodb_endpoint("https://ddb.example.com/", "us-east-1");
  ASSERT_TRUE(https.has_value());
  EXPECT_EQ(https->port, 443);
  EXPECT_FALSE(resolve_dynamodb_endpoint("ftp://x", "us-east-1").has_value());
  EXPECT_FALSE(resolve_dynamodb_endpoint("http://x/path", "us-east-1").has_value());
  EXPECT_FALSE(resolve_dynamodb_endpoint("localhost:8000x", "us-east-1").has_value());
}

TEST(DynamodbCrc32, MatchesTheStandardCheckValue) {
  EXPECT_EQ(crc32("123456789"), 0xCBF43926U);
  EXPECT_EQ(crc32(""), 0U);
}

TEST(AttributeValue, RoundTripsEveryTypeThroughJson) {
  attribute_map m;
  m["s"] = attribute_value::string("x\"y");
  m["n"] = attribute_value::number(-42);
  m["b"] = attribute_value::boolean(true);
  m["z"] = attribute_value::null_value();
  m["ss"] = attribute_value::string_set({"a", "b"});
  m["ns"] = attribute_value::number_set({"1", "2.5"});
  m["m"] = attribute_value::of_map({{"k", attribute_value::string("v")}});
  m["l"] = attribute_value::of_list({attribute_value::number(1), attribute_value::string("s")});
  auto text = boost::json::serialize(to_json(m));
  auto back = attribute_map_from_json(boost::json::parse(text));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, m);
  auto wire = boost::json::parse(text).as_object();
  EXPECT_EQ(wire["n"].as_object()["N"], "-42");
  EXPECT_EQ(wire["z"].as_object()["NULL"], true);
  EXPECT_EQ(wire["ns"].as_object()["NS"].as_array().size(), 2u);
  EXPECT_FALSE(attribute_from_json(boost::json::parse(R"({"X":"1"})")).has_value());
  EXPECT_FALSE(attribute_value::number_text("1.5").as_int64().has_value());
}

}  // namespace
}  // namespace crud::aws

namespace crud::aws {
namespace {

TEST_F(DynamodbClient, ACrc32HeaderMustBeANumberAndNothingMore) {
  // The number the header starts with is right, but the header goes on: it does not match.
  const std::string right = std::to_string(crc32("{}"));
  for (const std::string& bad : {right + "x", right + " ", right + "0", "+" + right}) {
    for (int i = 0; i < 3; ++i)
      http.script.push_back(http_response{200, {{"x-amz-crc32", bad}}, "{}"});
    auto r = call();
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().what, dynamodb_error::kind::crc_mismatch) << bad;
    http.script.clear();
  }
  http.script.push_back(http_response{200, {{"x-amz-crc32", right}}, "{}"});
  EXPECT_TRUE(call().has_value());
}

}  // namespace
}  // namespace crud::aws

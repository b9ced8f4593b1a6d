#include "aws/xray_subsegment.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include <boost/json.hpp>

#include "support/testing_fakes.hpp"

namespace crud::aws {
namespace {

namespace json = boost::json;

constexpr std::string_view root = "1-5759e988-bd862e3fe1be46a994272793";
constexpr std::string_view header_text =
    "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

json::object parse(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  EXPECT_FALSE(ec) << text;
  EXPECT_TRUE(v.is_object()) << text;
  return v.is_object() ? v.as_object() : json::object{};
}

call_record put_item_call() {
  call_record c;
  c.operation = "PutItem";
  c.table = "items";
  c.region = "eu-west-1";
  c.trace_header = header_text;
  c.start_ms = 1'768'473'000'123;
  c.duration_ns = 4'500'000;
  c.attempts = 1;
  c.http_status = 200;
  c.request_id = "REQ123";
  return c;
}

json::object subsegment(const call_record& c) {
  auto h = parse_trace_header(header_text);
  EXPECT_TRUE(h.has_value());
  return parse(format_dynamodb_subsegment(h.value_or(trace_header{}), c, "0123456789abcdef"));
}

TEST(XraySubsegment, ParsesTheTraceHeader) {
  auto h = parse_trace_header(header_text);
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->root, root);
  EXPECT_EQ(h->parent, "53995c3f42cd8ad8");
  EXPECT_TRUE(h->sampled);
  EXPECT_TRUE(traced(*h));
}

TEST(XraySubsegment, ReadsTheHeaderInAnyOrderWithOtherFields) {
  auto h = parse_trace_header(
      " Sampled=1; Lineage=a87bd80c:0 ;Parent=53995c3f42cd8ad8;Root=1-5759e988-"
      "bd862e3fe1be46a994272793");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->root, root);
  EXPECT_EQ(h->parent, "53995c3f42cd8ad8");
  EXPECT_TRUE(traced(*h));
}

TEST(XraySubsegment, TracesOnlySampledRequestsWithAParent) {
  auto unsampled = parse_trace_header(
      "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0");
  ASSERT_TRUE(unsampled.has_value());
  EXPECT_FALSE(traced(*unsampled));
  auto undecided = parse_trace_header(
      "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=?");
  ASSERT_TRUE(undecided.has_value());
  EXPECT_FALSE(traced(*undecided));
  auto orphan = parse_trace_header("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1");
  ASSERT_TRUE(orphan.has_value());
  EXPECT_FALSE(traced(*orphan));
  auto bad_parent =
      parse_trace_header("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=xyz;Sampled=1");
  ASSERT_TRUE(bad_parent.has_value());
  EXPECT_TRUE(bad_parent->parent.empty());
  EXPECT_FALSE(traced(*bad_parent));
}

TEST(XraySubsegment, RejectsAHeaderWithoutAWellFormedRoot) {
  EXPECT_FALSE(parse_trace_header("").has_value());
  EXPECT_FALSE(parse_trace_header("Parent=53995c3f42cd8ad8;Sampled=1").has_value());
  EXPECT_FALSE(parse_trace_header("Root=1-abc;Parent=53995c3f42cd8ad8;Sampled=1").has_value());
  EXPECT_FALSE(parse_trace_header("Root=2-5759e988-bd862e3fe1be46a994272793;Sampled=1"));
  EXPECT_FALSE(parse_trace_header("Root=1-5759e988-bd862e3fe1be46a99427279\";Sampled=1"));
}

TEST(XraySubsegment, NewIdsAreSixteenHexDigitsFromTheRandomSource) {
  core::testing::counting_random random;
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    std::string id = new_segment_id(random);
    ASSERT_EQ(id.size(), 16u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 50u);
  core::testing::counting_random a;
  core::testing::counting_random b;
  EXPECT_EQ(new_segment_id(a), new_segment_id(b)) << "ids come from the injected source";
}

TEST(XraySubsegment, DescribesASuccessfulCall) {
  json::object s = subsegment(put_item_call());
  EXPECT_EQ(s.at("type").as_string(), "subsegment");
  EXPECT_EQ(s.at("id").as_string(), "0123456789abcdef");
  EXPECT_EQ(s.at("trace_id").as_string(), root);
  EXPECT_EQ(s.at("parent_id").as_string(), "53995c3f42cd8ad8");
  EXPECT_EQ(s.at("name").as_string(), "DynamoDB");
  EXPECT_EQ(s.at("namespace").as_string(), "aws");
  EXPECT_NEAR(s.at("start_time").to_number<double>(), 1'768'473'000.123, 1e-6);
  EXPECT_NEAR(s.at("end_time").to_number<double>(), 1'768'473'000.1275, 1e-6);
  const json::object& aws = s.at("aws").as_object();
  EXPECT_EQ(aws.at("operation").as_string(), "PutItem");
  EXPECT_EQ(aws.at("table_name").as_string(), "items");
  EXPECT_EQ(aws.at("region").as_string(), "eu-west-1");
  EXPECT_EQ(aws.at("retries").to_number<int>(), 0);
  EXPECT_EQ(aws.at("request_id").as_string(), "REQ123");
  EXPECT_EQ(s.at("http").at("response").at("status").to_number<int>(), 200);
  EXPECT_FALSE(s.contains("fault"));
  EXPECT_FALSE(s.contains("error"));
  EXPECT_FALSE(s.contains("throttle"));
}

TEST(XraySubsegment, CountsRetries) {
  call_record c = put_item_call();
  c.attempts = 3;
  EXPECT_EQ(subsegment(c).at("aws").at("retries").to_number<int>(), 2);
  c.attempts = 0;  // nothing could be sent
  EXPECT_EQ(subsegment(c).at("aws").at("retries").to_number<int>(), 0);
}

TEST(XraySubsegment, FlagsAClientErrorAsError) {
  dynamodb_error e;
  e.what = dynamodb_error::kind::service;
  e.http_status = 400;
  e.type = "ConditionalCheckFailedException";
  call_record c = put_item_call();
  c.http_status = 400;
  c.error = &e;
  json::object s = subsegment(c);
  EXPECT_TRUE(s.at("error").as_bool());
  EXPECT_FALSE(s.contains("fault"));
  EXPECT_FALSE(s.contains("throttle"));
  EXPECT_EQ(s.at("http").at("response").at("status").to_number<int>(), 400);
}

TEST(XraySubsegment, FlagsThrottlingAsThrottleAndError) {
  for (auto [status, type] : std::vector<std::pair<unsigned, std::string>>{
           {400, "ThrottlingException"},
           {400, "ProvisionedThroughputExceededException"},
           {400, "RequestLimitExceeded"},
           {429, "TooManyRequests"}}) {
    dynamodb_error e;
    e.http_status = status;
    e.type = type;
    call_record c = put_item_call();
    c.http_status = status;
    c.attempts = 3;
    c.error = &e;
    json::object s = subsegment(c);
    EXPECT_TRUE(s.contains("throttle") && s.at("throttle").as_bool()) << type;
    EXPECT_TRUE(s.contains("error") && s.at("error").as_bool()) << type;
    EXPECT_FALSE(s.contains("fault")) << type;
  }
}

TEST(XraySubsegment, FlagsServerAndTransportFailuresAsFault) {
  dynamodb_error server;
  server.http_status = 500;
  server.type = "InternalServerError";
  call_record c = put_item_call();
  c.http_status = 500;
  c.error = &server;
  json::object s = subsegment(c);
  EXPECT_TRUE(s.at("fault").as_bool());
  EXPECT_FALSE(s.contains("error"));

  for (auto kind : {dynamodb_error::kind::transport, dynamodb_error::kind::timeout,
                    dynamodb_error::kind::deadline, dynamodb_error::kind::crc_mismatch,
                    dynamodb_error::kind::bad_response, dynamodb_error::kind::credentials}) {
    dynamodb_error e;
    e.what = kind;
    call_record t = put_item_call();
    t.http_status = 0;
    t.request_id = {};
    t.error = &e;
    json::object f = subsegment(t);
    EXPECT_TRUE(f.contains("fault") && f.at("fault").as_bool()) << static_cast<int>(kind);
    EXPECT_FALSE(f.contains("error"));
    EXPECT_FALSE(f.contains("http")) << "no answer, no status";
    EXPECT_FALSE(f.at("aws").as_object().contains("request_id"));
  }
}

json::object subsegment_with_cause(const call_record& c) {
  auto h = parse_trace_header(header_text);
  return parse(format_dynamodb_subsegment(h.value_or(trace_header{}), c, "0123456789abcdef",
                                          "fedcba9876543210"));
}

TEST(XraySubsegment, AFailedCallSaysWhyInCause) {
  dynamodb_error throttled;
  throttled.http_status = 400;
  throttled.type = "ProvisionedThroughputExceededException";
  throttled.message = "Rate of requests exceeds the allowed throughput.";
  call_record c = put_item_call();
  c.http_status = 400;
  c.error = &throttled;
  json::object s = subsegment_with_cause(c);
  ASSERT_TRUE(s.contains("cause")) << s;
  const json::array& ex = s.at("cause").at("exceptions").as_array();
  ASSERT_EQ(ex.size(), 1U);
  EXPECT_EQ(ex[0].at("id").as_string(), "fedcba9876543210");
  EXPECT_EQ(ex[0].at("type").as_string(), "ProvisionedThroughputExceededException");
  EXPECT_EQ(ex[0].at("message").as_string(), throttled.message);
  EXPECT_TRUE(ex[0].at("remote").as_bool());

  dynamodb_error dropped;
  dropped.what = dynamodb_error::kind::transport;
  dropped.transport_error = make_error_code(boost::system::errc::connection_reset);
  call_record t = put_item_call();
  t.http_status = 0;
  t.error = &dropped;
  json::object f = subsegment_with_cause(t);
  const json::object& e = f.at("cause").at("exceptions").as_array().at(0).as_object();
  EXPECT_EQ(e.at("type").as_string(), "TransportError");
  EXPECT_FALSE(e.at("message").as_string().empty());
  EXPECT_FALSE(e.at("remote").as_bool());
}

TEST(XraySubsegment, ASuccessfulCallHasNoCause) {
  EXPECT_FALSE(subsegment_with_cause(put_item_call()).contains("cause"));
}

TEST(XraySubsegment, EscapesWhatItCopies) {
  call_record c = put_item_call();
  c.table = "t\"1";
  c.request_id = "a\\b";
  json::object s = subsegment(c);
  EXPECT_EQ(s.at("aws").at("table_name").as_string(), "t\"1");
  EXPECT_EQ(s.at("aws").at("request_id").as_string(), "a\\b");
}

TEST(XraySubsegment, FramesADatagramForTheDaemon) {
  const std::string doc = R"({"type":"subsegment"})";
  const std::string d = xray_datagram(doc);
  const auto newline = d.find('\n');
  ASSERT_NE(newline, std::string::npos);
  EXPECT_EQ(d.substr(0, newline), R"({"format": "json", "version": 1})");
  json::object header = parse(d.substr(0, newline));
  EXPECT_EQ(header.at("format").as_string(), "json");
  EXPECT_EQ(header.at("version").to_number<int>(), 1);
  EXPECT_EQ(d.substr(newline + 1), doc);
}

}  // namespace
}  // namespace crud::aws

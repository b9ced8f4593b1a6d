#include "aws/xray_tracer.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "aws/xray_subsegment.hpp"
#include "support/testing_fakes.hpp"

namespace crud::aws {
namespace {

namespace json = boost::json;

constexpr std::string_view sampled =
    "Root=1-6790a1b2-0123456789abcdef01234567;Parent=00000000000010ab;Sampled=1";
constexpr std::string_view unsampled =
    "Root=1-6790a1b2-0123456789abcdef01234567;Parent=00000000000010ab;Sampled=0";

class capture_emitter final : public xray_emitter {
 public:
  void emit(std::string_view datagram) noexcept override { sent.emplace_back(datagram); }
  std::vector<std::string> sent;
};

// Keeps copies of what it was told, since the record's views die with the call.
class recording_observer final : public call_observer {
 public:
  struct seen {
    std::string operation, table, region, trace_header, request_id, error_type;
    std::int64_t start_ms = 0, duration_ns = 0;
    int attempts = 0;
    unsigned http_status = 0;
    bool failed = false;
  };
  bool wanted = true;
  mutable std::vector<std::string> asked;
  std::vector<seen> calls;

  bool observes(std::string_view trace_header) const noexcept override {
    asked.emplace_back(trace_header);
    return wanted;
  }
  void on_call(const call_record& r) noexcept override {
    calls.push_back({std::string(r.operation), std::string(r.table), std::string(r.region),
                     std::string(r.trace_header), std::string(r.request_id),
                     r.error ? r.error->type : std::string(), r.start_ms, r.duration_ns, r.attempts,
                     r.http_status, r.error != nullptr});
  }
};

class scripted_http final : public http_client {
 public:
  std::deque<boost::system::result<http_response>> script;
  std::vector<http_request> sent;
  core::testing::fake_clock* clock = nullptr;

  boost::system::result<http_response> send(const http_request& request) override {
    sent.push_back(request);
    if (clock != nullptr)
      clock->advance_ns(3'000'000);  // each exchange takes 3 ms
    if (script.empty())
      return answer(200, "{}", "RID-default");
    auto r = std::move(script.front());
    script.pop_front();
    return r;
  }
  static http_response answer(unsigned status, std::string body, std::string request_id) {
    return http_response{status, {{"x-amzn-RequestId", std::move(request_id)}}, std::move(body)};
  }
  static http_response error(unsigned status, std::string_view type, std::string request_id) {
    return answer(status,
                  R"({"__type":"com.amazonaws.dynamodb.v20120810#)" + std::string(type) +
                      R"(","message":"m"})",
                  std::move(request_id));
  }
};

std::string header(const http_request& r, std::string_view name) {
  for (const auto& [n, v] : r.headers)
    if (n == name)
      return v;
  return {};
}

json::object subsegment_of(const std::string& datagram) {
  const auto newline = datagram.find('\n');
  EXPECT_NE(newline, std::string::npos);
  EXPECT_EQ(datagram.substr(0, newline), R"({"format": "json", "version": 1})");
  boost::system::error_code ec;
  json::value v = json::parse(datagram.substr(newline + 1), ec);
  EXPECT_FALSE(ec) << datagram;
  return v.is_object() ? v.as_object() : json::object{};
}

// Public members: the tests reach into the fixture's fakes, as they would a struct's.
class XrayTracer : public ::testing::Test {
 public:
  XrayTracer() {
    http.clock = &clock;
    dynamodb_config config;
    config.region = "eu-west-1";
    config.endpoint = {false, "127.0.0.1", 8000};
    config.attempt_timeout_ms = 3000;
    client_with_observer = std::make_unique<dynamodb_client>(
        config, dynamodb_deps{http, creds, clock, random,
                              [this](std::int64_t ms) { clock.advance_ms(ms); }, &observer});
    client_without = std::make_unique<dynamodb_client>(
        config, dynamodb_deps{http, creds, clock, random,
                              [this](std::int64_t ms) { clock.advance_ms(ms); }});
  }

  ddb_result<std::string> get(dynamodb_client& client, std::string_view trace) {
    return client.call({0, trace}, "GetItem", R"({"TableName":"items","Key":{}})");
  }

  scripted_http http;
  static_credentials_provider creds{credentials{"AKIDEXAMPLE", "secret", "", 0}};
  core::testing::fake_clock clock;
  core::testing::counting_random random;
  recording_observer observer;
  std::unique_ptr<dynamodb_client> client_with_observer;
  std::unique_ptr<dynamodb_client> client_without;
};

TEST_F(XrayTracer, ObservesOnlySampledCallsWithAParent) {
  capture_emitter emitter;
  xray_tracer tracer(emitter, random);
  EXPECT_TRUE(tracer.observes(sampled));
  EXPECT_FALSE(tracer.observes(unsampled));
  EXPECT_FALSE(tracer.observes(""));
  EXPECT_FALSE(tracer.observes("Root=1-6790a1b2-0123456789abcdef01234567;Sampled=1"));
  EXPECT_FALSE(tracer.observes("garbage"));
}

TEST_F(XrayTracer, SendsOneSubsegmentPerSampledCall) {
  capture_emitter emitter;
  xray_tracer tracer(emitter, random);
  call_record r;
  r.operation = "GetItem";
  r.table = "items";
  r.region = "eu-west-1";
  r.trace_header = sampled;
  r.start_ms = 1'768'473'000'000;
  r.duration_ns = 2'000'000;
  r.attempts = 1;
  r.http_status = 200;
  r.request_id = "RID";
  tracer.on_call(r);
  tracer.on_call(r);
  r.trace_header = unsampled;
  tracer.on_call(r);
  r.trace_header = "";
  tracer.on_call(r);

  ASSERT_EQ(emitter.sent.size(), 2u);
  json::object a = subsegment_of(emitter.sent[0]);
  json::object b = subsegment_of(emitter.sent[1]);
  EXPECT_EQ(a.at("trace_id").as_string(), "1-6790a1b2-0123456789abcdef01234567");
  EXPECT_EQ(a.at("parent_id").as_string(), "00000000000010ab");
  EXPECT_EQ(a.at("aws").at("operation").as_string(), "GetItem");
  EXPECT_EQ(a.at("id").as_string().size(), 16u);
  EXPECT_NE(a.at("id"), b.at("id")) << "each subsegment has its own id";
}

TEST_F(XrayTracer, TheClientReportsEachCallOnceWithItsOutcome) {
  http.script.push_back(scripted_http::answer(200, "{}", "RID-1"));
  const std::int64_t start = clock.wall_ms();
  ASSERT_TRUE(get(*client_with_observer, sampled).has_value());

  ASSERT_EQ(observer.calls.size(), 1u);
  const auto& c = observer.calls[0];
  EXPECT_EQ(c.operation, "GetItem");
  EXPECT_EQ(c.table, "items");
  EXPECT_EQ(c.region, "eu-west-1");
  EXPECT_EQ(c.trace_header, sampled);
  EXPECT_EQ(c.start_ms, start);
  EXPECT_EQ(c.duration_ns, 3'000'000);
  EXPECT_EQ(c.attempts, 1);
  EXPECT_EQ(c.http_status, 200u);
  EXPECT_EQ(c.request_id, "RID-1");
  EXPECT_FALSE(c.failed);
  // Tracing does not take the trace header off the request.
  ASSERT_EQ(http.sent.size(), 1u);
  EXPECT_EQ(header(http.sent[0], "X-Amzn-Trace-Id"), sampled);
}

TEST_F(XrayTracer, RetriesAreOneCallWithTheLastAnswer) {
  http.script.push_back(scripted_http::error(500, "InternalServerError", "RID-a"));
  http.script.push_back(scripted_http::error(400, "ThrottlingException", "RID-b"));
  http.script.push_back(scripted_http::answer(200, "{}", "RID-c"));
  ASSERT_TRUE(get(*client_with_observer, sampled).has_value());
  ASSERT_EQ(http.sent.size(), 3u);
  ASSERT_EQ(observer.calls.size(), 1u);
  EXPECT_EQ(observer.calls[0].attempts, 3);
  EXPECT_EQ(observer.calls[0].request_id, "RID-c");
  EXPECT_EQ(observer.calls[0].http_status, 200u);
  EXPECT_FALSE(observer.calls[0].failed);
  EXPECT_GE(observer.calls[0].duration_ns, 9'000'000) << "the backoff sleeps count too";
}

TEST_F(XrayTracer, AFailedCallCarriesItsError) {
  http.script.push_back(scripted_http::error(400, "ConditionalCheckFailedException", "RID-x"));
  auto r = client_with_observer->call({0, sampled}, "PutItem", R"({"TableName":"t2"})");
  ASSERT_FALSE(r.has_value());
  ASSERT_EQ(observer.calls.size(), 1u);
  EXPECT_EQ(observer.calls[0].operation, "PutItem");
  EXPECT_EQ(observer.calls[0].table, "t2");
  EXPECT_TRUE(observer.calls[0].failed);
  EXPECT_EQ(observer.calls[0].error_type, "ConditionalCheckFailedException");
  EXPECT_EQ(observer.calls[0].http_status, 400u);
  EXPECT_EQ(observer.calls[0].request_id, "RID-x");
  EXPECT_EQ(observer.calls[0].attempts, 1);
}

TEST_F(XrayTracer, ATransportFailureHasNoStatus) {
  for (int i = 0; i < 3; ++i)
    http.script.push_back(boost::system::error_code(boost::system::errc::connection_refused,
                                                    boost::system::generic_category()));
  ASSERT_FALSE(get(*client_with_observer, sampled).has_value());
  ASSERT_EQ(observer.calls.size(), 1u);
  EXPECT_TRUE(observer.calls[0].failed);
  EXPECT_EQ(observer.calls[0].http_status, 0u);
  EXPECT_TRUE(observer.calls[0].request_id.empty());
  EXPECT_EQ(observer.calls[0].attempts, static_cast<int>(http.sent.size()));
}

TEST_F(XrayTracer, AnUninterestedObserverGetsNoRecord) {
  observer.wanted = false;
  ASSERT_TRUE(get(*client_with_observer, unsampled).has_value());
  ASSERT_EQ(observer.asked.size(), 1u);
  EXPECT_EQ(observer.asked[0], unsampled);
  EXPECT_TRUE(observer.calls.empty());
}

TEST_F(XrayTracer, AClientWithoutAnObserverReportsNothing) {
  ASSERT_TRUE(get(*client_without, sampled).has_value());
  ASSERT_TRUE(get(*client_with_observer, sampled).has_value());
  EXPECT_EQ(observer.calls.size(), 1u) << "only the client given the observer reports";
}

TEST_F(XrayTracer, EndToEndThroughTheClient) {
  capture_emitter emitter;
  xray_tracer tracer(emitter, random);
  dynamodb_config config;
  config.region = "eu-west-1";
  config.endpoint = {false, "127.0.0.1", 8000};
  dynamodb_client traced(config, dynamodb_deps{http, creds, clock, random, {}, &tracer});
  http.script.push_back(scripted_http::answer(200, "{}", "RID-q"));
  ASSERT_TRUE(traced.call({0, sampled}, "Query", R"({"TableName":"items"})"));
  ASSERT_TRUE(get(traced, unsampled).has_value());
  ASSERT_EQ(emitter.sent.size(), 1u);
  json::object s = subsegment_of(emitter.sent[0]);
  EXPECT_EQ(s.at("aws").at("operation").as_string(), "Query");
  EXPECT_EQ(s.at("aws").at("table_name").as_string(), "items");
  EXPECT_EQ(s.at("aws").at("request_id").as_string(), "RID-q");
  EXPECT_EQ(s.at("aws").at("region").as_string(), "eu-west-1");
  EXPECT_EQ(s.at("http").at("response").at("status").to_number<int>(), 200);
  EXPECT_LT(s.at("start_time").to_number<double>(), s.at("end_time").to_number<double>());
}

}  // namespace
}  // namespace crud::aws

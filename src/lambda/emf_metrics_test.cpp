#include "lambda/emf_metrics.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "support/testing_fakes.hpp"

namespace crud::lambda {
namespace {

namespace json = boost::json;

json::object parse(const std::string& line) {
  boost::system::error_code ec;
  json::value v = json::parse(line, ec);
  EXPECT_FALSE(ec) << line;
  EXPECT_TRUE(v.is_object()) << line;
  return v.is_object() ? v.as_object() : json::object{};
}

// The metric names the directive declares, in order, with their units.
std::vector<std::pair<std::string, std::string>> declared(const json::object& doc) {
  std::vector<std::pair<std::string, std::string>> out;
  const auto& directive = doc.at("_aws").at("CloudWatchMetrics").as_array().at(0).as_object();
  for (const auto& m : directive.at("Metrics").as_array())
    out.emplace_back(std::string(m.at("Name").as_string()), std::string(m.at("Unit").as_string()));
  return out;
}

bool declares(const json::object& doc, std::string_view name) {
  for (const auto& [n, unit] : declared(doc))
    if (n == name)
      return true;
  return false;
}

request_outcome outcome(app::operation op, int status, bool cold = false) {
  request_outcome o;
  o.op = op;
  o.status = status;
  o.latency_ms = 12.5;
  o.cold_start = cold;
  o.timestamp_ms = 1'768'473'000'123;
  return o;
}

class capture_sink final : public app::log_sink {
 public:
  void write(std::string_view line) override { lines.emplace_back(line); }
  std::vector<std::string> lines;
};

TEST(EmfMetrics, FollowsTheEmbeddedMetricFormat) {
  json::object doc = parse(format_emf_line("ServerlessCrudApi", "crud-svc",
                                           outcome(app::operation::create_item, 201, true)));
  ASSERT_TRUE(doc.contains("_aws"));
  const json::object& aws = doc.at("_aws").as_object();
  EXPECT_EQ(aws.at("Timestamp").to_number<std::int64_t>(), 1'768'473'000'123);
  const json::array& directives = aws.at("CloudWatchMetrics").as_array();
  ASSERT_EQ(directives.size(), 1u);
  const json::object& d = directives.at(0).as_object();
  EXPECT_EQ(d.at("Namespace").as_string(), "ServerlessCrudApi");
  EXPECT_EQ(json::serialize(d.at("Dimensions")), R"([["service","operation"]])");
  // Every dimension and every declared metric is a top-level member, as EMF requires.
  EXPECT_EQ(doc.at("service").as_string(), "crud-svc");
  EXPECT_EQ(doc.at("operation").as_string(), "CREATE_ITEM");
  for (const auto& [name, unit] : declared(doc)) {
    ASSERT_TRUE(doc.contains(name)) << name;
    EXPECT_TRUE(doc.at(name).is_number()) << name;
    EXPECT_TRUE(unit == "Count" || unit == "Milliseconds") << name << " " << unit;
  }
  EXPECT_EQ(declared(doc),
            (std::vector<std::pair<std::string, std::string>>{{"Latency", "Milliseconds"},
                                                              {"Errors", "Count"},
                                                              {"ItemsCreated", "Count"},
                                                              {"ColdStart", "Count"}}));
  EXPECT_DOUBLE_EQ(doc.at("Latency").to_number<double>(), 12.5);
  EXPECT_EQ(doc.at("Errors").to_number<int>(), 0);
  EXPECT_EQ(doc.at("ItemsCreated").to_number<int>(), 1);
  EXPECT_EQ(doc.at("ColdStart").to_number<int>(), 1);
}

TEST(EmfMetrics, CountsEachKindOfWriteUnderItsOwnMetric) {
  struct row {
    app::operation op;
    int status;
    const char* metric;
  };
  const std::vector<row> rows = {{app::operation::create_item, 201, "ItemsCreated"},
                                 {app::operation::update_item, 200, "ItemsUpdated"},
                                 {app::operation::patch_item, 200, "ItemsUpdated"},
                                 {app::operation::delete_item, 200, "ItemsDeleted"},
                                 {app::operation::restore_item, 200, "ItemsRestored"}};
  const std::vector<std::string> all = {"ItemsCreated", "ItemsUpdated", "ItemsDeleted",
                                        "ItemsRestored"};
  for (const row& r : rows) {
    json::object doc = parse(format_emf_line("ns", "svc", outcome(r.op, r.status)));
    EXPECT_EQ(doc.at("operation").as_string(), app::operation_name(r.op));
    for (const std::string& m : all) {
      EXPECT_EQ(declares(doc, m), m == r.metric) << app::operation_name(r.op) << " " << m;
      EXPECT_EQ(doc.contains(m), m == r.metric) << app::operation_name(r.op) << " " << m;
    }
    EXPECT_EQ(doc.at(r.metric).to_number<int>(), 1);
  }
}

TEST(EmfMetrics, ReadsAndFailedWritesCountNoItems) {
  for (auto [op, status] :
       std::vector<std::pair<app::operation, int>>{{app::operation::get_item, 200},
                                                   {app::operation::list_items, 200},
                                                   {app::operation::create_item, 400},
                                                   {app::operation::update_item, 409},
                                                   {app::operation::delete_item, 404},
                                                   {app::operation::restore_item, 503}}) {
    json::object doc = parse(format_emf_line("ns", "svc", outcome(op, status)));
    EXPECT_EQ(declared(doc).size(), 2u) << json::serialize(doc);
    EXPECT_TRUE(declares(doc, "Latency"));
    EXPECT_TRUE(declares(doc, "Errors"));
  }
}

TEST(EmfMetrics, ErrorsCountsServerFailuresOnly) {
  for (auto [status, errors] : std::vector<std::pair<int, int>>{
           {200, 0}, {304, 0}, {400, 0}, {404, 0}, {429, 0}, {499, 0}, {500, 1}, {503, 1}}) {
    json::object doc =
        parse(format_emf_line("ns", "svc", outcome(app::operation::get_item, status)));
    EXPECT_EQ(doc.at("Errors").to_number<int>(), errors) << status;
  }
}

TEST(EmfMetrics, AnIdempotentReplayCreatesNothing) {
  app::response res;
  res.status = 201;
  res.op = app::operation::create_item;
  res.headers = {{"Idempotent-Replayed", "true"}};
  request_outcome o = outcome_of(res, 1.0, false, 5);
  EXPECT_TRUE(o.replayed);
  json::object doc = parse(format_emf_line("ns", "svc", o));
  EXPECT_FALSE(doc.contains("ItemsCreated"));
  EXPECT_EQ(doc.at("Errors").to_number<int>(), 0);

  res.headers.clear();
  EXPECT_FALSE(outcome_of(res, 1.0, false, 5).replayed);
}

TEST(EmfMetrics, EscapesTheNamespaceAndService) {
  json::object doc =
      parse(format_emf_line("a\"b", "s\\vc", outcome(app::operation::get_item, 200)));
  EXPECT_EQ(doc.at("_aws").at("CloudWatchMetrics").at(0).at("Namespace").as_string(), "a\"b");
  EXPECT_EQ(doc.at("service").as_string(), "s\\vc");
}

TEST(EmfMetrics, ANegativeOrNonFiniteLatencyIsZero) {
  request_outcome o = outcome(app::operation::get_item, 200);
  o.latency_ms = -3;
  EXPECT_EQ(parse(format_emf_line("ns", "svc", o)).at("Latency").to_number<double>(), 0);
  o.latency_ms = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(parse(format_emf_line("ns", "svc", o)).at("Latency").to_number<double>(), 0);
}

TEST(EmfMetrics, ValidatesTheNamespace) {
  EXPECT_TRUE(is_valid_metrics_namespace("ServerlessCrudApi"));
  EXPECT_TRUE(is_valid_metrics_namespace("My App/prod-1.v2#x:y_z"));
  EXPECT_FALSE(is_valid_metrics_namespace(""));
  EXPECT_FALSE(is_valid_metrics_namespace("AWS/Lambda"));
  EXPECT_FALSE(is_valid_metrics_namespace("bad\"quote"));
  EXPECT_FALSE(is_valid_metrics_namespace("tab\there"));
  EXPECT_FALSE(is_valid_metrics_namespace(std::string(256, 'a')));
  EXPECT_TRUE(is_valid_metrics_namespace(std::string(255, 'a')));
}

TEST(EmfPublisher, ReportsTheColdStartOnceWithTheClocksTimeAndLatency) {
  capture_sink sink;
  core::testing::fake_clock clock;
  emf_publisher publisher("Ns", "svc", sink, clock);
  app::response res;
  res.status = 200;
  res.op = app::operation::get_item;

  std::int64_t started = clock.steady_ns();
  clock.advance_ns(7'250'000);
  publisher.publish(res, started);
  started = clock.steady_ns();
  clock.advance_ms(2);
  publisher.publish(res, started);

  ASSERT_EQ(sink.lines.size(), 2u);
  json::object first = parse(sink.lines[0]);
  json::object second = parse(sink.lines[1]);
  EXPECT_EQ(first.at("ColdStart").to_number<int>(), 1);
  EXPECT_TRUE(declares(first, "ColdStart"));
  EXPECT_FALSE(second.contains("ColdStart"));
  EXPECT_FALSE(declares(second, "ColdStart"));
  EXPECT_DOUBLE_EQ(first.at("Latency").to_number<double>(), 7.25);
  EXPECT_DOUBLE_EQ(second.at("Latency").to_number<double>(), 2.0);
  EXPECT_EQ(second.at("_aws").at("Timestamp").to_number<std::int64_t>(), clock.wall_ms());
  EXPECT_EQ(first.at("_aws").at("CloudWatchMetrics").at(0).at("Namespace").as_string(), "Ns");
}

}  // namespace
}  // namespace crud::lambda

#include "server/metrics.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace crud::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::int64_t ms = 1'000'000;

TEST(Metrics, CountsRequestsByOperationAndStatus) {
  metrics m;
  m.record_request(app::operation::create_item, 201, 3 * ms);
  m.record_request(app::operation::create_item, 201, 3 * ms);
  m.record_request(app::operation::get_item, 404, 1 * ms);
  const std::string text = m.render();
  EXPECT_THAT(text,
              HasSubstr("crud_http_requests_total{operation=\"CREATE_ITEM\",status=\"201\"} 2\n"));
  EXPECT_THAT(text,
              HasSubstr("crud_http_requests_total{operation=\"GET_ITEM\",status=\"404\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("operation=\"LIST_ITEMS\"")));
  EXPECT_THAT(text, HasSubstr("# TYPE crud_http_requests_total counter\n"));
}

TEST(Metrics, LatencyHistogramIsCumulativeWithSumAndCount) {
  metrics m;
  m.record_request(app::operation::list_items, 200, ms / 4);       // 0.25 ms
  m.record_request(app::operation::list_items, 200, 2 * ms);       // 2 ms
  m.record_request(app::operation::list_items, 200, 20'000 * ms);  // 20 s: only +Inf
  const std::string text = m.render();
  const std::string prefix = "crud_http_request_duration_seconds_bucket{operation=\"LIST_ITEMS\",";
  EXPECT_THAT(text, HasSubstr(prefix + "le=\"0.0005\"} 1\n"));
  EXPECT_THAT(text, HasSubstr(prefix + "le=\"0.001\"} 1\n"));
  EXPECT_THAT(text, HasSubstr(prefix + "le=\"0.0025\"} 2\n"));
  EXPECT_THAT(text, HasSubstr(prefix + "le=\"10\"} 2\n"));
  EXPECT_THAT(text, HasSubstr(prefix + "le=\"+Inf\"} 3\n"));
  EXPECT_THAT(text,
              HasSubstr("crud_http_request_duration_seconds_count{operation=\"LIST_ITEMS\"} 3\n"));
  EXPECT_THAT(
      text,
      HasSubstr("crud_http_request_duration_seconds_sum{operation=\"LIST_ITEMS\"} 20.00225\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE crud_http_request_duration_seconds histogram\n"));
}

TEST(Metrics, ABucketBoundIsInclusive) {
  metrics m;
  m.record_request(app::operation::get_item, 200, ms);  // exactly 1 ms
  EXPECT_THAT(m.render(), HasSubstr("crud_http_request_duration_seconds_bucket{operation="
                                    "\"GET_ITEM\",le=\"0.001\"} 1\n"));
}

TEST(Metrics, GaugesAndCounters) {
  metrics m;
  m.request_started();
  m.request_started();
  m.request_finished();
  m.rate_limited();
  m.connection_opened();
  m.connection_opened();
  m.connection_opened();
  m.connection_closed();
  m.connection_refused();
  const std::string text = m.render();
  EXPECT_THAT(text, HasSubstr("\ncrud_http_requests_in_flight 1\n"));
  EXPECT_THAT(text, HasSubstr("\ncrud_rate_limited_total 1\n"));
  EXPECT_THAT(text, HasSubstr("\ncrud_connections_open 2\n"));
  EXPECT_THAT(text, HasSubstr("\ncrud_connections_refused_total 1\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE crud_http_requests_in_flight gauge\n"));
}

TEST(Metrics, OutOfRangeOperationCountsAsUnknown) {
  metrics m;
  m.record_request(static_cast<app::operation>(200), 500, ms);
  EXPECT_THAT(m.render(),
              HasSubstr("crud_http_requests_total{operation=\"UNKNOWN\",status=\"500\"} 1\n"));
}

}  // namespace
}  // namespace crud::server

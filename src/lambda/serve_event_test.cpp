#include "lambda/serve_event.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "support/testing_fakes.hpp"

namespace crud::lambda {
namespace {

namespace json = boost::json;

// Records what the pipeline was given, and answers 201 with a fixed body.
struct recording_app final : app::request_handler {
  app::request seen;
  int calls = 0;
  app::response handle(const app::request& req,
                       const app::transport_hooks& hooks) noexcept override {
    ++calls;
    seen = req;
    app::response res;
    res.status = hooks.render_metrics ? 500 : 201;  // Lambda has no transport routes
    res.op = app::operation::create_item;
    res.headers = {{"Content-Type", "application/json; charset=utf-8"}};
    res.body = R"({"ok":true})";
    return res;
  }
  app::response reject(const app::request&, const core::api_error&) noexcept override { return {}; }
};

struct lines final : app::log_sink {
  std::vector<std::string> written;
  void write(std::string_view line) override { written.emplace_back(line); }
};

constexpr std::string_view v2_event = R"({
  "version": "2.0", "routeKey": "$default", "rawPath": "/items", "rawQueryString": "",
  "headers": {"content-type": "application/json"},
  "requestContext": {"http": {"method": "POST", "path": "/items"}, "requestId": "gw-1",
                     "stage": "$default"},
  "body": "{\"name\":\"x\"}", "isBase64Encoded": false})";

TEST(ServeEvent, PassesTheInvocationToThePipelineAndEncodesItsAnswer) {
  recording_app app;
  lines log;
  core::testing::fake_clock clock;
  emf_publisher metrics("Ns", "svc", log, clock);
  auto out =
      serve_event(app, v2_event, {"lambda-req-9", 1234, "Root=1-abc;Sampled=1"}, metrics, clock);
  ASSERT_TRUE(out) << out.error();
  EXPECT_EQ(app.seen.method, "POST");
  EXPECT_EQ(app.seen.path, "/items");
  EXPECT_EQ(app.seen.request_id, "lambda-req-9");
  EXPECT_EQ(app.seen.deadline_ms, 1234);
  EXPECT_EQ(app.seen.trace_header, "Root=1-abc;Sampled=1");
  EXPECT_EQ(app.seen.upstream_request_id, "gw-1");
  auto proxy = json::parse(*out);
  EXPECT_EQ(proxy.at("statusCode").as_int64(), 201);
  EXPECT_EQ(proxy.at("body").as_string(), R"({"ok":true})");
  ASSERT_EQ(log.written.size(), 1U);  // the EMF line
  EXPECT_NE(log.written[0].find("\"ItemsCreated\""), std::string::npos);
}

TEST(ServeEvent, AnUnusableEventNeverReachesThePipeline) {
  recording_app app;
  lines log;
  core::testing::fake_clock clock;
  emf_publisher metrics("Ns", "svc", log, clock);
  auto out = serve_event(app, R"({"not":"an event"})", {}, metrics, clock);
  ASSERT_FALSE(out);
  EXPECT_FALSE(out.error().empty());
  EXPECT_EQ(app.calls, 0);
  EXPECT_TRUE(log.written.empty());
}

}  // namespace
}  // namespace crud::lambda

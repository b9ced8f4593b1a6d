#include "lambda/runtime_api.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace crud::lambda {
namespace {

using header_map = std::map<std::string, std::string, std::less<>>;

runtime_result<invocation> parse(const header_map& headers, std::string payload = "{}") {
  return parse_invocation_headers(
      [&](std::string_view name) -> std::string_view {
        auto it = headers.find(name);
        return it == headers.end() ? std::string_view() : std::string_view(it->second);
      },
      std::move(payload));
}

TEST(ParseInvocationHeaders, ReadsEveryRuntimeHeader) {
  auto inv = parse({{"Lambda-Runtime-Aws-Request-Id", "8476a536-e9f4-11e8-9739-2dfe598c3fcd"},
                    {"Lambda-Runtime-Deadline-Ms", "1542409706888"},
                    {"Lambda-Runtime-Invoked-Function-Arn",
                     "arn:aws:lambda:us-east-2:123456789012:function:custom-runtime"},
                    {"Lambda-Runtime-Trace-Id", "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700"},
                    {"Lambda-Runtime-Client-Context", "{}"},
                    {"Lambda-Runtime-Cognito-Identity", "{\"id\":\"x\"}"}},
                   R"({"a":1})");
  ASSERT_TRUE(inv.has_value());
  EXPECT_EQ(inv->request_id, "8476a536-e9f4-11e8-9739-2dfe598c3fcd");
  EXPECT_EQ(inv->deadline_ms, 1542409706888);
  EXPECT_EQ(inv->function_arn, "arn:aws:lambda:us-east-2:123456789012:function:custom-runtime");
  EXPECT_EQ(inv->trace_id, "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700");
  EXPECT_EQ(inv->client_context, "{}");
  EXPECT_EQ(inv->cognito_identity, "{\"id\":\"x\"}");
  EXPECT_EQ(inv->payload, R"({"a":1})");
}

TEST(ParseInvocationHeaders, RefusesAnAnswerWithoutRequestId) {
  auto inv = parse({{"Lambda-Runtime-Deadline-Ms", "1"}});
  ASSERT_FALSE(inv.has_value());
  EXPECT_FALSE(inv.error().fatal);
}

TEST(ParseInvocationHeaders, AnUnreadableDeadlineMeansNone) {
  for (const char* deadline : {"", "soon", "-", "99999999999999999999999", "12abc"}) {
    auto inv =
        parse({{"Lambda-Runtime-Aws-Request-Id", "r"}, {"Lambda-Runtime-Deadline-Ms", deadline}});
    ASSERT_TRUE(inv.has_value()) << deadline;
    EXPECT_EQ(inv->deadline_ms, std::string_view(deadline) == "12abc" ? 12 : 0) << deadline;
  }
}

}  // namespace
}  // namespace crud::lambda

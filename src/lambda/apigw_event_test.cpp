#include "lambda/apigw_event.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace crud::lambda {
namespace {

namespace json = boost::json;
using app::field_list;
using fields = std::vector<std::pair<std::string, std::string>>;

// Tests run with the project root as the working directory; the shared data sits beside it.
std::filesystem::path events_dir() {
  return "../shared/testdata/apigw-events";
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> values_of(const field_list& list, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [key, value] : list) {
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(),
                   [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      out.push_back(value);
    }
  }
  return out;
}

decoded_event decode_ok(std::string_view text) {
  auto r = decode_event(text);
  EXPECT_TRUE(r.has_value()) << (r.has_error() ? r.error() : "");
  if (!r.has_value())
    return {};
  return std::move(*r);
}

std::string decode_error(std::string_view text) {
  auto r = decode_event(text);
  EXPECT_TRUE(r.has_error()) << "decoded a bad event: " << text;
  return r.has_error() ? r.error() : std::string();
}

// ---------------------------------------------------------------------------------------------
// Every sample event in the shared test data, with what it must decode to, written by hand
// from the files.

struct header_expectation {
  std::string name;
  std::vector<std::string> values;
};

struct sample {
  std::string file;
  bool usable = true;
  event_version version = event_version::rest_v1;
  std::string method;
  std::string path;
  fields query;
  std::size_t header_count = 0;
  std::vector<header_expectation> headers;
  std::string body;
  std::string owner;
  std::string upstream_request_id;
};

constexpr const char* crlf_body = "{\r\n\t\"a\": 1\r\n}";

std::vector<sample> samples() {
  const std::vector<header_expectation> postman_headers = {
      {"Content-Type", {"application/json"}},
      {"cache-control", {"no-cache"}},
      {"Host", {"gy415nuibc.execute-api.us-east-1.amazonaws.com"}},
      {"X-Forwarded-For", {"54.240.196.186, 54.182.214.83"}},
      {"headerName", {"headerValue"}},
  };
  const std::vector<header_expectation> v2_headers = {
      {"Header1", {"value1"}}, {"Header2", {"value2"}}, {"Cookie", {"cookie1; cookie2"}}};
  const fields v2_query = {
      {"parameter1", "value1"}, {"parameter1", "value2"}, {"parameter2", "value"}};
  return {
      {.file = "example-apigw-console-test-request.json",
       .version = event_version::rest_v1,
       .method = "POST",
       // stage "test-invoke-stage" is not in the path: nothing to strip.
       .path = "/myPath",
       .query = {},
       .header_count = 0,
       .headers = {},
       .body = crlf_body,
       // No authorizer: the console's IAM caller.
       .owner = "arn:aws:sts::xxxxx:assumed-role/xxxxx/xxxxx",
       .upstream_request_id = "e5488776-afe4-4e5e-92b1-37bd23f234d6"},
      {.file = "example-apigw-custom-auth-request.json", .usable = false},
      {.file = "example-apigw-request-catch-all.json",
       .version = event_version::rest_v1,
       .method = "POST",
       .path = "/hello/world",
       .query = {{"name", "me"}},
       .header_count = 19,
       .headers = postman_headers,
       .body = crlf_body,
       // The Lambda authorizer's principalId beats the identity's userArn.
       .owner = "admin",
       .upstream_request_id = "deef4878-7910-11e6-8f14-25afc3e9ae33"},
      {.file = "example-apigw-request-multi-value-parameters.json",
       .version = event_version::rest_v1,
       .method = "POST",
       .path = "/hello/world",
       .query = {{"name", "me"}, {"name", "me2"}},
       // 19 names; headerName has two values, and the single-value copy is not added again.
       .header_count = 20,
       .headers = {{"headerName", {"headerValue", "headerValue2"}},
                   {"Accept", {"*/*"}},
                   {"X-Forwarded-Proto", {"https"}}},
       .body = crlf_body,
       .owner = "admin",
       .upstream_request_id = "deef4878-7910-11e6-8f14-25afc3e9ae33"},
      {.file = "example-apigw-request.json",
       .version = event_version::rest_v1,
       .method = "POST",
       .path = "/hello/world",
       .query = {{"name", "me"}},
       .header_count = 19,
       .headers = postman_headers,
       .body = crlf_body,
       .owner = "admin",
       .upstream_request_id = "deef4878-7910-11e6-8f14-25afc3e9ae33"},
      {.file = "example-apigw-restapi-openapi-request.json",
       .version = event_version::rest_v1,
       .method = "POST",
       .path = "/hello/world",
       .query = {{"name", "me"}},
       .header_count = 19,
       .headers = postman_headers,
       .body = crlf_body,
       .owner = "admin",
       .upstream_request_id = "deef4878-7910-11e6-8f14-25afc3e9ae33"},
      {.file = "example-apigw-sam-http-request.json",
       .version = event_version::http_v2,
       .method = "GET",
       .path = "/dump",  // stage "$default": never a prefix
       .query = {{"foo", "bar"}},
       .header_count = 18,  // an empty `cookies` adds no Cookie header
       .headers = {{"Host", {"127.0.0.1:3000"}},
                   {"Pragma", {"no-cache"}},
                   {"Sec-Ch-Ua-Platform", {"\"macOS\""}},
                   {"Cookie", {}}},
       .body = "",
       .owner = "public",
       .upstream_request_id = "b3ea2f1a-9f2a-48a4-8791-0db24e5d40e5"},
      {.file = "example-apigw-sam-rest-request.json",
       .version = event_version::rest_v1,
       .method = "GET",
       .path = "/test",  // stage "Prod" is not in the path
       .query = {},
       .header_count = 17,
       .headers = {{"Cache-Control", {"max-age=0"}}, {"Connection", {"keep-alive"}}},
       .body = "",         // "body": null
       .owner = "public",  // identity.userArn is null
       .upstream_request_id = "ea86b9eb-c688-4bbb-8309-a1671442bea9"},
      {.file = "example-apigw-v2-request-iam.json",
       .version = event_version::http_v2,
       .method = "GET",
       .path = "/my/path",
       .query = v2_query,
       .header_count = 3,
       .headers = v2_headers,
       .body = crlf_body,
       // An identity-pool caller: its identity, not the shared role session.
       .owner = "cognito:us-east-1:3f291106-8703-466b-8f2b-3ecee1ca56ce",
       .upstream_request_id = "id"},
      {.file = "example-apigw-v2-request-jwt-authorizer.json",
       .version = event_version::http_v2,
       .method = "GET",
       .path = "/my/path",
       .query = v2_query,
       .header_count = 3,
       .headers = v2_headers,
       .body = crlf_body,
       .owner = "public",  // the claims have no `sub`
       .upstream_request_id = "id"},
      {.file = "example-apigw-v2-request-lambda-authorizer.json",
       .version = event_version::http_v2,
       .method = "GET",
       .path = "/my/path",
       .query = v2_query,
       .header_count = 3,
       .headers = v2_headers,
       .body = crlf_body,
       .owner = "public",  // the context {"key": "value"} names no subject
       .upstream_request_id = "id"},
      {.file = "example-apigw-v2-request-multi-value-parameters.json",
       .version = event_version::http_v2,
       .method = "GET",
       .path = "/my/path",
       .query = {{"Parameter1", "value1"}, {"Parameter1", "value2"}},
       .header_count = 2,
       .headers = {{"Header2", {"value1,value2"}}, {"Cookie", {"cookie1; cookie2"}}},
       .body = crlf_body,
       .owner = "public",
       .upstream_request_id = "id"},
      {.file = "example-apigw-v2-request-no-authorizer.json",
       .version = event_version::http_v2,
       .method = "GET",
       .path = "/",
       .query = {},
       .header_count = 8,
       .headers = {{"x-amzn-trace-id", {"Root=1-5e9f0c65-1de4d666d4dd26aced652b6c"}},
                   {"content-length", {"0"}},
                   {"Cookie", {}}},
       .body = "",
       .owner = "public",
       .upstream_request_id = "LV7fzho-PHcEJPw="},
  };
}

// NOLINTNEXTLINE(readability-identifier-naming): GoogleTest suites are CamelCase.
class ApigwEventSample : public testing::TestWithParam<sample> {};

TEST_P(ApigwEventSample, DecodesAsWrittenByHand) {
  const sample& s = GetParam();
  std::string text = read_file(events_dir() / s.file);
  ASSERT_FALSE(text.empty()) << "cannot read " << (events_dir() / s.file);

  auto r = decode_event(text);
  if (!s.usable) {
    ASSERT_TRUE(r.has_error());
    EXPECT_NE(r.error().find("not an API Gateway"), std::string::npos) << r.error();
    return;
  }
  ASSERT_TRUE(r.has_value()) << r.error();
  const app::request& req = r->request;
  EXPECT_EQ(r->version, s.version);
  EXPECT_EQ(req.method, s.method);
  EXPECT_EQ(req.path, s.path);
  EXPECT_EQ(req.query, s.query);
  EXPECT_EQ(req.headers.size(), s.header_count);
  for (const auto& h : s.headers) {
    EXPECT_EQ(values_of(req.headers, h.name), h.values) << "header " << h.name;
  }
  EXPECT_EQ(req.body, s.body);
  EXPECT_EQ(req.owner, s.owner);
  EXPECT_EQ(req.upstream_request_id, s.upstream_request_id);
  EXPECT_TRUE(req.request_id.empty());
}

INSTANTIATE_TEST_SUITE_P(SharedTestData, ApigwEventSample, testing::ValuesIn(samples()),
                         [](const testing::TestParamInfo<sample>& info) {
                           std::string name;
                           for (char c : info.param.file.substr(0, info.param.file.size() - 5)) {
                             name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           }
                           return name;
                         });

TEST(ApigwEvent, EverySharedSampleHasExpectations) {
  std::set<std::string> on_disk;
  for (const auto& entry : std::filesystem::directory_iterator(events_dir())) {
    if (entry.path().extension() == ".json")
      on_disk.insert(entry.path().filename().string());
  }
  std::set<std::string> covered;
  for (const auto& s : samples())
    covered.insert(s.file);
  EXPECT_FALSE(on_disk.empty());
  EXPECT_EQ(on_disk, covered);
}

// ---------------------------------------------------------------------------------------------
// Hand-written events.

std::string v1_event(std::string_view path, std::string_view stage,
                     std::optional<std::string_view> context_path = std::nullopt) {
  json::object ctx{{"stage", stage}, {"requestId", "req-1"}};
  if (context_path)
    ctx["path"] = *context_path;
  json::object event{{"httpMethod", "GET"}, {"path", path}, {"requestContext", std::move(ctx)}};
  return json::serialize(event);
}

std::string v2_event(std::string_view raw_path, std::string_view stage,
                     std::string_view raw_query = "") {
  json::object event{{"version", "2.0"},
                     {"rawPath", raw_path},
                     {"rawQueryString", raw_query},
                     {"requestContext",
                      {{"stage", stage},
                       {"requestId", "req-2"},
                       {"http", {{"method", "GET"}, {"path", raw_path}}}}}};
  return json::serialize(event);
}

TEST(ApigwEvent, StripsStagePrefixFromV1Path) {
  EXPECT_EQ(decode_ok(v1_event("/dev/items/abc", "dev")).request.path, "/items/abc");
  EXPECT_EQ(decode_ok(v1_event("/dev/items", "dev")).request.path, "/items");
  EXPECT_EQ(decode_ok(v1_event("/dev", "dev")).request.path, "/");
  EXPECT_EQ(decode_ok(v1_event("/dev/", "dev")).request.path, "/");
  // A custom domain without a stage in its mapping leaves the stage in both paths.
  EXPECT_EQ(decode_ok(v1_event("/dev/items/abc", "dev", "/dev/items/abc")).request.path,
            "/items/abc");
}

TEST(ApigwEvent, StripsOnlyAWholeStageSegment) {
  EXPECT_EQ(decode_ok(v1_event("/devices/1", "dev")).request.path, "/devices/1");
  EXPECT_EQ(decode_ok(v1_event("/items/dev/1", "dev")).request.path, "/items/dev/1");
  EXPECT_EQ(decode_ok(v1_event("/dev/items", "$default")).request.path, "/dev/items");
  EXPECT_EQ(decode_ok(v1_event("/dev/items", "")).request.path, "/dev/items");
  EXPECT_EQ(decode_ok(v2_event("/development/items", "dev")).request.path, "/development/items");
}

TEST(ApigwEvent, KeepsV1PathThatApiGatewayAlreadyStripped) {
  // The default endpoint: `path` lacks the stage, `requestContext.path` has it.
  EXPECT_EQ(decode_ok(v1_event("/items/abc", "dev", "/dev/items/abc")).request.path, "/items/abc");
  // A stage named like the first route segment must not eat that segment.
  EXPECT_EQ(decode_ok(v1_event("/items/abc", "items", "/items/items/abc")).request.path,
            "/items/abc");
  EXPECT_EQ(decode_ok(v1_event("/items", "items", "/items/items")).request.path, "/items");
}

TEST(ApigwEvent, FallsBackToRequestContextPathInV1) {
  json::object event{{"httpMethod", "DELETE"},
                     {"requestContext", {{"stage", "prod"}, {"path", "/prod/items/abc"}}}};
  auto d = decode_ok(json::serialize(event));
  EXPECT_EQ(d.request.method, "DELETE");
  EXPECT_EQ(d.request.path, "/items/abc");
}

TEST(ApigwEvent, StripsStagePrefixFromV2RawPath) {
  EXPECT_EQ(decode_ok(v2_event("/dev/items/abc", "dev")).request.path, "/items/abc");
  EXPECT_EQ(decode_ok(v2_event("/dev", "dev")).request.path, "/");
  EXPECT_EQ(decode_ok(v2_event("/items/abc", "$default")).request.path, "/items/abc");
  // HTTP APIs always keep the stage in rawPath, so a same-named route segment survives.
  EXPECT_EQ(decode_ok(v2_event("/items/items/abc", "items")).request.path, "/items/abc");
}

TEST(ApigwEvent, KeepsTheStageAsTheBasePathForLocationHeaders) {
  EXPECT_EQ(decode_ok(v1_event("/items/abc", "dev", "/dev/items/abc")).request.base_path, "/dev");
  EXPECT_EQ(decode_ok(v1_event("/dev/items/abc", "dev")).request.base_path, "/dev");
  EXPECT_EQ(decode_ok(v2_event("/dev/items", "dev")).request.base_path, "/dev");
  EXPECT_EQ(decode_ok(v2_event("/items", "$default")).request.base_path, "");
  EXPECT_EQ(decode_ok(v1_event("/devices/1", "dev")).request.base_path, "");
}

TEST(ApigwEvent, PercentDecodesV2RawPathOnce) {
  EXPECT_EQ(decode_ok(v2_event("/items/a%20b%2Fc", "$default")).request.path, "/items/a b%2Fc");
  EXPECT_EQ(decode_ok(v2_event("/items/a%2520b", "$default")).request.path, "/items/a%20b");
  EXPECT_EQ(decode_ok(v2_event("/items/a+b", "$default")).request.path, "/items/a+b");
  EXPECT_EQ(decode_ok(v2_event("/items/%E2%82%AC", "$default")).request.path,
            "/items/\xE2\x82\xAC");
  // Malformed escapes stay literal rather than failing the request.
  EXPECT_EQ(decode_ok(v2_event("/items/50%zz%", "$default")).request.path, "/items/50%zz%");
  EXPECT_EQ(decode_ok(v2_event("/dev/items/a%20b", "dev")).request.path, "/items/a b");
}

TEST(ApigwEvent, AnEncodedSlashInV2RawPathIsNoSegmentBoundary) {
  // "/items/<id>%2Frestore" names one odd segment after /items, never the restore route.
  const std::string id = "item_01JDQ3G6X0S6PZ9R6X7Y8Z9ABC";
  EXPECT_EQ(decode_ok(v2_event("/items/" + id + "%2Frestore", "$default")).request.path,
            "/items/" + id + "%2Frestore");
  EXPECT_EQ(decode_ok(v2_event("/dev/items/" + id + "%2frestore", "dev")).request.path,
            "/items/" + id + "%2frestore");
  EXPECT_EQ(decode_ok(v2_event("/items/" + id + "/restore", "$default")).request.path,
            "/items/" + id + "/restore");
}

TEST(ApigwEvent, DoesNotDecodeV1PathOrQueryAgain) {
  json::object event{{"httpMethod", "GET"},
                     {"path", "/items/a%2Fb c+d"},
                     {"queryStringParameters", {{"q", "50%25 off+more"}}},
                     {"requestContext", {{"stage", "dev"}}}};
  auto d = decode_ok(json::serialize(event));
  EXPECT_EQ(d.request.path, "/items/a%2Fb c+d");
  EXPECT_EQ(d.request.query, (fields{{"q", "50%25 off+more"}}));
}

TEST(ApigwEvent, DecodesV2RawQueryString) {
  auto d = decode_ok(v2_event(
      "/items", "$default",
      "q=a%20b&path=%2Fx%2Fy&plus=a+b&lit=a%2Bb&k=1&k=2&flag&empty=&&lastKey=abc%3D%3D&bad=%G1"));
  EXPECT_EQ(d.request.query, (fields{{"q", "a b"},
                                     {"path", "/x/y"},
                                     {"plus", "a b"},
                                     {"lit", "a+b"},
                                     {"k", "1"},
                                     {"k", "2"},
                                     {"flag", ""},
                                     {"empty", ""},
                                     {"lastKey", "abc=="},
                                     {"bad", "%G1"}}));
}

TEST(ApigwEvent, PrefersRawQueryStringOverCommaJoinedMap) {
  json::object event = json::parse(v2_event("/items", "$default", "a=1%2C2&a=3")).as_object();
  event["queryStringParameters"] = {{"a", "1,2,3"}};
  EXPECT_EQ(decode_ok(json::serialize(event)).request.query, (fields{{"a", "1,2"}, {"a", "3"}}));

  // Hand-written events may only have the map.
  event.erase("rawQueryString");
  EXPECT_EQ(decode_ok(json::serialize(event)).request.query, (fields{{"a", "1,2,3"}}));
}

TEST(ApigwEvent, MergesV1QueryMapsPreferringMultiValue) {
  json::object event{{"httpMethod", "GET"},
                     {"path", "/items"},
                     {"queryStringParameters", {{"limit", "5"}, {"mode", "soft"}}},
                     {"multiValueQueryStringParameters", {{"limit", json::array{"10", "5"}}}},
                     {"requestContext", {{"stage", "dev"}}}};
  EXPECT_EQ(decode_ok(json::serialize(event)).request.query,
            (fields{{"limit", "10"}, {"limit", "5"}, {"mode", "soft"}}));
}

TEST(ApigwEvent, MergesV1HeaderMapsWithoutDuplicates) {
  json::object event{{"httpMethod", "PUT"},
                     {"path", "/items/x"},
                     {"headers", {{"if-match", "\"v2\""}, {"Content-Type", "application/json"}}},
                     {"multiValueHeaders",
                      {{"If-Match", json::array{"\"v1\"", "\"v2\""}}, {"", json::array{"x"}}}},
                     {"requestContext", {{"stage", "dev"}}}};
  auto d = decode_ok(json::serialize(event));
  EXPECT_EQ(d.request.headers, (fields{{"If-Match", "\"v1\""},
                                       {"If-Match", "\"v2\""},
                                       {"Content-Type", "application/json"}}));
}

TEST(ApigwEvent, AcceptsNullMapsAndLowerCaseMethod) {
  json::object event{{"httpMethod", "patch"},
                     {"path", "/items/x"},
                     {"headers", nullptr},
                     {"multiValueHeaders", nullptr},
                     {"queryStringParameters", nullptr},
                     {"multiValueQueryStringParameters", nullptr},
                     {"body", nullptr},
                     {"isBase64Encoded", nullptr},
                     {"requestContext", nullptr}};
  auto d = decode_ok(json::serialize(event));
  EXPECT_EQ(d.request.method, "PATCH");
  EXPECT_TRUE(d.request.headers.empty());
  EXPECT_TRUE(d.request.query.empty());
  EXPECT_EQ(d.request.body, "");
  EXPECT_EQ(d.request.owner, "public");
}

TEST(ApigwEvent, TurnsV2CookiesBackIntoOneCookieHeader) {
  json::object event = json::parse(v2_event("/items", "$default")).as_object();
  event["cookies"] = json::array{"session=abc", "theme=dark"};
  event["headers"] = {{"cookie", "stale=1"}, {"accept", "*/*"}};
  auto d = decode_ok(json::serialize(event));
  EXPECT_EQ(d.request.headers, (fields{{"accept", "*/*"}, {"cookie", "session=abc; theme=dark"}}));
}

TEST(ApigwEvent, DecodesBase64Bodies) {
  json::object v1{{"httpMethod", "POST"},
                  {"path", "/items"},
                  {"isBase64Encoded", true},
                  {"body", "eyJuYW1lIjoiQSJ9"}};  // {"name":"A"}
  EXPECT_EQ(decode_ok(json::serialize(v1)).request.body, "{\"name\":\"A\"}");

  json::object v2 = json::parse(v2_event("/items", "$default")).as_object();
  v2["isBase64Encoded"] = true;
  v2["body"] = "AP8Qgw==";  // bytes 00 ff 10 83, with padding
  EXPECT_EQ(decode_ok(json::serialize(v2)).request.body, std::string("\x00\xff\x10\x83", 4));
  v2["body"] = "+/8=";  // the two characters that differ from base64url
  EXPECT_EQ(decode_ok(json::serialize(v2)).request.body, "\xfb\xff");
  v2["body"] = "YQ";  // unpadded
  EXPECT_EQ(decode_ok(json::serialize(v2)).request.body, "a");
  v2["body"] = "";
  EXPECT_EQ(decode_ok(json::serialize(v2)).request.body, "");

  // Not flagged: taken literally.
  v1["isBase64Encoded"] = false;
  EXPECT_EQ(decode_ok(json::serialize(v1)).request.body, "eyJuYW1lIjoiQSJ9");
}

TEST(ApigwEvent, RejectsInvalidBase64Body) {
  json::object v2 = json::parse(v2_event("/items", "$default")).as_object();
  v2["isBase64Encoded"] = true;
  for (std::string_view bad : {"not base64!", "abcd=", "ab=c", "a-_b", "abcde===", "YR=="}) {
    v2["body"] = bad;
    EXPECT_NE(decode_error(json::serialize(v2)).find("base64"), std::string::npos) << bad;
  }
}

// --- Owners.

std::string v1_owner(json::object ctx) {
  ctx["stage"] = "dev";
  json::object event{{"httpMethod", "GET"},
                     {"path", "/items"},
                     {"headers", {{"X-Owner", "mallory"}, {"Authorization", "Bearer x"}}},
                     {"requestContext", std::move(ctx)}};
  return decode_ok(json::serialize(event)).request.owner;
}

std::string v2_owner(json::object authorizer) {
  json::object event = json::parse(v2_event("/items", "$default")).as_object();
  event["requestContext"].as_object()["authorizer"] = std::move(authorizer);
  event["headers"] = {{"x-owner", "mallory"}};
  return decode_ok(json::serialize(event)).request.owner;
}

TEST(ApigwEvent, TakesV1OwnerFromVerifiedIdentityInOrder) {
  json::object cognito{{"claims", {{"sub", "user-123"}, {"email", "a@example.com"}}},
                       {"principalId", "lambda-user"}};
  json::object iam{{"userArn", "arn:aws:iam::1:user/bob"}};
  EXPECT_EQ(v1_owner({{"authorizer", cognito}, {"identity", iam}}), "user-123");
  EXPECT_EQ(v1_owner({{"authorizer", {{"principalId", "lambda-user"}}}, {"identity", iam}}),
            "lambda-user");
  EXPECT_EQ(v1_owner({{"identity", iam}}), "arn:aws:iam::1:user/bob");
  EXPECT_EQ(v1_owner({{"identity", {{"userArn", nullptr}, {"sourceIp", "1.2.3.4"}}}}), "public");
  EXPECT_EQ(v1_owner({}), "public");
  // Identity-pool callers share one role session; each is its own owner.
  json::object pool_user{
      {"userArn", "arn:aws:sts::1:assumed-role/pool-role/CognitoIdentityCredentials"},
      {"cognitoIdentityId", "us-east-1:1111"},
      {"cognitoIdentityPoolId", "us-east-1:pool"}};
  EXPECT_EQ(v1_owner({{"identity", pool_user}}), "cognito:us-east-1:1111");
  pool_user["cognitoIdentityId"] = "us-east-1:2222";
  EXPECT_EQ(v1_owner({{"identity", pool_user}}), "cognito:us-east-1:2222");
  EXPECT_EQ(v1_owner({{"identity", {{"cognitoIdentityId", nullptr}, {"userArn", "arn:x"}}}}),
            "arn:x");
  // An empty identity is no identity.
  EXPECT_EQ(v1_owner({{"authorizer", {{"claims", {{"sub", ""}}}, {"principalId", ""}}}}), "public");
}

TEST(ApigwEvent, TakesV2OwnerFromVerifiedIdentityInOrder) {
  EXPECT_EQ(v2_owner({{"jwt", {{"claims", {{"sub", "jwt-sub"}}}, {"scopes", nullptr}}},
                      {"iam", {{"userArn", "arn:aws:iam::1:user/bob"}}}}),
            "jwt-sub");
  EXPECT_EQ(v2_owner({{"lambda", {{"userId", "u"}, {"principalId", "p"}, {"sub", "s"}}}}), "s");
  EXPECT_EQ(v2_owner({{"lambda", {{"userId", "u"}, {"principalId", "p"}}}}), "p");
  EXPECT_EQ(v2_owner({{"lambda", {{"userId", "u"}, {"role", "admin"}}}}), "u");
  EXPECT_EQ(v2_owner({{"lambda", {{"sub", 42}}}}), "public");  // not a string
  EXPECT_EQ(v2_owner({{"principalId", "p1"}}), "p1");
  EXPECT_EQ(
      v2_owner({{"iam",
                 {{"userArn", "arn:aws:sts::1:assumed-role/pool-role/CognitoIdentityCredentials"},
                  {"cognitoIdentity",
                   {{"identityId", "us-east-1:3333"}, {"identityPoolId", "us-east-1:pool"}}}}}}),
      "cognito:us-east-1:3333");
  EXPECT_EQ(
      v2_owner({{"iam", {{"userArn", "arn:aws:iam::1:user/bob"}, {"cognitoIdentity", nullptr}}}}),
      "arn:aws:iam::1:user/bob");
  EXPECT_EQ(v2_owner({{"iam", {{"userArn", "arn:aws:iam::1:user/bob"}}}}),
            "arn:aws:iam::1:user/bob");
  EXPECT_EQ(v2_owner({}), "public");
}

TEST(ApigwEvent, DecodesFunctionUrlEvent) {
  // The shape of a Lambda Function URL event (payload 2.0, stage $default, IAM auth).
  const char* text = R"({
    "version": "2.0", "routeKey": "$default", "rawPath": "/items/item_01ABC",
    "rawQueryString": "mode=soft", "headers": {"if-match": "\"e1\"", "host": "abc.lambda-url.us-east-1.on.aws"},
    "requestContext": {"accountId": "123456789012", "apiId": "abc", "domainName": "abc.lambda-url.us-east-1.on.aws",
      "http": {"method": "DELETE", "path": "/items/item_01ABC", "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4"},
      "authorizer": {"iam": {"userArn": "arn:aws:iam::123456789012:user/alice"}},
      "requestId": "fn-url-req", "routeKey": "$default", "stage": "$default", "timeEpoch": 1},
    "isBase64Encoded": false})";
  auto d = decode_ok(text);
  EXPECT_EQ(d.version, event_version::http_v2);
  EXPECT_EQ(d.request.method, "DELETE");
  EXPECT_EQ(d.request.path, "/items/item_01ABC");
  EXPECT_EQ(d.request.query, (fields{{"mode", "soft"}}));
  EXPECT_EQ(values_of(d.request.headers, "If-Match"), std::vector<std::string>{"\"e1\""});
  EXPECT_EQ(d.request.owner, "arn:aws:iam::123456789012:user/alice");
  EXPECT_EQ(d.request.upstream_request_id, "fn-url-req");
}

TEST(ApigwEvent, DetectsVersionWithoutVersionField) {
  json::object v2 = json::parse(v2_event("/items", "$default")).as_object();
  v2.erase("version");
  EXPECT_EQ(decode_ok(json::serialize(v2)).version, event_version::http_v2);
  EXPECT_EQ(decode_ok(v1_event("/items", "dev")).version, event_version::rest_v1);
}

TEST(ApigwEvent, RejectsUnusableEvents) {
  EXPECT_NE(decode_error("").find("not valid JSON"), std::string::npos);
  EXPECT_NE(decode_error("{\"httpMethod\": \"GET\",").find("not valid JSON"), std::string::npos);
  EXPECT_NE(decode_error("[{\"httpMethod\":\"GET\",\"path\":\"/\"}]").find("not a JSON object"),
            std::string::npos);
  EXPECT_NE(decode_error("\"GET /items\"").find("not a JSON object"), std::string::npos);
  EXPECT_NE(decode_error("{}").find("not an API Gateway"), std::string::npos);
  EXPECT_NE(decode_error(R"({"path": "/items", "requestContext": {"stage": "dev"}})")
                .find("not an API Gateway"),
            std::string::npos);
  EXPECT_NE(decode_error(R"({"version": "1.0", "path": "/items"})").find("httpMethod"),
            std::string::npos);
  EXPECT_NE(decode_error(R"({"httpMethod": "", "path": "/items"})").find("httpMethod"),
            std::string::npos);
  EXPECT_NE(decode_error(R"({"httpMethod": "GE T", "path": "/items"})").find("httpMethod"),
            std::string::npos);
  EXPECT_NE(decode_error(R"({"httpMethod": "GET"})").find("path"), std::string::npos);
  EXPECT_NE(decode_error(R"({"httpMethod": "GET", "path": "items"})").find("path"),
            std::string::npos);
  EXPECT_NE(decode_error(R"({"version": "2.0", "rawPath": "/items", "requestContext": {}})")
                .find("requestContext.http.method"),
            std::string::npos);
  EXPECT_NE(decode_error(R"({"version": "2.0", "requestContext": {"http": {"method": "GET"}}})")
                .find("rawPath"),
            std::string::npos);
  EXPECT_NE(decode_error(R"({"version": "3.0", "rawPath": "/"})").find("version"),
            std::string::npos);
}

TEST(ApigwEvent, RejectsBodyThatIsNotAString) {
  json::object event{{"httpMethod", "POST"}, {"path", "/items"}, {"body", {{"name", "A"}}}};
  EXPECT_NE(decode_error(json::serialize(event)).find("body"), std::string::npos);
}

TEST(ApigwEvent, ErrorsAreOneLine) {
  for (std::string_view bad : {"", "{", "[]", "{}", "{\"httpMethod\":\"GET\"}"}) {
    EXPECT_EQ(decode_error(bad).find('\n'), std::string::npos) << bad;
  }
}

// ---------------------------------------------------------------------------------------------
// Responses.

json::object encode(const app::response& res, event_version version) {
  return json::parse(encode_response(res, version)).as_object();
}

app::response sample_response() {
  app::response res;
  res.status = 201;
  res.headers = {{"Content-Type", "application/json; charset=utf-8"},
                 {"Location", "/items/item_1"},
                 {"Set-Cookie", "a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT"},
                 {"Vary", "Origin"},
                 {"set-cookie", "b=2"},
                 {"vary", "Accept"}};
  res.body = R"({"statusCode":201,"data":{"name":"caf\u00e9 €"}})";
  return res;
}

TEST(ApigwEvent, EncodesV1ResponseWithMultiValueHeaders) {
  json::object out = encode(sample_response(), event_version::rest_v1);
  EXPECT_EQ(out.at("statusCode").as_int64(), 201);
  EXPECT_EQ(out.at("body").as_string(), sample_response().body);
  EXPECT_EQ(out.at("isBase64Encoded").as_bool(), false);
  EXPECT_FALSE(out.contains("cookies"));

  const json::object& headers = out.at("headers").as_object();
  EXPECT_EQ(headers.size(), 4u);
  EXPECT_EQ(headers.at("Content-Type").as_string(), "application/json; charset=utf-8");
  EXPECT_EQ(headers.at("Set-Cookie").as_string(), "b=2");  // the last value
  EXPECT_EQ(headers.at("Vary").as_string(), "Accept");

  const json::object& multi = out.at("multiValueHeaders").as_object();
  EXPECT_EQ(multi.size(), 4u);
  EXPECT_EQ(multi.at("Location"), (json::array{"/items/item_1"}));
  EXPECT_EQ(multi.at("Set-Cookie"),
            (json::array{"a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT", "b=2"}));
  EXPECT_EQ(multi.at("Vary"), (json::array{"Origin", "Accept"}));
}

TEST(ApigwEvent, EncodesV2ResponseWithCookiesAndLowerCaseHeaders) {
  json::object out = encode(sample_response(), event_version::http_v2);
  EXPECT_EQ(out.at("statusCode").as_int64(), 201);
  EXPECT_EQ(out.at("body").as_string(), sample_response().body);
  EXPECT_EQ(out.at("isBase64Encoded").as_bool(), false);
  EXPECT_FALSE(out.contains("multiValueHeaders"));

  const json::object& headers = out.at("headers").as_object();
  EXPECT_EQ(headers, (json::object{{"content-type", "application/json; charset=utf-8"},
                                   {"location", "/items/item_1"},
                                   {"vary", "Origin, Accept"}}));
  EXPECT_EQ(out.at("cookies"), (json::array{"a=1; Expires=Wed, 21 Oct 2026 07:28:00 GMT", "b=2"}));
}

TEST(ApigwEvent, EncodesEmptyBodyAndNoCookies) {
  app::response res;
  res.status = 304;
  res.headers = {{"ETag", "\"abc\""}};
  json::object v2 = encode(res, event_version::http_v2);
  EXPECT_EQ(v2.at("statusCode").as_int64(), 304);
  EXPECT_EQ(v2.at("body").as_string(), "");
  EXPECT_EQ(v2.at("cookies"), json::array{});
  EXPECT_EQ(v2.at("headers").as_object().at("etag").as_string(), "\"abc\"");

  json::object v1 = encode(res, event_version::rest_v1);
  EXPECT_EQ(v1.at("body").as_string(), "");
  EXPECT_EQ(v1.at("headers").as_object().at("ETag").as_string(), "\"abc\"");
}

TEST(ApigwEvent, Base64EncodesBodyThatIsNotUtf8) {
  app::response res;
  res.body = std::string("\xff\x00\xfe", 3);
  for (auto version : {event_version::rest_v1, event_version::http_v2}) {
    json::object out = encode(res, version);
    EXPECT_EQ(out.at("isBase64Encoded").as_bool(), true);
    EXPECT_EQ(out.at("body").as_string(), "/wD+");
  }
}

TEST(ApigwEvent, EncodedResponseKeepsEscapesValid) {
  app::response res;
  res.headers = {{"X-Note", "quote \" and \\ and \n"}};
  res.body = "line1\nline2\t\"q\"";
  json::object out = encode(res, event_version::http_v2);
  EXPECT_EQ(out.at("body").as_string(), res.body);
  EXPECT_EQ(out.at("headers").as_object().at("x-note").as_string(), "quote \" and \\ and \n");
}

// Found by fuzz/apigw_event_fuzzer (fuzz/regressions/apigw_event/): a percent-decoded path is
// any bytes, and a header echoing it made the response JSON invalid UTF-8, which API Gateway
// refuses.
TEST(ApigwEvent, HeadersThatAreNotUtf8StayValidJson) {
  auto decoded = decode_event(R"({"version":"2.0","rawPath":"/items/a%acb",
      "requestContext":{"http":{"method":"GET"},"stage":"$default"}})");
  ASSERT_TRUE(decoded.has_value());
  ASSERT_EQ(decoded->request.path,
            "/items/a\xAC"
            "b");
  app::response res;
  res.headers = {{"X-Path", decoded->request.path}, {"Set-Cookie", decoded->request.path}};
  for (auto version : {event_version::rest_v1, event_version::http_v2}) {
    boost::system::error_code ec;
    json::value out = json::parse(encode_response(res, version), ec);
    ASSERT_FALSE(ec) << ec.message();
    const auto& headers = out.at("headers").as_object();
    if (version == event_version::rest_v1) {
      EXPECT_EQ(headers.at("X-Path").as_string(), "/items/a\uFFFDb");
      EXPECT_EQ(headers.at("Set-Cookie").as_string(), "/items/a\uFFFDb");
    } else {
      EXPECT_EQ(headers.at("x-path").as_string(), "/items/a\uFFFDb");
      EXPECT_EQ(out.at("cookies").as_array().at(0).as_string(), "/items/a\uFFFDb");
    }
  }
}

}  // namespace
}  // namespace crud::lambda

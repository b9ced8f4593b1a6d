#include "app/api_docs.hpp"

#include <gtest/gtest.h>

#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>

namespace crud::app {
namespace {

namespace json = boost::json;

constexpr std::array<static_asset, 2> files{{
    {"/docs", "text/html; charset=utf-8", R"("0123abcd")", "<html></html>"},
    {"/docs/app.js", "text/javascript; charset=utf-8", R"("4567ef01")", "run();"},
}};

// The shape cmake/openapi_json.py leaves: no servers, no security, /health and /metrics public.
constexpr std::string_view document =
    R"({"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{)"
    R"("/items":{"get":{"responses":{"200":{"description":"ok"}}}},)"
    R"("/health":{"get":{"security":[],"responses":{"200":{"description":"ok"}}}},)"
    R"("/metrics":{"get":{"security":[],"responses":{"200":{"description":"ok"}}}}},)"
    R"("components":{"schemas":{}}})";

json::object served(const openapi_audience& audience) {
  return json::parse(served_openapi(document, audience)).as_object();
}

TEST(ApiDocs, FindsFilesByTheirExactPath) {
  EXPECT_EQ(find_asset(files, "/docs"), &files[0]);
  EXPECT_EQ(find_asset(files, "/docs/app.js"), &files[1]);
  EXPECT_EQ(find_asset(files, "/docs/"), nullptr);
  EXPECT_EQ(find_asset(files, "/docs/APP.js"), nullptr);
  EXPECT_EQ(find_asset({}, "/docs"), nullptr);
}

TEST(ApiDocs, FilesCarryTheirTypeAStrongETagAndNoCache) {
  response res = asset_response(files[1], std::nullopt);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "run();");
  EXPECT_EQ(res.header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(res.header("ETag"), R"("4567ef01")");
  EXPECT_EQ(res.header("Cache-Control"), "no-cache");
  EXPECT_EQ(res.header("X-Content-Type-Options"), "nosniff");
}

TEST(ApiDocs, AMatchingIfNoneMatchGets304WithoutABody) {
  response res = asset_response(files[0], std::string_view(R"("zz", "0123abcd")"));
  EXPECT_EQ(res.status, 304);
  EXPECT_TRUE(res.body.empty());
  EXPECT_EQ(res.header("ETag"), R"("0123abcd")");
  EXPECT_EQ(asset_response(files[0], std::string_view(R"(W/"0123abcd")")).status, 304);
  EXPECT_EQ(asset_response(files[0], std::string_view("*")).status, 304);
  EXPECT_EQ(asset_response(files[0], std::string_view(R"("4567ef01")")).status, 200);
}

TEST(ApiDocs, ServersIsThisServerAsTheRequestReachedIt) {
  auto doc = served({.host = std::string_view("127.0.0.1:8080")});
  EXPECT_EQ(doc.at("servers").at(0).at("url").as_string(), "http://127.0.0.1:8080");
  doc = served({.host = std::string_view("[::1]:9000")});
  EXPECT_EQ(doc.at("servers").at(0).at("url").as_string(), "http://[::1]:9000");
  EXPECT_EQ(doc.at("servers").as_array().size(), 1U);
}

TEST(ApiDocs, AHostThatIsNotAPlainAuthorityGivesARelativeServer) {
  for (std::string_view host : {"", "evil.example/phish", "a@b", "x y", "h\"", "h?x", "h#x"}) {
    auto doc = served({.host = host});
    EXPECT_EQ(doc.at("servers").at(0).at("url").as_string(), "/") << host;
  }
  EXPECT_EQ(served({}).at("servers").at(0).at("url").as_string(), "/");
  const std::string too_long(300, 'a');
  EXPECT_EQ(served({.host = too_long}).at("servers").at(0).at("url").as_string(), "/");
}

TEST(ApiDocs, WithoutBearerTokensNothingIsRequired) {
  auto doc = served({.host = std::string_view("h")});
  EXPECT_FALSE(doc.contains("security"));
  EXPECT_FALSE(doc.at("components").as_object().contains("securitySchemes"));
}

TEST(ApiDocs, BearerTokensAreDeclaredAndRequiredButThePublicRoutesStayPublic) {
  auto doc = served({.host = std::string_view("h"), .bearer = true});
  const auto& scheme = doc.at("components").at("securitySchemes").at("bearerAuth");
  EXPECT_EQ(scheme.at("type").as_string(), "http");
  EXPECT_EQ(scheme.at("scheme").as_string(), "bearer");
  EXPECT_EQ(json::serialize(doc.at("security")), R"([{"bearerAuth":[]}])");
  EXPECT_TRUE(doc.at("paths").at("/health").at("get").as_object().contains("security"));
  EXPECT_TRUE(doc.at("paths").at("/metrics").at("get").as_object().contains("security"));

  doc = served({.host = std::string_view("h"), .bearer = true, .metrics_need_credentials = true});
  EXPECT_FALSE(doc.at("paths").at("/metrics").at("get").as_object().contains("security"));
  EXPECT_TRUE(doc.at("paths").at("/health").at("get").as_object().contains("security"));
}

TEST(ApiDocs, ADocumentThatIsNotAnObjectIsPassedThrough) {
  EXPECT_EQ(served_openapi("not json", {}), "not json");
  EXPECT_EQ(served_openapi("[1]", {}), "[1]");
}

}  // namespace
}  // namespace crud::app

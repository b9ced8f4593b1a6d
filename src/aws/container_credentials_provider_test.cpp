#include "aws/container_credentials_provider.hpp"

#include <gtest/gtest.h>

#include <deque>

#include <boost/asio/error.hpp>

namespace crud::aws {
namespace {

class scripted_http final : public http_client {
 public:
  std::deque<boost::system::result<http_response>> script;
  std::vector<http_request> sent;
  boost::system::result<http_response> send(const http_request& request) override {
    sent.push_back(request);
    auto r = std::move(script.front());
    script.pop_front();
    return r;
  }
};

http_response creds_response(const std::string& key, const std::string& expiration) {
  return {200,
          {},
          R"({"AccessKeyId":")" + key + R"(","SecretAccessKey":"S","Token":"T","Expiration":")" +
              expiration + R"("})"};
}

// 2026-01-15T10:30:00Z
constexpr std::int64_t expiry_ms = 1'768'473'000'000;

TEST(ContainerCredentialsProvider, FetchesOnceAndRefreshesBeforeExpiry) {
  auto http = std::make_shared<scripted_http>();
  http->script.push_back(creds_response("A1", "2026-01-15T10:30:00Z"));
  http->script.push_back(creds_response("A2", "2026-01-15T11:30:00Z"));
  container_credentials_provider p(
      {"http://169.254.170.2/v2/credentials/abc?x=1", "Bearer tok", ""}, http, {});
  auto first = p.get(expiry_ms - 3600'000);
  ASSERT_TRUE(first.has_value()) << first.error();
  EXPECT_EQ(first->access_key_id, "A1");
  EXPECT_EQ(first->session_token, "T");
  EXPECT_EQ(p.get(expiry_ms - refresh_margin_ms - 1)->access_key_id, "A1");
  ASSERT_EQ(http->sent.size(), 1u);
  EXPECT_EQ(http->sent[0].method, "GET");
  EXPECT_EQ(http->sent[0].host, "169.254.170.2");
  EXPECT_EQ(http->sent[0].port, 80);
  EXPECT_EQ(http->sent[0].target, "/v2/credentials/abc?x=1");
  ASSERT_EQ(http->sent[0].headers.size(), 1u);
  EXPECT_EQ(http->sent[0].headers[0].second, "Bearer tok");
  EXPECT_EQ(p.get(expiry_ms - refresh_margin_ms)->access_key_id, "A2");
  EXPECT_EQ(http->sent.size(), 2u);
}

TEST(ContainerCredentialsProvider, KeepsUnexpiredCredentialsWhenARefreshFails) {
  auto http = std::make_shared<scripted_http>();
  http->script.push_back(creds_response("A1", "2026-01-15T10:30:00Z"));
  http->script.push_back(http_response{500, {}, "oops"});
  http->script.push_back(boost::system::error_code(boost::asio::error::connection_refused));
  container_credentials_provider p({"http://127.0.0.1:9/creds", "", ""}, http, {});
  ASSERT_TRUE(p.get(expiry_ms - 3600'000).has_value());
  auto during_outage = p.get(expiry_ms - 1000);
  ASSERT_TRUE(during_outage.has_value());
  EXPECT_EQ(during_outage->access_key_id, "A1");
  auto expired = p.get(expiry_ms + 1);
  ASSERT_FALSE(expired.has_value());
  EXPECT_NE(expired.error().find("unreachable"), std::string::npos);
}

TEST(ContainerCredentialsProvider, ReadsTheTokenFileBeforeEveryFetch) {
  auto http = std::make_shared<scripted_http>();
  http->script.push_back(creds_response("A1", "2026-01-15T10:30:00Z"));
  http->script.push_back(creds_response("A2", "2026-01-15T12:30:00Z"));
  int reads = 0;
  container_credentials_provider p({"https://creds.example/x", "ignored", "/var/run/token"}, http,
                                   [&](const std::string& path) -> std::optional<std::string> {
                                     EXPECT_EQ(path, "/var/run/token");
                                     return "token-" + std::to_string(++reads) + "\n";
                                   });
  ASSERT_TRUE(p.get(expiry_ms - 3600'000).has_value());
  ASSERT_TRUE(p.get(expiry_ms).has_value());
  ASSERT_EQ(http->sent.size(), 2u);
  EXPECT_TRUE(http->sent[0].tls);
  EXPECT_EQ(http->sent[0].port, 443);
  EXPECT_EQ(http->sent[0].headers[0].second, "token-1");
  EXPECT_EQ(http->sent[1].headers[0].second, "token-2");
}

}  // namespace
}  // namespace crud::aws

#include "aws/container_credentials.hpp"

#include <gtest/gtest.h>

namespace crud::aws {
namespace {

TEST(ContainerCredentials, NothingConfiguredMeansNoRequest) {
  auto got = container_request_from_environment({{"HOME", "/root"}});
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->has_value());
}

TEST(ContainerCredentials, RelativeUriIsOnTheEcsAgent) {
  auto got = container_request_from_environment(
      {{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/5f8e-uuid"}});
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->url, "http://169.254.170.2/v2/credentials/5f8e-uuid");
  EXPECT_EQ((*got)->authorization, "");
  EXPECT_EQ((*got)->authorization_token_file, "");
}

TEST(ContainerCredentials, RelativeUriWinsOverFullUri) {
  auto got = container_request_from_environment(
      {{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/creds"},
       {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9000/other"}});
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->url, "http://169.254.170.2/creds");
}

TEST(ContainerCredentials, FullUriCarriesTheAuthorizationToken) {
  auto got = container_request_from_environment(
      {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9911/2021-04-23/credentials"},
       {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "Basic abcd"}});
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->url, "http://127.0.0.1:9911/2021-04-23/credentials");
  EXPECT_EQ((*got)->authorization, "Basic abcd");

  auto with_file = container_request_from_environment(
      {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials"},
       {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"}});
  ASSERT_TRUE(with_file && with_file->has_value());
  EXPECT_EQ((*with_file)->authorization_token_file,
            "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token");
}

TEST(ContainerCredentials, PlainHttpOnlyToLoopbackOrTheAgents) {
  for (const char* url : {"http://127.0.0.1/c", "http://127.1.2.3:80/c", "http://localhost:8080/c",
                          "http://[::1]/c", "http://169.254.170.2/c", "http://169.254.170.23/c",
                          "http://[fd00:ec2::23]/c", "https://creds.example.com/c"}) {
    auto got = container_request_from_environment({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", url}});
    EXPECT_TRUE(got && got->has_value()) << url;
  }
  for (const char* url :
       {"http://10.0.0.5/c", "http://creds.example.com/c", "http://169.254.169.254/latest",
        "ftp://127.0.0.1/c", "not a url", "/relative/only"}) {
    auto got = container_request_from_environment({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", url}});
    ASSERT_FALSE(got) << url;
    EXPECT_NE(got.error().message.find("AWS_CONTAINER_CREDENTIALS_FULL_URI"), std::string::npos);
  }
}

TEST(ContainerCredentials, RejectsATokenThatWouldBreakTheHeader) {
  auto got = container_request_from_environment(
      {{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/c"},
       {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "abc\r\nX-Injected: 1"}});
  EXPECT_FALSE(got);
}

TEST(ContainerCredentials, TokenFileContentsAreTrimmed) {
  auto got = authorization_from_token_file("eyJhbGciOi.token.sig\n");
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, "eyJhbGciOi.token.sig");
  EXPECT_FALSE(authorization_from_token_file(" \n"));
  EXPECT_FALSE(authorization_from_token_file("a\nb"));
}

TEST(ContainerCredentials, ParsesTheEndpointResponse) {
  auto got = parse_container_credentials(R"({
    "RoleArn": "arn:aws:iam::123456789012:role/task",
    "AccessKeyId": "ASIAEXAMPLE",
    "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    "Token": "IQoJb3JpZ2luX2VjEXAMPLE==",
    "Expiration": "2015-08-30T12:36:00Z"
  })");
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(got->access_key_id, "ASIAEXAMPLE");
  EXPECT_EQ(got->secret_access_key, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
  EXPECT_EQ(got->session_token, "IQoJb3JpZ2luX2VjEXAMPLE==");
  EXPECT_EQ(got->expires_at_ms, 1440938160000);
}

TEST(ContainerCredentials, TokenAndExpirationMayBeAbsent) {
  auto got = parse_container_credentials(R"({"AccessKeyId":"A","SecretAccessKey":"S"})");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->session_token, "");
  EXPECT_EQ(got->expires_at_ms, 0);
}

TEST(ContainerCredentials, RejectsUnusableResponses) {
  EXPECT_FALSE(parse_container_credentials("not json"));
  EXPECT_FALSE(parse_container_credentials("[]"));
  EXPECT_FALSE(parse_container_credentials(R"({"code":"Forbidden","message":"denied"})"));
  EXPECT_FALSE(parse_container_credentials(R"({"AccessKeyId":"A","SecretAccessKey":""})"));
  EXPECT_FALSE(parse_container_credentials(R"({"AccessKeyId":"A","SecretAccessKey":7})"));
  EXPECT_FALSE(parse_container_credentials(
      R"({"AccessKeyId":"A","SecretAccessKey":"S","Expiration":"tomorrow"})"));
  EXPECT_FALSE(
      parse_container_credentials(R"({"AccessKeyId":"A","SecretAccessKey":"S","Token":"a\nb"})"));
}

TEST(ContainerCredentials, ParsesRfc3339Variants) {
  EXPECT_EQ(parse_rfc3339_ms("2015-08-30T12:36:00Z"), 1440938160000);
  EXPECT_EQ(parse_rfc3339_ms("2015-08-30t12:36:00z"), 1440938160000);
  EXPECT_EQ(parse_rfc3339_ms("2015-08-30T12:36:00.5Z"), 1440938160500);
  EXPECT_EQ(parse_rfc3339_ms("2015-08-30T12:36:00.123456789Z"), 1440938160123);
  EXPECT_EQ(parse_rfc3339_ms("2015-08-30T14:36:00+02:00"), 1440938160000);
  EXPECT_EQ(parse_rfc3339_ms("2015-08-30T07:06:00-05:30"), 1440938160000);
  EXPECT_EQ(parse_rfc3339_ms("2015-08-30 12:36:00Z"), 1440938160000);
  EXPECT_EQ(parse_rfc3339_ms("2015-08-30T12:36:00"), std::nullopt);  // no zone
  EXPECT_EQ(parse_rfc3339_ms("2015-02-30T12:36:00Z"), std::nullopt);
  EXPECT_EQ(parse_rfc3339_ms("2015-08-30T24:00:00Z"), std::nullopt);
  EXPECT_EQ(parse_rfc3339_ms("2015-08-30T12:36:00.Z"), std::nullopt);
  EXPECT_EQ(parse_rfc3339_ms("2015-08-30T12:36:00+2:00"), std::nullopt);
  EXPECT_EQ(parse_rfc3339_ms(""), std::nullopt);
}

}  // namespace
}  // namespace crud::aws

#include "aws/credentials.hpp"

#include <gtest/gtest.h>

namespace crud::aws {
namespace {

shared_config files(std::string_view credentials_text, std::string_view config_text) {
  auto parsed = shared_config::parse(credentials_text, config_text);
  EXPECT_TRUE(parsed) << parsed.error().message;
  return parsed ? *parsed : shared_config{};
}

TEST(Credentials, RefreshFiveMinutesBeforeExpiry) {
  const std::int64_t expiry = 1'700'000'000'000;
  credentials temp{"AKID", "secret", "token", expiry};
  EXPECT_FALSE(needs_refresh(temp, expiry - refresh_margin_ms - 1));
  EXPECT_TRUE(needs_refresh(temp, expiry - refresh_margin_ms));
  EXPECT_TRUE(needs_refresh(temp, expiry + 1));
  EXPECT_EQ(refresh_margin_ms, 300'000);

  credentials permanent{"AKID", "secret", "", 0};
  EXPECT_FALSE(needs_refresh(permanent, 0));
  EXPECT_FALSE(needs_refresh(permanent, expiry * 10));
}

TEST(Credentials, ReadsKeysAndTokenFromTheEnvironment) {
  auto got = credentials_from_environment({{"AWS_ACCESS_KEY_ID", "AKIDENV"},
                                           {"AWS_SECRET_ACCESS_KEY", "envsecret"},
                                           {"AWS_SESSION_TOKEN", "envtoken"}});
  ASSERT_TRUE(got);
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->access_key_id, "AKIDENV");
  EXPECT_EQ((*got)->secret_access_key, "envsecret");
  EXPECT_EQ((*got)->session_token, "envtoken");
  EXPECT_EQ((*got)->expires_at_ms, 0);

  auto no_token =
      credentials_from_environment({{"AWS_ACCESS_KEY_ID", "A"}, {"AWS_SECRET_ACCESS_KEY", "S"}});
  ASSERT_TRUE(no_token && no_token->has_value());
  EXPECT_EQ((*no_token)->session_token, "");
}

TEST(Credentials, AbsentEnvironmentKeysAreNotAnError) {
  auto got = credentials_from_environment({{"AWS_SESSION_TOKEN", "orphan"}, {"HOME", "/root"}});
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->has_value());
  auto empty = credentials_from_environment({{"AWS_ACCESS_KEY_ID", ""}});
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->has_value());
}

TEST(Credentials, HalfAnEnvironmentKeyPairIsAnError) {
  auto no_secret = credentials_from_environment({{"AWS_ACCESS_KEY_ID", "A"}});
  ASSERT_FALSE(no_secret);
  EXPECT_NE(no_secret.error().message.find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
  auto no_id = credentials_from_environment({{"AWS_SECRET_ACCESS_KEY", "S"}});
  ASSERT_FALSE(no_id);
  EXPECT_NE(no_id.error().message.find("AWS_ACCESS_KEY_ID"), std::string::npos);
}

TEST(Credentials, RejectsValuesThatCannotGoIntoAHeader) {
  auto got = credentials_from_environment(
      {{"AWS_ACCESS_KEY_ID", "A"}, {"AWS_SECRET_ACCESS_KEY", "S"}, {"AWS_SESSION_TOKEN", "t\n"}});
  ASSERT_FALSE(got);
  // The message names the problem, never the value.
  EXPECT_EQ(got.error().message.find("t\n"), std::string::npos);
}

TEST(Credentials, ReadsTheSelectedProfileFromTheCredentialsFile) {
  const auto shared = files(
      "[default]\naws_access_key_id = AKIDDEF\naws_secret_access_key = defsecret\n"
      "[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = devsecret\n"
      "aws_session_token = devtoken\n",
      "");
  auto def = credentials_from_profile(shared, "default", false);
  ASSERT_TRUE(def && def->has_value());
  EXPECT_EQ((*def)->access_key_id, "AKIDDEF");
  EXPECT_EQ((*def)->session_token, "");

  auto dev = credentials_from_profile(shared, "dev", true);
  ASSERT_TRUE(dev && dev->has_value());
  EXPECT_EQ((*dev)->access_key_id, "AKIDDEV");
  EXPECT_EQ((*dev)->secret_access_key, "devsecret");
  EXPECT_EQ((*dev)->session_token, "devtoken");
}

TEST(Credentials, FallsBackToKeysInTheConfigFile) {
  const auto shared = files("[other]\naws_access_key_id = X\naws_secret_access_key = Y\n",
                            "[profile dev]\nregion = eu-west-1\naws_access_key_id = AKIDCFG\n"
                            "aws_secret_access_key = cfgsecret\n");
  auto dev = credentials_from_profile(shared, "dev", true);
  ASSERT_TRUE(dev && dev->has_value());
  EXPECT_EQ((*dev)->access_key_id, "AKIDCFG");
}

TEST(Credentials, CredentialsFileWinsOverConfigFile) {
  const auto shared =
      files("[default]\naws_access_key_id = FROMCREDS\naws_secret_access_key = s1\n",
            "[default]\naws_access_key_id = FROMCONFIG\naws_secret_access_key = s2\n");
  auto got = credentials_from_profile(shared, "default", false);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_EQ((*got)->access_key_id, "FROMCREDS");
  EXPECT_EQ((*got)->secret_access_key, "s1");
}

TEST(Credentials, MissingProfileIsAnErrorOnlyWhenNamed) {
  const auto shared = files("[default]\naws_access_key_id = A\naws_secret_access_key = S\n", "");
  auto named = credentials_from_profile(shared, "prod", true);
  ASSERT_FALSE(named);
  EXPECT_NE(named.error().message.find("\"prod\""), std::string::npos);

  auto implicit = credentials_from_profile(files("", ""), "default", false);
  ASSERT_TRUE(implicit);
  EXPECT_FALSE(implicit->has_value());
}

TEST(Credentials, ProfileWithoutKeysYieldsNothing) {
  auto got =
      credentials_from_profile(files("", "[default]\nregion = eu-west-1\n"), "default", false);
  ASSERT_TRUE(got);
  EXPECT_FALSE(got->has_value());
}

TEST(Credentials, IncompleteProfileKeyPairIsAnError) {
  auto got = credentials_from_profile(files("[dev]\naws_access_key_id = A\n", ""), "dev", true);
  ASSERT_FALSE(got);
  EXPECT_NE(got.error().message.find("secret access key"), std::string::npos);
  EXPECT_NE(got.error().message.find("credentials file"), std::string::npos);
}

TEST(Credentials, UnsupportedProfileMechanismsAreReported) {
  auto role = credentials_from_profile(
      files("",
            "[profile ops]\nrole_arn = arn:aws:iam::123456789012:role/ops\n"
            "source_profile = default\n"),
      "ops", true);
  ASSERT_FALSE(role);
  EXPECT_NE(role.error().message.find("role_arn"), std::string::npos);

  auto process = credentials_from_profile(
      files("[default]\ncredential_process = /usr/bin/creds\n", ""), "default", false);
  ASSERT_FALSE(process);
  EXPECT_NE(process.error().message.find("credential_process"), std::string::npos);
}

}  // namespace
}  // namespace crud::aws

#include "aws/credential_chain.hpp"

#include <gtest/gtest.h>

namespace crud::aws {
namespace {

shared_config files(std::string_view credentials_text, std::string_view config_text) {
  auto parsed = shared_config::parse(credentials_text, config_text);
  EXPECT_TRUE(parsed) << parsed.error().message;
  return parsed ? *parsed : shared_config{};
}

env_map env_keys() {
  return {{"AWS_ACCESS_KEY_ID", "AKIDENV"}, {"AWS_SECRET_ACCESS_KEY", "S"}};
}
const char* const default_profile =
    "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = S\n"
    "[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = S\n";

TEST(CredentialChain, EnvironmentComesFirst) {
  env_map env = env_keys();
  env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/c";
  auto got = resolve_credential_source(env, files(default_profile, ""));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->origin, credential_origin::environment);
  EXPECT_EQ(got->static_credentials.access_key_id, "AKIDENV");
}

TEST(CredentialChain, SharedFilesComeSecondWithTheSelectedProfile) {
  env_map env = {{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/c"}};
  auto def = resolve_credential_source(env, files(default_profile, ""));
  ASSERT_TRUE(def);
  EXPECT_EQ(def->origin, credential_origin::shared_files);
  EXPECT_EQ(def->profile, "default");
  EXPECT_EQ(def->static_credentials.access_key_id, "AKIDFILE");

  env["AWS_PROFILE"] = "dev";
  auto dev = resolve_credential_source(env, files(default_profile, ""));
  ASSERT_TRUE(dev);
  EXPECT_EQ(dev->profile, "dev");
  EXPECT_EQ(dev->static_credentials.access_key_id, "AKIDDEV");
}

TEST(CredentialChain, ContainerEndpointComesLast) {
  auto got =
      resolve_credential_source({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x"},
                                 {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "tok"}},
                                files("", "[default]\nregion = eu-west-1\n"));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->origin, credential_origin::container);
  EXPECT_EQ(got->container.url, "http://169.254.170.2/v2/credentials/x");
  EXPECT_EQ(got->container.authorization, "tok");
  EXPECT_EQ(got->profile, "");
}

TEST(CredentialChain, NothingConfiguredIsNone) {
  auto got = resolve_credential_source({}, shared_config{});
  ASSERT_TRUE(got);
  EXPECT_EQ(got->origin, credential_origin::none);
}

TEST(CredentialChain, AMisconfiguredSourceStopsTheChain) {
  // Half a key pair in the environment must not quietly fall through to the files.
  auto half = resolve_credential_source({{"AWS_ACCESS_KEY_ID", "A"}}, files(default_profile, ""));
  EXPECT_FALSE(half);
  // A named profile that does not exist must not fall through to the container endpoint.
  auto missing = resolve_credential_source(
      {{"AWS_PROFILE", "prod"}, {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/c"}},
      files(default_profile, ""));
  EXPECT_FALSE(missing);
  auto bad_uri = resolve_credential_source(
      {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://203.0.113.9/creds"}}, shared_config{});
  EXPECT_FALSE(bad_uri);
}

}  // namespace
}  // namespace crud::aws

#include "aws/shared_config.hpp"

#include <gtest/gtest.h>

namespace crud::aws {
namespace {

TEST(SharedConfig, ParsesSectionsKeysAndComments) {
  auto ini = parse_ini(
      "\xEF\xBB\xBF# leading comment\r\n"
      "[default]\r\n"
      "aws_access_key_id = AKIDDEFAULT\r\n"
      "AWS_Secret_Access_Key=secret/with+chars==\r\n"
      "; another comment\n"
      "region: eu-west-1   # inline comment\n"
      "\n"
      "[ dev ] ; trailing\n"
      "s3 =\n"
      "  region = nested-must-not-leak\n"
      "  max_concurrent_requests = 20\n"
      "output = json\n");
  ASSERT_TRUE(ini) << ini.error().message;
  ASSERT_EQ(ini->size(), 2U);
  const auto& def = ini->at("default");
  EXPECT_EQ(def.at("aws_access_key_id"), "AKIDDEFAULT");
  EXPECT_EQ(def.at("aws_secret_access_key"), "secret/with+chars==");
  EXPECT_EQ(def.at("region"), "eu-west-1");
  const auto& dev = ini->at("dev");
  EXPECT_EQ(dev.at("s3"), "");
  EXPECT_EQ(dev.count("region"), 0U);
  EXPECT_EQ(dev.at("output"), "json");
}

TEST(SharedConfig, RejectsMalformedLinesNamingTheLine) {
  auto no_value = parse_ini("[default]\nthis is not a setting\n");
  ASSERT_FALSE(no_value);
  EXPECT_NE(no_value.error().message.find("line 2"), std::string::npos);

  auto outside = parse_ini("region = us-east-1\n[default]\n");
  ASSERT_FALSE(outside);
  EXPECT_NE(outside.error().message.find("line 1"), std::string::npos);

  EXPECT_FALSE(parse_ini("[default\nregion = x\n"));
  EXPECT_TRUE(parse_ini(""));
}

TEST(SharedConfig, FindsProfilesByTheirUserFacingNames) {
  auto files =
      shared_config::parse("[default]\naws_access_key_id = A\n[dev]\naws_access_key_id = B\n",
                           "[default]\nregion = eu-west-1\n"
                           "[profile dev]\nregion = ap-south-1\n"
                           "[profile   spaced  ]\nregion = us-west-2\n"
                           "[ci]\nregion = not-a-config-profile\n"
                           "[sso-session corp]\nsso_region = us-east-1\n");
  ASSERT_TRUE(files) << files.error().message;
  EXPECT_EQ(ini_value(files->credentials_profile("dev"), "aws_access_key_id"), "B");
  EXPECT_EQ(ini_value(files->config_profile("default"), "region"), "eu-west-1");
  EXPECT_EQ(ini_value(files->config_profile("dev"), "region"), "ap-south-1");
  EXPECT_EQ(ini_value(files->config_profile("spaced"), "region"), "us-west-2");
  // In the config file a profile other than default needs the "profile " prefix.
  EXPECT_EQ(files->config_profile("ci"), nullptr);
  EXPECT_EQ(files->config_profile("corp"), nullptr);
  EXPECT_TRUE(files->has_profile("dev"));
  EXPECT_FALSE(files->has_profile("prod"));
  EXPECT_EQ(ini_value(nullptr, "region"), "");
}

TEST(SharedConfig, ProfileDefaultSectionWinsOverBareDefault) {
  auto files =
      shared_config::parse("", "[profile default]\nregion = a-1\n[default]\nregion = b-2\n");
  ASSERT_TRUE(files);
  EXPECT_EQ(ini_value(files->config_profile("default"), "region"), "a-1");
}

TEST(SharedConfig, ReportsWhichFileIsMalformed) {
  auto bad = shared_config::parse("[default]\n", "[default]\ngarbage\n");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("config file"), std::string::npos);
}

TEST(SharedConfig, PathsComeFromOverridesOrHome) {
  auto defaults = shared_config_paths({{"HOME", "/home/u"}});
  EXPECT_EQ(defaults.credentials_file, "/home/u/.aws/credentials");
  EXPECT_EQ(defaults.config_file, "/home/u/.aws/config");

  auto overridden = shared_config_paths({{"HOME", "/home/u"},
                                         {"AWS_SHARED_CREDENTIALS_FILE", "~/creds"},
                                         {"AWS_CONFIG_FILE", "/etc/aws/config"}});
  EXPECT_EQ(overridden.credentials_file, "/home/u/creds");
  EXPECT_EQ(overridden.config_file, "/etc/aws/config");

  auto homeless = shared_config_paths({});
  EXPECT_EQ(homeless.credentials_file, "");
  EXPECT_EQ(homeless.config_file, "");
}

TEST(SharedConfig, SelectsTheProfileFromAwsProfile) {
  EXPECT_EQ(selected_profile({}), "default");
  EXPECT_EQ(selected_profile({{"AWS_PROFILE", ""}}), "default");
  EXPECT_EQ(selected_profile({{"AWS_PROFILE", "dev"}}), "dev");
}

TEST(SharedConfig, ResolvesRegionInTheDocumentedOrder) {
  auto files = shared_config::parse("", "[default]\nregion = eu-west-1\n[profile dev]\n");
  ASSERT_TRUE(files);
  EXPECT_EQ(resolve_region({{"AWS_REGION", "ap-northeast-1"}, {"AWS_DEFAULT_REGION", "sa-east-1"}},
                           *files, "default"),
            "ap-northeast-1");
  EXPECT_EQ(
      resolve_region({{"AWS_REGION", ""}, {"AWS_DEFAULT_REGION", "sa-east-1"}}, *files, "default"),
      "sa-east-1");
  EXPECT_EQ(resolve_region({}, *files, "default"), "eu-west-1");
  EXPECT_EQ(resolve_region({}, *files, "dev"), "us-east-1");  // profile without a region
  EXPECT_EQ(resolve_region({}, shared_config{}, "default"), "us-east-1");
}

TEST(SharedConfig, ValidatesRegionNames) {
  EXPECT_TRUE(is_valid_region("us-east-1"));
  EXPECT_TRUE(is_valid_region("us-gov-west-1"));
  EXPECT_TRUE(is_valid_region("local"));
  EXPECT_FALSE(is_valid_region(""));
  EXPECT_FALSE(is_valid_region("US-EAST-1"));
  EXPECT_FALSE(is_valid_region("us-east-1.evil.com"));
  EXPECT_FALSE(is_valid_region("-us"));
  EXPECT_FALSE(is_valid_region("us east"));
}

}  // namespace
}  // namespace crud::aws

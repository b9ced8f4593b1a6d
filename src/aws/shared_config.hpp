#pragma once
// The inputs that AWS configuration is resolved from, as values: the process environment (a
// map that main fills in; nothing here calls getenv) and the text of the shared files
// ~/.aws/credentials and ~/.aws/config (which main reads from the paths given here). Region
// resolution lives here too, since it is just a lookup in these inputs.

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "aws/config_error.hpp"

namespace crud::aws {

using env_map = std::map<std::string, std::string, std::less<>>;

// The variable's value, or empty when it is unset. An empty variable counts as unset, as it does
// for the AWS SDKs and CLI.
std::string_view env_value(const env_map& env, std::string_view name);

// One parsed INI file: section name -> lower-case key -> value. Keys of nested blocks
// ("s3 =" followed by indented lines) are not expanded; nothing we read is nested.
using ini_section = std::map<std::string, std::string, std::less<>>;
using ini_file = std::map<std::string, ini_section, std::less<>>;

// The AWS CLI's dialect: [section] headers, "key = value" or "key: value", full-line comments
// starting with '#' or ';', and inline comments introduced by white space then '#' or ';'.
// Fails on a line that is none of these, naming its number.
config_result<ini_file> parse_ini(std::string_view text);

struct shared_file_paths {
  std::string credentials_file;  // empty when neither the override nor HOME is set
  std::string config_file;
};

// AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE (with a leading "~/" expanded), else
// $HOME/.aws/credentials and $HOME/.aws/config.
shared_file_paths shared_config_paths(const env_map& env);

// AWS_PROFILE, else "default".
std::string selected_profile(const env_map& env);

// Both shared files, parsed. Profiles are named as users name them: "default", "dev". The
// credentials file has [dev]; the config file has [profile dev] and, for the default profile,
// [default] as well.
class shared_config {
 public:
  shared_config() = default;
  // Either text may be empty, for a file that does not exist.
  static config_result<shared_config> parse(std::string_view credentials_text,
                                            std::string_view config_text);

  const ini_section* credentials_profile(std::string_view profile) const;
  const ini_section* config_profile(std::string_view profile) const;
  bool has_profile(std::string_view profile) const {
    return credentials_profile(profile) != nullptr || config_profile(profile) != nullptr;
  }

 private:
  ini_file credentials_;
  ini_file config_;
};

// The value of `key` in `section`, or empty.
std::string_view ini_value(const ini_section* section, std::string_view key);

inline constexpr std::string_view default_region = "us-east-1";

// AWS_REGION, then AWS_DEFAULT_REGION, then `region` in the profile's config section, then
// us-east-1. A command-line --region beats all of these; main applies it.
std::string resolve_region(const env_map& env, const shared_config& files,
                           std::string_view profile);

// Region names go into host names, so only lower-case letters, digits and inner hyphens pass.
bool is_valid_region(std::string_view region);

}  // namespace crud::aws

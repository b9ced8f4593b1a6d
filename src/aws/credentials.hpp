#pragma once
// AWS credentials, where static ones come from, and when temporary ones must be refreshed.
// Every function is pure: the environment and the shared files arrive as values (see
// shared_config.hpp), and "now" is an argument.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "aws/config_error.hpp"
#include "aws/shared_config.hpp"

namespace crud::aws {

struct credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;       // empty for long-term keys
  std::int64_t expires_at_ms = 0;  // ms since the epoch; 0 for credentials that do not expire
};

// Temporary credentials are replaced this long before they expire, so that a request signed
// just before the deadline does not arrive after it.
inline constexpr std::int64_t refresh_margin_ms = 5LL * 60 * 1000;

bool needs_refresh(const credentials& creds, std::int64_t now_ms) noexcept;

// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, with AWS_SESSION_TOKEN when set. nullopt when
// neither key is set; an error when only one is, or when a value could not go into a header.
config_result<std::optional<credentials>> credentials_from_environment(const env_map& env);

// aws_access_key_id / aws_secret_access_key / aws_session_token of `profile`, from the
// credentials file, else from the config file. nullopt when the profile does not exist and
// `profile_required` is false (the implicit default profile). An error when a named profile
// is missing, when a key pair is incomplete, or when the profile relies on a mechanism this
// build does not implement (role_arn, credential_process, SSO, web identity).
config_result<std::optional<credentials>> credentials_from_profile(const shared_config& files,
                                                                   std::string_view profile,
                                                                   bool profile_required);

}  // namespace crud::aws

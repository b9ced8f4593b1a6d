#include "aws/credentials.hpp"

#include <algorithm>
#include <array>

namespace crud::aws {
namespace {

// Credentials travel in HTTP headers; a stray newline from `export X=$(cat file)` would
// otherwise corrupt the request (or inject a header).
bool header_safe(std::string_view value) {
  return std::none_of(value.begin(), value.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F;
  });
}

config_result<credentials> make_credentials(std::string_view key_id, std::string_view secret,
                                            std::string_view token, std::string_view where) {
  if (key_id.empty() || secret.empty()) {
    std::string missing = key_id.empty() ? "access key id" : "secret access key";
    return config_error{std::string(where) + " has an incomplete key pair: the " + missing +
                        " is missing"};
  }
  if (!header_safe(key_id) || !header_safe(secret) || !header_safe(token)) {
    return config_error{std::string(where) + " has a credential containing a control character"};
  }
  credentials out;
  out.access_key_id = std::string(key_id);
  out.secret_access_key = std::string(secret);
  out.session_token = std::string(token);
  return out;
}

}  // namespace

bool needs_refresh(const credentials& creds, std::int64_t now_ms) noexcept {
  return creds.expires_at_ms != 0 && now_ms >= creds.expires_at_ms - refresh_margin_ms;
}

config_result<std::optional<credentials>> credentials_from_environment(const env_map& env) {
  std::string_view key_id = env_value(env, "AWS_ACCESS_KEY_ID");
  std::string_view secret = env_value(env, "AWS_SECRET_ACCESS_KEY");
  if (key_id.empty() && secret.empty())
    return std::optional<credentials>{};
  if (key_id.empty()) {
    return config_error{"AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"};
  }
  if (secret.empty()) {
    return config_error{"AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"};
  }
  auto creds =
      make_credentials(key_id, secret, env_value(env, "AWS_SESSION_TOKEN"), "the environment");
  if (!creds)
    return creds.error();
  return std::optional<credentials>{std::move(*creds)};
}

config_result<std::optional<credentials>> credentials_from_profile(const shared_config& files,
                                                                   std::string_view profile,
                                                                   bool profile_required) {
  const std::string name = "profile \"" + std::string(profile) + "\"";
  if (!files.has_profile(profile)) {
    if (profile_required) {
      return config_error{name +
                          " (AWS_PROFILE) is in neither ~/.aws/credentials nor ~/.aws/config"};
    }
    return std::optional<credentials>{};
  }
  // Each file must hold a complete pair on its own, as for the CLI: keys are not mixed across
  // files.
  const struct {
    const ini_section* section;
    std::string_view file;
  } sources[] = {{files.credentials_profile(profile), "in the shared credentials file"},
                 {files.config_profile(profile), "in the shared config file"}};
  for (const auto& source : sources) {
    std::string_view key_id = ini_value(source.section, "aws_access_key_id");
    std::string_view secret = ini_value(source.section, "aws_secret_access_key");
    if (key_id.empty() && secret.empty())
      continue;
    auto creds = make_credentials(key_id, secret, ini_value(source.section, "aws_session_token"),
                                  name + ' ' + std::string(source.file));
    if (!creds)
      return creds.error();
    return std::optional<credentials>{std::move(*creds)};
  }
  // Saying so beats falling through to another source and acting as a different identity.
  static constexpr std::array<std::string_view, 6> unsupported = {
      "role_arn",      "credential_process",      "sso_session",
      "sso_start_url", "web_identity_token_file", "credential_source",
  };
  for (std::string_view key : unsupported) {
    if (!ini_value(files.config_profile(profile), key).empty() ||
        !ini_value(files.credentials_profile(profile), key).empty()) {
      return config_error{name + " uses " + std::string(key) +
                          ", which is not supported; provide static keys or run where the "
                          "container credentials endpoint is available"};
    }
  }
  return std::optional<credentials>{};
}

}  // namespace crud::aws

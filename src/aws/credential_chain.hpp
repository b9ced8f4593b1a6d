#pragma once
// Which credentials source applies, in the SDKs' order: the environment, then the shared files
// (with AWS_PROFILE), then the container credentials endpoint. Deciding is pure; fetching from
// the endpoint, and refreshing before expiry, belong to the HTTP client's provider.

#include <cstdint>
#include <string>

#include "aws/config_error.hpp"
#include "aws/container_credentials.hpp"
#include "aws/credentials.hpp"
#include "aws/shared_config.hpp"

namespace crud::aws {

enum class credential_origin : std::uint8_t {
  none,          // nothing configured
  environment,   // static_credentials
  shared_files,  // static_credentials, from `profile`
  container,     // fetch with `container`
};

struct credential_source {
  credential_origin origin = credential_origin::none;
  credentials static_credentials;
  std::string profile;
  container_credentials_request container;
};

// The first source that is configured. A source that is configured wrongly is an error rather
// than a reason to try the next one, so a typo never silently changes the identity in use.
config_result<credential_source> resolve_credential_source(const env_map& env,
                                                           const shared_config& files);

}  // namespace crud::aws

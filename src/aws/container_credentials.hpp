#pragma once
// The container credentials endpoint, which ECS tasks, EKS Pod Identity and Lambda SnapStart
// functions get temporary credentials from. This is the pure half: which URL to call with which
// Authorization header, decided from the environment, and the reading of the JSON answer. The
// HTTP client performs the GET.

#include <optional>
#include <string>
#include <string_view>

#include "aws/config_error.hpp"
#include "aws/credentials.hpp"
#include "aws/shared_config.hpp"

namespace crud::aws {

// The ECS agent's link-local address that AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is relative to.
inline constexpr std::string_view ecs_credentials_origin = "http://169.254.170.2";

struct container_credentials_request {
  std::string url;
  // The Authorization header value from AWS_CONTAINER_AUTHORIZATION_TOKEN; may be empty.
  std::string authorization;
  // AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, which wins over `authorization` when set. EKS
  // rotates the file, so it is read again (authorization_from_token_file) before every fetch.
  std::string authorization_token_file;
};

// From AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (preferred, on 169.254.170.2) or
// AWS_CONTAINER_CREDENTIALS_FULL_URI. nullopt when neither is set. A full URI must be https,
// or http to a loopback address or to the ECS/EKS agent (169.254.170.2, 169.254.170.23,
// fd00:ec2::23): credentials are never fetched in clear text across a network.
config_result<std::optional<container_credentials_request>> container_request_from_environment(
    const env_map& env);

// The Authorization value from the token file's contents: surrounding white space (the final
// newline) removed; an error when empty or when a line break remains inside.
config_result<std::string> authorization_from_token_file(std::string_view contents);

// {"AccessKeyId", "SecretAccessKey", "Token", "Expiration" (RFC 3339)}. Token and Expiration
// may be absent; without Expiration the credentials are kept until the process ends.
config_result<credentials> parse_container_credentials(std::string_view body);

// An RFC 3339 date-time ("2019-05-29T00:21:43Z", "…43.123456+02:00") as ms since the epoch;
// fractions beyond milliseconds are truncated.
std::optional<std::int64_t> parse_rfc3339_ms(std::string_view text);

}  // namespace crud::aws

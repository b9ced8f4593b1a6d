#include "aws/credential_chain.hpp"

namespace crud::aws {

config_result<credential_source> resolve_credential_source(const env_map& env,
                                                           const shared_config& files) {
  credential_source out;

  auto from_env = credentials_from_environment(env);
  if (!from_env)
    return from_env.error();
  if (*from_env) {
    out.origin = credential_origin::environment;
    out.static_credentials = std::move(**from_env);
    return out;
  }

  out.profile = selected_profile(env);
  const bool named = !env_value(env, "AWS_PROFILE").empty();
  auto from_files = credentials_from_profile(files, out.profile, named);
  if (!from_files)
    return from_files.error();
  if (*from_files) {
    out.origin = credential_origin::shared_files;
    out.static_credentials = std::move(**from_files);
    return out;
  }
  out.profile.clear();

  auto container = container_request_from_environment(env);
  if (!container)
    return container.error();
  if (*container) {
    out.origin = credential_origin::container;
    out.container = std::move(**container);
  }
  return out;
}

}  // namespace crud::aws

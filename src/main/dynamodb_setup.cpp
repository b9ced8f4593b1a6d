#include "main/dynamodb_setup.hpp"

#include <unistd.h>  // environ

#include <chrono>
#include <thread>

#include "aws/container_credentials_provider.hpp"
#include "aws/credential_chain.hpp"
#include "aws/shared_config.hpp"
#include "main/file_text.hpp"

namespace crud::main {
namespace {

aws::env_map read_environment() {
  aws::env_map env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string_view::npos)
      env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return env;
}

// The file's text; "" when it does not exist or cannot be read, as for the AWS CLI.
std::string read_optional_file(const std::string& path) {
  if (path.empty())
    return {};
  return read_file(path).value_or(std::string());
}

}  // namespace

boost::system::result<dynamodb_setup, std::string> make_dynamodb_setup(process& p,
                                                                       const options& o) {
  const auto env = read_environment();
  const auto paths = aws::shared_config_paths(env);
  auto files = aws::shared_config::parse(read_optional_file(paths.credentials_file),
                                         read_optional_file(paths.config_file));
  if (!files)
    return files.error().message;
  auto source = aws::resolve_credential_source(env, *files);
  if (!source)
    return source.error().message;
  if (source->origin == aws::credential_origin::none)
    return std::string(
        "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile in "
        "~/.aws/credentials (AWS_PROFILE)");
  std::string region = o.region;
  if (region.empty())
    region = aws::resolve_region(env, *files, aws::selected_profile(env));
  if (!aws::is_valid_region(region))
    return "--region '" + region + "' is not a valid AWS region name";

  aws::beast_http_options http_options;
  http_options.ca_file = std::string(aws::env_value(env, "SSL_CERT_FILE"));
  http_options.ca_dir = std::string(aws::env_value(env, "SSL_CERT_DIR"));
  auto made = aws::make_beast_http_client(http_options);
  if (!made)
    return made.error();
  std::shared_ptr<aws::http_client> http(std::move(*made));

  std::shared_ptr<aws::credentials_provider> credentials;
  if (source->origin == aws::credential_origin::container) {
    credentials =
        std::make_shared<aws::container_credentials_provider>(source->container, http, read_file);
  } else {
    credentials = std::make_shared<aws::static_credentials_provider>(source->static_credentials);
  }

  dynamodb_setup setup{
      store::dynamodb_options{},
      store::dynamodb_store_deps{
          http, credentials, p.clock, p.random,
          [](std::int64_t ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); },
          p.tracer.get()}};
  setup.options.table = o.table;
  setup.options.region = region;
  setup.options.endpoint = o.endpoint;
  return setup;
}

}  // namespace crud::main

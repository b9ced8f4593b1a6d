// ~/.aws/credentials and ~/.aws/config: files the user edits by hand. The input is the
// credentials text, then a NUL, then the config text (one text serves as both when there is no
// NUL); profiles and the region are then looked up the way start-up does.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "aws/shared_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace crud::aws;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string_view credentials = text;
  std::string_view config = text;
  if (auto nul = text.find('\0'); nul != std::string_view::npos) {
    credentials = text.substr(0, nul);
    config = text.substr(nul + 1);
  }
  (void)parse_ini(text);
  auto files = shared_config::parse(credentials, config);
  if (!files)
    return 0;
  for (std::string_view profile : {"default", "dev", "profile dev"}) {
    (void)ini_value(files->credentials_profile(profile), "aws_access_key_id");
    (void)ini_value(files->config_profile(profile), "region");
    (void)is_valid_region(resolve_region(env_map{}, *files, profile));
  }
  return 0;
}

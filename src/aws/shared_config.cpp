#include "aws/shared_config.hpp"

#include <algorithm>

namespace crud::aws {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_blank(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back()))
    text.remove_suffix(1);
  return text;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return out;
}

// Cuts an inline comment: '#' or ';' preceded by white space. Values we read (keys, tokens,
// region names) never contain white space, so nothing legitimate is lost.
std::string_view strip_inline_comment(std::string_view value) {
  for (std::size_t i = 1; i < value.size(); ++i) {
    if ((value[i] == '#' || value[i] == ';') && is_blank(value[i - 1])) {
      return trim(value.substr(0, i));
    }
  }
  return value;
}

std::string expand_home(std::string_view path, const env_map& env) {
  if (path.size() >= 2 && path[0] == '~' && path[1] == '/') {
    std::string_view home = env_value(env, "HOME");
    if (!home.empty())
      return std::string(home) + std::string(path.substr(1));
  }
  return std::string(path);
}

const ini_section* find_section(const ini_file& file, std::string_view name) {
  auto it = file.find(name);
  return it == file.end() ? nullptr : &it->second;
}

}  // namespace

std::string_view env_value(const env_map& env, std::string_view name) {
  auto it = env.find(name);
  return it == env.end() ? std::string_view{} : std::string_view{it->second};
}

config_result<ini_file> parse_ini(std::string_view text) {
  ini_file out;
  ini_section* section = nullptr;
  bool have_key = false;  // an indented line continues the previous key
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    std::size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line_no == 1 && raw.starts_with("\xEF\xBB\xBF"))
      raw.remove_prefix(3);  // UTF-8 BOM

    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#' || line.front() == ';')
      continue;
    if (is_blank(raw.front()) && have_key)
      continue;  // continuation or nested block

    if (line.front() == '[') {
      line = strip_inline_comment(line);
      if (line.back() != ']') {
        return config_error{"malformed section header on line " + std::to_string(line_no)};
      }
      std::string name(trim(line.substr(1, line.size() - 2)));
      section = &out[name];
      have_key = false;
      continue;
    }
    std::size_t sep = line.find_first_of("=:");
    if (sep == std::string_view::npos || sep == 0) {
      return config_error{"expected \"key = value\" on line " + std::to_string(line_no)};
    }
    if (section == nullptr) {
      return config_error{"setting outside any [section] on line " + std::to_string(line_no)};
    }
    std::string key = lower(trim(line.substr(0, sep)));
    (*section)[key] = std::string(strip_inline_comment(trim(line.substr(sep + 1))));
    have_key = true;
  }
  return out;
}

shared_file_paths shared_config_paths(const env_map& env) {
  shared_file_paths out;
  std::string_view home = env_value(env, "HOME");
  std::string_view creds = env_value(env, "AWS_SHARED_CREDENTIALS_FILE");
  std::string_view config = env_value(env, "AWS_CONFIG_FILE");
  if (!creds.empty()) {
    out.credentials_file = expand_home(creds, env);
  } else if (!home.empty()) {
    out.credentials_file = std::string(home) + "/.aws/credentials";
  }
  if (!config.empty()) {
    out.config_file = expand_home(config, env);
  } else if (!home.empty()) {
    out.config_file = std::string(home) + "/.aws/config";
  }
  return out;
}

std::string selected_profile(const env_map& env) {
  std::string_view profile = env_value(env, "AWS_PROFILE");
  return profile.empty() ? std::string("default") : std::string(profile);
}

config_result<shared_config> shared_config::parse(std::string_view credentials_text,
                                                  std::string_view config_text) {
  shared_config out;
  auto creds = parse_ini(credentials_text);
  if (!creds)
    return config_error{"shared credentials file: " + creds.error().message};
  auto config = parse_ini(config_text);
  if (!config)
    return config_error{"shared config file: " + config.error().message};

  out.credentials_ = std::move(*creds);
  // Normalise "[profile  dev]" to "dev" so lookups are by the user's profile name. Sections
  // of other kinds ([sso-session x], [services x]) are dropped: nothing here reads them.
  for (auto& [name, section] : *config) {
    if (name == "default") {
      out.config_.try_emplace("default", section);  // [profile default] wins if both exist
      continue;
    }
    if (name.starts_with("profile") && name.size() > 7 && is_blank(name[7])) {
      std::string profile(trim(std::string_view(name).substr(8)));
      out.config_[profile] = section;
    }
  }
  return out;
}

const ini_section* shared_config::credentials_profile(std::string_view profile) const {
  return find_section(credentials_, profile);
}

const ini_section* shared_config::config_profile(std::string_view profile) const {
  return find_section(config_, profile);
}

std::string_view ini_value(const ini_section* section, std::string_view key) {
  if (section == nullptr)
    return {};
  auto it = section->find(key);
  return it == section->end() ? std::string_view{} : std::string_view{it->second};
}

std::string resolve_region(const env_map& env, const shared_config& files,
                           std::string_view profile) {
  for (std::string_view name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    std::string_view value = env_value(env, name);
    if (!value.empty())
      return std::string(value);
  }
  std::string_view from_file = ini_value(files.config_profile(profile), "region");
  if (!from_file.empty())
    return std::string(from_file);
  return std::string(default_region);
}

bool is_valid_region(std::string_view region) {
  if (region.empty() || region.size() > 63 || region.front() == '-' || region.back() == '-') {
    return false;
  }
  return std::all_of(region.begin(), region.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

}  // namespace crud::aws

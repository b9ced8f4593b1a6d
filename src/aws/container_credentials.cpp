#include "aws/container_credentials.hpp"

#include <algorithm>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/url/ipv4_address.hpp>
#include <boost/url/ipv6_address.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include "core/timestamp.hpp"

namespace crud::aws {
namespace {

// config_error is constructible from a string (aggregate), so a string result must say which
// alternative it is.
config_result<std::string> ok(std::string value) {
  return {boost::system::in_place_value, std::move(value)};
}

bool has_control(std::string_view value) {
  return std::any_of(value.begin(), value.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F;
  });
}

bool is_trusted_plain_http_host(const boost::urls::url_view& url) {
  using boost::urls::host_type;
  switch (url.host_type()) {
    case host_type::ipv4: {
      const auto addr = url.host_ipv4_address();
      // 169.254.170.2 is the ECS agent, 169.254.170.23 the EKS Pod Identity agent.
      return addr.is_loopback() || addr.to_uint() == 0xA9FEAA02 || addr.to_uint() == 0xA9FEAA17;
    }
    case host_type::ipv6: {
      const auto addr = url.host_ipv6_address();
      auto eks = boost::urls::parse_ipv6_address("fd00:ec2::23");
      return addr.is_loopback() || (eks && addr == *eks);
    }
    case host_type::name:
      return url.host() == "localhost";
    default:
      return false;
  }
}

config_result<std::string> checked_url(std::string url, std::string_view variable,
                                       bool allow_https) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed || !parsed->has_authority() || parsed->host().empty()) {
    return config_error{std::string(variable) + " is not a valid URL"};
  }
  const auto scheme = parsed->scheme_id();
  if (scheme == boost::urls::scheme::https && allow_https)
    return ok(std::move(url));
  if (scheme == boost::urls::scheme::http && is_trusted_plain_http_host(*parsed))
    return ok(std::move(url));
  if (scheme == boost::urls::scheme::http) {
    return config_error{std::string(variable) +
                        " must use https, or http to a loopback address or the ECS/EKS agent"};
  }
  return config_error{std::string(variable) + " must be an http or https URL"};
}

bool read_digits(std::string_view s, std::size_t at, std::size_t n) {
  if (at + n > s.size())
    return false;
  return std::all_of(s.begin() + static_cast<std::ptrdiff_t>(at),
                     s.begin() + static_cast<std::ptrdiff_t>(at + n),
                     [](char c) { return c >= '0' && c <= '9'; });
}

int two_digits(std::string_view s, std::size_t at) {
  return (s[at] - '0') * 10 + (s[at + 1] - '0');
}

std::optional<std::string_view> string_field(const boost::json::object& obj, std::string_view key) {
  const auto* v = obj.if_contains(key);
  if (v == nullptr || !v->is_string())
    return std::nullopt;
  return std::string_view(v->get_string());
}

}  // namespace

std::optional<std::int64_t> parse_rfc3339_ms(std::string_view s) {
  // YYYY-MM-DD(T|t| )HH:MM:SS[.fraction](Z|z|+HH:MM|-HH:MM)
  if (s.size() < 20 || !read_digits(s, 0, 4) || s[4] != '-' || !read_digits(s, 5, 2) ||
      s[7] != '-' || !read_digits(s, 8, 2) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !read_digits(s, 11, 2) || s[13] != ':' || !read_digits(s, 14, 2) || s[16] != ':' ||
      !read_digits(s, 17, 2)) {
    return std::nullopt;
  }
  std::string millis = "000";
  std::size_t at = 19;
  if (s[at] == '.') {
    ++at;
    std::size_t digits = 0;
    while (at < s.size() && s[at] >= '0' && s[at] <= '9') {
      if (digits < 3)
        millis[digits] = s[at];
      ++digits;
      ++at;
    }
    if (digits == 0)
      return std::nullopt;
  }
  std::int64_t offset_ms = 0;
  std::string_view zone = s.substr(at);
  if (zone == "Z" || zone == "z") {
    offset_ms = 0;
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && read_digits(zone, 1, 2) &&
             zone[3] == ':' && read_digits(zone, 4, 2)) {
    const int hours = two_digits(zone, 1);
    const int minutes = two_digits(zone, 4);
    if (hours > 23 || minutes > 59)
      return std::nullopt;
    offset_ms = (hours * 60 + minutes) * 60'000LL * (zone[0] == '+' ? 1 : -1);
  } else {
    return std::nullopt;
  }
  // Reuse core's calendar checks by rewriting into the one form it parses.
  std::string normal;
  normal.reserve(24);
  normal.append(s.substr(0, 10)).append(1, 'T').append(s.substr(11, 8));
  normal.append(1, '.').append(millis).append(1, 'Z');
  auto local = core::parse_timestamp(normal);
  if (!local)
    return std::nullopt;
  return *local - offset_ms;
}

config_result<std::optional<container_credentials_request>> container_request_from_environment(
    const env_map& env) {
  std::string_view relative = env_value(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  std::string_view full = env_value(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
  if (relative.empty() && full.empty())
    return std::optional<container_credentials_request>{};

  container_credentials_request out;
  if (!relative.empty()) {
    std::string url(ecs_credentials_origin);
    if (relative.front() != '/')
      url += '/';
    url += relative;
    auto checked = checked_url(std::move(url), "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", false);
    if (!checked)
      return checked.error();
    out.url = std::move(*checked);
  } else {
    auto checked = checked_url(std::string(full), "AWS_CONTAINER_CREDENTIALS_FULL_URI", true);
    if (!checked)
      return checked.error();
    out.url = std::move(*checked);
  }

  out.authorization_token_file =
      std::string(env_value(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"));
  std::string_view token = env_value(env, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
  if (has_control(token)) {
    return config_error{"AWS_CONTAINER_AUTHORIZATION_TOKEN contains a control character"};
  }
  out.authorization = std::string(token);
  return std::optional<container_credentials_request>{std::move(out)};
}

config_result<std::string> authorization_from_token_file(std::string_view contents) {
  while (!contents.empty() && (contents.back() == '\n' || contents.back() == '\r' ||
                               contents.back() == ' ' || contents.back() == '\t')) {
    contents.remove_suffix(1);
  }
  while (!contents.empty() && (contents.front() == ' ' || contents.front() == '\t')) {
    contents.remove_prefix(1);
  }
  if (contents.empty())
    return config_error{"the container authorization token file is empty"};
  if (has_control(contents)) {
    return config_error{"the container authorization token file contains a control character"};
  }
  return ok(std::string(contents));
}

config_result<credentials> parse_container_credentials(std::string_view body) {
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(body, ec);
  if (ec || !doc.is_object()) {
    return config_error{"the container credentials response is not a JSON object"};
  }
  const auto& obj = doc.get_object();
  auto key_id = string_field(obj, "AccessKeyId");
  auto secret = string_field(obj, "SecretAccessKey");
  if (!key_id || key_id->empty() || !secret || secret->empty()) {
    return config_error{"the container credentials response lacks AccessKeyId or SecretAccessKey"};
  }
  credentials out;
  out.access_key_id = std::string(*key_id);
  out.secret_access_key = std::string(*secret);
  if (auto token = string_field(obj, "Token"))
    out.session_token = std::string(*token);
  if (has_control(out.access_key_id) || has_control(out.secret_access_key) ||
      has_control(out.session_token)) {
    return config_error{"the container credentials response has a control character in a key"};
  }
  if (const auto* exp = obj.if_contains("Expiration"); exp != nullptr && !exp->is_null()) {
    std::optional<std::int64_t> at;
    if (exp->is_string())
      at = parse_rfc3339_ms(exp->get_string());
    if (!at)
      return config_error{"the container credentials response has an invalid Expiration"};
    out.expires_at_ms = *at;
  }
  return out;
}

}  // namespace crud::aws

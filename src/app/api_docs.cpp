#include "app/api_docs.hpp"

#include <algorithm>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "app/conditional.hpp"

namespace crud::app {

namespace json = boost::json;

namespace {

constexpr std::size_t max_host_length = 255;

// A host name, an IPv4 address or a bracketed IPv6 one, with an optional port: nothing that
// could make the URL mean something else (no '/', '@', '?', '#', space or quote).
bool plain_authority(std::string_view host) {
  if (host.empty() || host.size() > max_host_length)
    return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_' || c == ':' || c == '[' || c == ']';
  });
}

}  // namespace

const static_asset* find_asset(std::span<const static_asset> files,
                               std::string_view path) noexcept {
  for (const auto& f : files) {
    if (f.path == path)
      return &f;
  }
  return nullptr;
}

response asset_response(const static_asset& file, std::optional<std::string_view> if_none_match) {
  response res;
  res.headers.emplace_back("Content-Type", file.content_type);
  res.headers.emplace_back("ETag", file.etag);
  res.headers.emplace_back("Cache-Control", "no-cache");
  res.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (if_none_match && if_none_match_matches(*if_none_match, file.etag)) {
    res.status = 304;
    return res;
  }
  res.status = 200;
  res.body = std::string(file.body);
  return res;
}

std::string served_openapi(std::string_view document, const openapi_audience& audience) {
  boost::system::error_code ec;
  json::value doc = json::parse(document, ec);
  if (ec || !doc.is_object())
    return std::string(document);
  json::object& root = doc.as_object();

  std::string url = "/";
  if (audience.host && plain_authority(*audience.host))
    url = "http://" + std::string(*audience.host);
  root["servers"] = json::array{json::object{{"url", url}, {"description", "This server"}}};

  if (audience.bearer) {
    json::value& components = root["components"];
    if (!components.is_object())
      components = json::object{};
    json::value& schemes = components.as_object()["securitySchemes"];
    if (!schemes.is_object())
      schemes = json::object{};
    schemes.as_object()["bearerAuth"] =
        json::object{{"type", "http"},
                     {"scheme", "bearer"},
                     {"bearerFormat", "JWT"},
                     {"description",
                      "A JWT this server verifies (--jwt-secret or --jwt-public-key); its "
                      "`sub` is the owner."}};
    root["security"] = json::array{json::object{{"bearerAuth", json::array{}}}};
    if (audience.metrics_need_credentials) {
      // openapi.yaml marks /metrics public, as API Gateway never serves it; here it is not.
      if (auto* paths = root.if_contains("paths"); paths && paths->is_object()) {
        if (auto* metrics = paths->as_object().if_contains("/metrics");
            metrics && metrics->is_object()) {
          if (auto* get = metrics->as_object().if_contains("get"); get && get->is_object())
            get->as_object().erase("security");
        }
      }
    }
  }
  return json::serialize(doc);
}

}  // namespace crud::app

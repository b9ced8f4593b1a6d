#pragma once
// The API describing itself, for a transport that serves /openapi.json and /docs (`serve`):
// the embedded files (static_asset) answered with their type, a strong ETag and 304 on a
// matching If-None-Match, and the stored OpenAPI document completed per request with what only
// the running server knows: its own address, as the request reached it, and whether it wants a
// bearer token. Pure functions of their inputs: the files come from the transport's hooks.

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "app/http_types.hpp"
#include "app/static_asset.hpp"

namespace crud::app {

// The file served at exactly `path`, or null.
const static_asset* find_asset(std::span<const static_asset> files, std::string_view path) noexcept;

// 200 with the file, or 304 when `if_none_match` matches its ETag. Every answer is to be
// revalidated (no-cache): the URLs carry no version, and a revalidation is one cheap 304.
response asset_response(const static_asset& file, std::optional<std::string_view> if_none_match);

struct openapi_audience {
  // The request's Host header; the document's `servers` entry is http://<host>. Absent or not
  // a plain host[:port], the entry is "/" (this server, relative to the document's URL).
  std::optional<std::string_view> host;
  // The server asks for bearer tokens: the document requires a bearer scheme (Swagger UI's
  // Authorize), except on the operations that state `security: []`.
  bool bearer = false;
  // With `bearer`: /metrics needs the token too (not --metrics-public).
  bool metrics_need_credentials = false;
};

// The stored document (cmake/openapi_json.py's output) as this server serves it. A document
// that does not parse as a JSON object is returned as it is.
std::string served_openapi(std::string_view document, const openapi_audience& audience);

}  // namespace crud::app

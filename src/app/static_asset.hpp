#pragma once
// A file a transport serves as it is, named by its URL path: the /docs page and its scripts,
// styles and icons, and the OpenAPI document that /openapi.json completes per request. The
// bytes live in the binary (embedded at build time), so the views never dangle.

#include <string_view>

namespace crud::app {

struct static_asset {
  std::string_view path;  // "/docs", "/docs/swagger-ui.css", "/openapi.json"
  std::string_view content_type;
  std::string_view etag;  // strong, quoted: a digest of `body`
  std::string_view body;
};

}  // namespace crud::app

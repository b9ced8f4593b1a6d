#pragma once
// The files `serve` answers /docs and /openapi.json with, compiled into the binary: the
// interactive page (docs_page/index.html), Swagger UI's script, styles and icons (from the
// pinned swagger-ui-dist npm package), and the OpenAPI document derived from openapi.yaml
// (cmake/openapi_json.py). cmake/embed_files.py generates the definition at build time, so
// serving them needs nothing on disk and no network.

#include <span>

#include "app/static_asset.hpp"

namespace crud::server {

std::span<const app::static_asset> docs_files() noexcept;

}  // namespace crud::server

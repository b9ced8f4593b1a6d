#pragma once
// The route table: which route a path names, which operation each method asks of it, and the
// `Allow` header for a 405. Adding a route means a `route_id`, a line in `match_route` and a
// row in the table in router.cpp; the pipeline (api.cpp) and the handlers do the rest.

#include <cstdint>
#include <string>
#include <string_view>

#include "app/api_config.hpp"
#include "app/http_types.hpp"

namespace crud::app {

enum class route_id : std::uint8_t {
  none,        // no such path: 404
  collection,  // /items
  item,        // /items/{id}
  restore,     // /items/{id}/restore
  health,      // /health, when the transport has its own routes
  metrics,     // /metrics, likewise
  openapi,     // /openapi.json, likewise
  docs,        // /docs and /docs/<file>, likewise
};

struct route_match {
  route_id route = route_id::none;
  std::string_view item_id;  // for item and restore: a view into the path, not yet validated
};

// `local_routes`: whether the transport serves /health, /metrics, /openapi.json and /docs
// (only `serve` does).
route_match match_route(std::string_view path, bool local_routes) noexcept;

// Whether the route is one of the transport's own (no credentials asked, not an API operation).
constexpr bool is_local(route_id route) noexcept {
  return route == route_id::health || route == route_id::metrics || route == route_id::openapi ||
         route == route_id::docs;
}

// The operation `method` asks of `route`, or `unknown` when the route has no such method.
// The transport's routes have no operation: GET and HEAD are their only methods.
operation operation_for(route_id route, std::string_view method) noexcept;

// Whether a route answers `method` at all (before asking whether this deployment serves it).
bool route_has_method(route_id route, std::string_view method) noexcept;

// Whether this deployment serves `op`.
bool serves(const operation_set& ops, operation op) noexcept;

// The methods `route` answers in this deployment, as an Allow header value: the table's order,
// then OPTIONS when CORS is on.
std::string allow_header(route_id route, const operation_set& ops, bool cors);

}  // namespace crud::app

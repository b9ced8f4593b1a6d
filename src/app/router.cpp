#include "app/router.hpp"

#include <array>
#include <span>

namespace crud::app {
namespace {

struct route_method {
  std::string_view method;
  operation op;
};

constexpr std::array collection_methods{
    route_method{"GET", operation::list_items},
    route_method{"HEAD", operation::list_items},
    route_method{"POST", operation::create_item},
};
constexpr std::array item_methods{
    route_method{"GET", operation::get_item},       route_method{"HEAD", operation::get_item},
    route_method{"PUT", operation::update_item},    route_method{"PATCH", operation::patch_item},
    route_method{"DELETE", operation::delete_item},
};
constexpr std::array restore_methods{route_method{"POST", operation::restore_item}};
constexpr std::array local_methods{
    route_method{"GET", operation::unknown},
    route_method{"HEAD", operation::unknown},
};

std::span<const route_method> methods_of(route_id route) noexcept {
  switch (route) {
    case route_id::collection:
      return collection_methods;
    case route_id::item:
      return item_methods;
    case route_id::restore:
      return restore_methods;
    case route_id::health:
    case route_id::metrics:
    case route_id::openapi:
    case route_id::docs:
      return local_methods;
    case route_id::none:
      break;
  }
  return {};
}

constexpr std::string_view items_prefix = "/items/";

}  // namespace

route_match match_route(std::string_view path, bool local_routes) noexcept {
  if (path == "/items")
    return {route_id::collection, {}};
  if (local_routes && path == "/health")
    return {route_id::health, {}};
  if (local_routes && path == "/metrics")
    return {route_id::metrics, {}};
  if (local_routes && path == "/openapi.json")
    return {route_id::openapi, {}};
  if (local_routes && (path == "/docs" || path.starts_with("/docs/")))
    return {route_id::docs, {}};
  if (!path.starts_with(items_prefix))
    return {};
  std::string_view rest = path.substr(items_prefix.size());
  // Ids never hold a '%'; one here is what the decoder kept of an escaped slash ("%2F"), and
  // an escaped slash is data, not a boundary: "/items/<id>%2Frestore" names no route.
  if (rest.find('%') != std::string_view::npos)
    return {};
  const auto slash = rest.find('/');
  const std::string_view id = rest.substr(0, slash);
  if (id.empty())
    return {};
  if (slash == std::string_view::npos)
    return {route_id::item, id};
  if (rest.substr(slash + 1) == "restore")
    return {route_id::restore, id};
  return {};
}

operation operation_for(route_id route, std::string_view method) noexcept {
  for (const auto& m : methods_of(route)) {
    if (m.method == method)
      return m.op;
  }
  return operation::unknown;
}

bool route_has_method(route_id route, std::string_view method) noexcept {
  for (const auto& m : methods_of(route)) {
    if (m.method == method)
      return true;
  }
  return false;
}

bool serves(const operation_set& ops, operation op) noexcept {
  switch (op) {
    case operation::create_item:
      return ops.create;
    case operation::get_item:
    case operation::list_items:
      return ops.read;
    case operation::update_item:
    case operation::patch_item:
    case operation::restore_item:
      return ops.update;
    case operation::delete_item:
      return ops.remove;
    case operation::preflight:
    case operation::unknown:
      break;
  }
  return false;
}

std::string allow_header(route_id route, const operation_set& ops, bool cors) {
  std::string allow;
  auto add = [&](std::string_view m) {
    if (!allow.empty())
      allow.append(", ");
    allow.append(m);
  };
  for (const auto& m : methods_of(route)) {
    if (is_local(route) || serves(ops, m.op))
      add(m.method);
  }
  if (cors && !is_local(route))
    add("OPTIONS");
  return allow;
}

}  // namespace crud::app

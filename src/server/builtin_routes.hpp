#pragma once
// The routes the server answers itself, before the app: `/health` (a liveness probe that
// touches nothing) and `/metrics` (Prometheus text). They only exist in `serve`, so they live
// here rather than in the app. Their responses carry the same Content-Type, X-Request-Id and
// X-Correlation-Id headers as the app's; a method other than GET or HEAD gets the app's 405.

#include <optional>
#include <string_view>

#include "app/http_types.hpp"

namespace crud::server {

class server_state;

// Whether the server answers `path` itself.
bool is_builtin_path(std::string_view path) noexcept;

// The response for a built-in route, or nullopt when `req` is for the app.
std::optional<app::response> answer_builtin(const app::request& req, server_state& state);

}  // namespace crud::server

#include "server/builtin_routes.hpp"

#include "server/server_state.hpp"

namespace crud::server {
namespace {

constexpr std::string_view allowed_methods = "GET, HEAD";

app::response answer(const app::request& req, server_state& state, int status,
                     std::string_view content_type, std::string body) {
  app::response res;
  res.status = status;
  res.request_id = state.new_request_id();
  res.headers.emplace_back("Content-Type", content_type);
  res.headers.emplace_back("X-Request-Id", res.request_id);
  res.headers.emplace_back("X-Correlation-Id", server_state::correlation_id(req, res.request_id));
  // Probes and scrapes want the live value, never a cached one.
  res.headers.emplace_back("Cache-Control", "no-store");
  res.body = std::move(body);
  return res;
}

}  // namespace

bool is_builtin_path(std::string_view path) noexcept {
  return path == "/health" || path == "/metrics";
}

std::optional<app::response> answer_builtin(const app::request& req, server_state& state) {
  if (!is_builtin_path(req.path))
    return std::nullopt;
  const bool health = req.path == "/health";

  if (req.method != "GET" && req.method != "HEAD") {
    app::response res =
        state.reject(req, core::make_error(core::error_code::method_not_allowed,
                                           "Method " + req.method + " is not allowed here"));
    if (!res.header("Allow"))
      res.headers.emplace_back("Allow", allowed_methods);
    return res;
  }
  if (health) {
    return answer(req, state, 200, "application/json; charset=utf-8", R"({"status":"ok"})");
  }
  return answer(req, state, 200, metrics_content_type, state.stats().render());
}

}  // namespace crud::server

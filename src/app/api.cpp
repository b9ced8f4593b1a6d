#include "app/api.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <exception>
#include <optional>
#include <span>
#include <utility>

#include "app/access_log.hpp"
#include "app/api_docs.hpp"
#include "app/store_errors.hpp"
#include "core/envelope.hpp"
#include "core/hex.hpp"
#include "core/item.hpp"

namespace crud::app {

using core::api_error;
using core::error_code;
using core::make_error;

namespace {

constexpr std::size_t max_body_bytes = std::size_t{64} * 1024;
constexpr std::size_t max_correlation_id_length = 128;
constexpr std::string_view json_content_type = "application/json; charset=utf-8";

bool is_printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7E; });
}

api_error no_route(const request& req) {
  return make_error(error_code::not_found, "No route for " + req.path);
}

api_error rate_limited(int retry_after_s) {
  api_error e = make_error(error_code::rate_limited, "Too many requests; retry later");
  e.retry_after_s = retry_after_s;
  return e;
}

// The last resort when not even the context could be built (out of memory).
response bare_500() {
  return response{500, {{"Content-Type", std::string(json_content_type)}}, "{}"};
}

const transport_hooks no_hooks;

}  // namespace

api::api(api_config config, api_dependencies deps)
    : config_(std::move(config)),
      deps_(deps),
      handlers_(config_, deps.store, deps.clock, deps.random) {}

std::string api::new_request_id() {
  // A version-4 UUID.
  std::array<std::uint8_t, 16> b{};
  deps_.random.fill(std::as_writable_bytes(std::span(b)));
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3F) | 0x80);
  std::string id;
  id.reserve(36);
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      id.push_back('-');
    core::append_hex(id, b[i]);
  }
  return id;
}

// Stage 1.
void api::identify(request_context& ctx) {
  const request& req = ctx.req;
  ctx.start_ns = req.received_ns != 0 ? req.received_ns : deps_.clock.steady_ns();
  ctx.request_id = req.request_id.empty() ? new_request_id() : req.request_id;
  ctx.opts.deadline_ms = req.deadline_ms;
  ctx.opts.trace_header = req.trace_header;
  auto client = req.header("X-Correlation-Id");
  if (client && !client->empty() && client->size() <= max_correlation_id_length &&
      is_printable_ascii(*client)) {
    ctx.correlation_id = std::string(*client);
    ctx.client_correlation = true;
  } else if (!req.upstream_request_id.empty()) {
    ctx.correlation_id = req.upstream_request_id;
  } else {
    ctx.correlation_id = ctx.request_id;
  }
}

response api::handle(const request& req) noexcept {
  return handle(req, no_hooks);
}

response api::handle(const request& req, const transport_hooks& hooks) noexcept {
  std::optional<request_context> ctx;
  try {
    ctx.emplace(req);
  } catch (...) {
    return bare_500();
  }
  return finish(*ctx, respond(*ctx, hooks));
}

// A request through stages 1 to 3 (admit()), its handler still to run (run()) when they
// routed it to one, and stage 5 waiting for the commit (settle()).
class api::pending final : public pending_response {
 public:
  pending(api& owner, const request& req) : owner_(owner), ctx_(req) {}

  void admit(const transport_hooks& hooks) noexcept {
    if (auto answered = owner_.admit(ctx_, hooks, match_))
      res_ = std::move(*answered);
    else
      routed_ = true;
  }

  bool answered() const noexcept override { return !routed_; }

  void run() noexcept override {
    if (!routed_)
      return;
    res_ = owner_.run_handler(ctx_, match_);
    routed_ = false;
  }

  response settle(const boost::system::error_code& commit) noexcept override {
    if (commit) {
      // Nothing the request wrote is there: the client hears what the store's failure means,
      // as if its write had failed on its own.
      try {
        res_ = owner_.fail(ctx_, from_store_error(commit));
      } catch (...) {
        res_ = bare_500();
      }
    }
    return owner_.finish(ctx_, std::move(res_));
  }

 private:
  api& owner_;
  request_context ctx_;
  route_match match_;  // views ctx_.req's path
  bool routed_ = false;
  response res_;
};

std::unique_ptr<pending_response> api::prepare(const request& req,
                                               const transport_hooks& hooks) noexcept {
  std::unique_ptr<pending> p;
  try {
    p = std::make_unique<pending>(*this, req);
  } catch (...) {
    return nullptr;
  }
  p->admit(hooks);
  return p;
}

// Stages 1 to 4: the response, before its standard headers and log line.
response api::respond(request_context& ctx, const transport_hooks& hooks) noexcept {
  route_match match;
  if (auto answered = admit(ctx, hooks, match))
    return std::move(*answered);
  return run_handler(ctx, match);
}

// Stages 1 to 3. Nullopt: they routed the request to an items handler, `match`, for stage 4.
std::optional<response> api::admit(request_context& ctx, const transport_hooks& hooks,
                                   route_match& match) noexcept {
  try {
    identify(ctx);
    auto out = admit_and_route(ctx, hooks, match);
    if (!out)
      return std::nullopt;
    return *out ? std::move(**out) : fail(ctx, out->error());
  } catch (const std::exception& e) {
    ctx.cause = e.what();
  } catch (...) {
    ctx.cause = "unknown exception";
  }
  return internal_failure(ctx);
}

// Stage 4.
response api::run_handler(request_context& ctx, const route_match& match) noexcept {
  try {
    auto out = dispatch(ctx, match);
    return out ? std::move(*out) : fail(ctx, out.error());
  } catch (const std::exception& e) {
    ctx.cause = e.what();
  } catch (...) {
    ctx.cause = "unknown exception";
  }
  return internal_failure(ctx);
}

response api::internal_failure(request_context& ctx) noexcept {
  try {
    return fail(ctx, make_error(error_code::internal, "Internal server error"));
  } catch (...) {
    return bare_500();
  }
}

response api::reject(const request& req, const api_error& error) noexcept {
  try {
    request_context ctx(req);
    identify(ctx);
    return finish(ctx, fail(ctx, error));
  } catch (...) {
    return bare_500();
  }
}

// Stages 2 and 3. Nullopt: routed to `match`.
std::optional<outcome> api::admit_and_route(request_context& ctx, const transport_hooks& hooks,
                                            route_match& match) {
  const request& req = ctx.req;
  const bool cors = !config_.cors_origin.empty();
  match = match_route(req.path, static_cast<bool>(hooks.render_metrics));
  ctx.op = operation_for(match.route, req.method);

  // Stage 2. The client's address is charged first, before any work on its credentials: a
  // flood of forged tokens then costs a bucket lookup each, not an RSA verification. Only an
  // admitted request is authenticated, and a vouched-for owner is charged as well (the
  // contract's "owner's rate"). Preflights (browsers send them without credentials) and the
  // transport's own routes are not authenticated, /metrics excepted when the transport asks.
  if (hooks.rate_limit) {
    if (auto wait = hooks.rate_limit(req, std::nullopt))
      return rate_limited(*wait);
  }
  const bool asks_credentials = hooks.authenticate && req.method != "OPTIONS" &&
                                (!is_local(match.route) || (match.route == route_id::metrics &&
                                                            hooks.metrics_need_credentials));
  if (asks_credentials) {
    auto who = hooks.authenticate(req);
    if (!who) {
      api_error e = make_error(error_code::unauthorized, "Missing or invalid bearer token");
      e.cause = who.error();
      return e;
    }
    ctx.owner = std::move(*who);
    if (hooks.rate_limit) {
      if (auto wait = hooks.rate_limit(req, std::string_view(ctx.owner)))
        return rate_limited(*wait);
    }
  }

  // Stage 3.
  if (match.route == route_id::none)
    return no_route(req);
  if (is_local(match.route))
    return answer_local(ctx, match.route, hooks);
  if (req.method == "OPTIONS" && cors)
    return preflight(ctx, match.route);
  if (!route_has_method(match.route, req.method) || !serves(config_.operations, ctx.op)) {
    api_error e =
        make_error(error_code::method_not_allowed, "Method " + req.method + " is not allowed here");
    response res = fail(ctx, e);
    res.headers.emplace_back("Allow", allow_header(match.route, config_.operations, cors));
    return res;
  }
  if (req.body.size() > max_body_bytes)
    return make_error(error_code::payload_too_large, "Request body exceeds 64 KiB");
  if (match.route != route_id::collection) {
    if (!core::is_item_id(match.item_id))
      return item_not_found();
    ctx.item_id = std::string(match.item_id);
  }
  if (auto refused = handlers_.check_input(ctx))
    return std::move(*refused);
  return std::nullopt;
}

outcome api::dispatch(request_context& ctx, const route_match& match) {
  switch (ctx.op) {
    case operation::create_item:
      return handlers_.create(ctx);
    case operation::list_items:
      return handlers_.list(ctx);
    case operation::get_item:
      return handlers_.get(ctx, match.item_id);
    case operation::update_item:
    case operation::patch_item:
      return handlers_.update(ctx, match.item_id);
    case operation::delete_item:
      return handlers_.remove(ctx, match.item_id);
    case operation::restore_item:
      return handlers_.restore(ctx, match.item_id);
    case operation::preflight:
    case operation::unknown:
      break;
  }
  return no_route(ctx.req);
}

// The transport's own routes: a liveness probe that touches nothing, the metrics scrape, and the
// API's description with its interactive page.
outcome api::answer_local(request_context& ctx, route_id route, const transport_hooks& hooks) {
  const request& req = ctx.req;
  if (!route_has_method(route, req.method)) {
    response res = fail(ctx, make_error(error_code::method_not_allowed,
                                        "Method " + req.method + " is not allowed here"));
    res.headers.emplace_back("Allow", allow_header(route, config_.operations, false));
    return res;
  }
  ctx.success_level = log_level::debug;  // probes and scrapes would drown the request log
  if (route == route_id::docs || route == route_id::openapi) {
    const static_asset* file = find_asset(hooks.docs_files, req.path);
    if (file == nullptr)
      return no_route(req);
    ctx.message = route == route_id::docs ? "Docs" : "OpenAPI document";
    if (route == route_id::docs)
      return asset_response(*file, req.header("If-None-Match"));
    response res;
    res.status = 200;
    res.headers.emplace_back("Cache-Control", "no-cache");
    res.body =
        served_openapi(file->body, {.host = req.header("Host"),
                                    .bearer = static_cast<bool>(hooks.authenticate),
                                    .metrics_need_credentials = hooks.metrics_need_credentials});
    return res;
  }
  response res;
  res.status = 200;
  if (route == route_id::health) {
    ctx.message = "Healthy";
    res.body = R"({"status":"ok"})";
  } else {
    ctx.message = "Metrics";
    res.headers.emplace_back("Content-Type", prometheus_content_type);
    res.body = hooks.render_metrics();
  }
  // Probes and scrapes want the live value, never a cached one.
  res.headers.emplace_back("Cache-Control", "no-store");
  return res;
}

response api::preflight(request_context& ctx, route_id route) {
  ctx.op = operation::preflight;
  ctx.message = "Preflight";
  response res;
  res.status = 204;
  res.headers.emplace_back("Access-Control-Allow-Methods",
                           allow_header(route, config_.operations, true));
  // The X-Amz-* headers are those a browser signing with SigV4 sends (AuthType IAM).
  res.headers.emplace_back("Access-Control-Allow-Headers",
                           "Content-Type, Authorization, If-Match, If-None-Match, "
                           "Idempotency-Key, X-Correlation-Id, X-Amz-Date, X-Amz-Security-Token, "
                           "X-Amz-Content-Sha256");
  res.headers.emplace_back("Access-Control-Max-Age", "600");
  return res;
}

response api::fail(request_context& ctx, const api_error& error) {
  response res;
  res.status = error.http_status();
  res.body = core::error_envelope(error, ctx.request_id);
  if (error.retry_after_s > 0)
    res.headers.emplace_back("Retry-After", std::to_string(error.retry_after_s));
  if (error.code == error_code::unauthorized) {
    // RFC 7235: a 401 names the scheme that would work.
    res.headers.emplace_back("WWW-Authenticate", R"(Bearer realm="crud-api")");
  }
  if (!error.cause.empty())
    ctx.cause = error.cause;
  ctx.message = error.message;
  ctx.error_code = core::code_name(error.code);
  return res;
}

// Stage 5.
response api::finish(request_context& ctx, response res) noexcept {
  try {
    res.op = ctx.op;
    res.item_id = ctx.item_id;
    res.request_id = ctx.request_id;
    field_list headers;
    headers.reserve(res.headers.size() + 5);
    if (!res.header("Content-Type"))
      headers.emplace_back("Content-Type", json_content_type);
    headers.emplace_back("X-Request-Id", ctx.request_id);
    // CONTRACT §2: the client's X-Correlation-Id, else this request's id. The log line may
    // instead carry API Gateway's request id, which ties it to the gateway's access log.
    headers.emplace_back("X-Correlation-Id",
                         ctx.client_correlation ? ctx.correlation_id : ctx.request_id);
    if (!config_.cors_origin.empty()) {
      headers.emplace_back("Access-Control-Allow-Origin", config_.cors_origin);
      headers.emplace_back("Access-Control-Expose-Headers",
                           "ETag, Location, Retry-After, X-Request-Id, X-Correlation-Id, "
                           "Idempotent-Replayed");
    }
    for (auto& h : res.headers)
      headers.push_back(std::move(h));
    res.headers = std::move(headers);

    const log_level level = res.status >= 500        ? log_level::error
                            : ctx.error_code.empty() ? ctx.success_level
                                                     : log_level::info;
    if (level >= config_.level) {
      access_record rec;
      rec.timestamp_ms = deps_.clock.wall_ms();
      rec.level = level;
      rec.service = config_.service_name;
      rec.request_id = ctx.request_id;
      rec.correlation_id = ctx.correlation_id;
      rec.op = ctx.op;
      rec.user_id = ctx.owner;
      rec.duration_ms = static_cast<double>(deps_.clock.steady_ns() - ctx.start_ns) / 1e6;
      rec.status = res.status;
      rec.message = ctx.message;
      rec.error_code = ctx.error_code;
      rec.cause = ctx.cause;
      rec.item_id = ctx.item_id;
      rec.table_name = config_.table_name;
      rec.trace_id = ctx.req.trace_header;
      deps_.log.write(format_access_line(rec));
    }
  } catch (...) {
    // Logging must never turn a good response into a failure.
  }
  return res;
}

}  // namespace crud::app

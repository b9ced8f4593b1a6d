#include "app/api.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <exception>
#include <span>
#include <utility>

#include "app/access_log.hpp"
#include "app/conditional.hpp"
#include "app/idempotency.hpp"
#include "app/media_type.hpp"
#include "core/envelope.hpp"
#include "core/item_input.hpp"
#include "core/json_text.hpp"

namespace crud::app {

using core::api_error;
using core::error_code;
using core::make_error;

namespace {

constexpr std::size_t max_body_bytes = std::size_t{64} * 1024;
constexpr int default_page_size = 20;
constexpr int max_page_size = 100;
// A write that keeps losing the version race is retried this often before giving up with 409.
constexpr int max_write_attempts = 8;
constexpr std::size_t max_correlation_id_length = 128;

constexpr std::string_view items_path = "/items";
constexpr std::string_view json_content_type = "application/json; charset=utf-8";

bool is_printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7E; });
}

api_error validation_error(std::string field, std::string reason) {
  api_error e = make_error(error_code::validation_failed, "Validation failed");
  e.details.push_back({std::move(field), std::move(reason)});
  return e;
}

api_error not_found() {
  return make_error(error_code::not_found, "Item not found");
}

// The methods a path answers, given which operations this deployment serves.
std::string allow_for(std::string_view route, const operation_set& ops, bool cors) {
  std::string allow;
  auto add = [&](std::string_view m) {
    if (!allow.empty())
      allow.append(", ");
    allow.append(m);
  };
  if (route == "collection") {
    if (ops.read) {
      add("GET");
      add("HEAD");
    }
    if (ops.create)
      add("POST");
  } else if (route == "item") {
    if (ops.read) {
      add("GET");
      add("HEAD");
    }
    if (ops.update) {
      add("PUT");
      add("PATCH");
    }
    if (ops.remove)
      add("DELETE");
  } else if (ops.update) {
    add("POST");
  }
  if (cors)
    add("OPTIONS");
  return allow;
}

std::optional<int> parse_limit(std::string_view text) {
  int value = 0;
  if (text.empty() || text.size() > 3)
    return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size())
    return std::nullopt;
  if (value < 1 || value > max_page_size)
    return std::nullopt;
  return value;
}

response item_response(int status, const core::item& it, std::string_view message) {
  response res;
  res.status = status;
  res.body = core::item_envelope(status, it, message);
  res.headers.emplace_back("ETag", core::etag_for(it));
  return res;
}

}  // namespace

struct api::context {
  const request& req;
  std::string request_id;
  std::string correlation_id;  // for the log: the client's, else API Gateway's, else ours
  bool client_correlation = false;
  std::int64_t start_ns = 0;
  operation op = operation::unknown;
  std::string item_id;
  std::string message;
  std::string_view error_code;
  std::string cause;
  store::call_options opts;
};

api::api(api_config config, api_dependencies deps, core::cursor_codec cursors)
    : config_(std::move(config)),
      deps_(deps),
      cursors_(std::move(cursors)),
      ids_(deps.clock, deps.random) {}

std::string api::new_request_id() {
  // A version-4 UUID.
  std::array<std::uint8_t, 16> b{};
  deps_.random.fill(std::as_writable_bytes(std::span(b)));
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3F) | 0x80);
  static constexpr char hex[] = "0123456789abcdef";
  std::string id;
  id.reserve(36);
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      id.push_back('-');
    id.push_back(hex[b[i] >> 4]);
    id.push_back(hex[b[i] & 0xF]);
  }
  return id;
}

void api::identify(context& ctx, std::string request_id) {
  ctx.request_id = std::move(request_id);
  const request& req = ctx.req;
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
  std::optional<context> ctx;
  try {
    ctx.emplace(context{req});
    ctx->start_ns = deps_.clock.steady_ns();
    identify(*ctx, req.request_id.empty() ? new_request_id() : req.request_id);
    ctx->opts.deadline_ms = req.deadline_ms;
    ctx->opts.trace_header = req.trace_header;
    return finish(*ctx, dispatch(*ctx));
  } catch (const std::exception& e) {
    if (!ctx)
      return response{500, {{"Content-Type", std::string(json_content_type)}}, "{}"};
    ctx->cause = e.what();
  } catch (...) {
    if (!ctx)
      return response{500, {{"Content-Type", std::string(json_content_type)}}, "{}"};
    ctx->cause = "unknown exception";
  }
  api_error e = make_error(error_code::internal, "Internal server error");
  response res;
  res.status = e.http_status();
  res.body = core::error_envelope(e, ctx->request_id);
  ctx->message = e.message;
  ctx->error_code = core::code_name(e.code);
  return finish(*ctx, std::move(res));
}

response api::reject(const request& req, const api_error& error) noexcept {
  try {
    context ctx{req};
    ctx.start_ns = deps_.clock.steady_ns();
    identify(ctx, new_request_id());
    return finish(ctx, fail(ctx, error));
  } catch (...) {
    return response{500, {{"Content-Type", std::string(json_content_type)}}, "{}"};
  }
}

response api::fail(context& ctx, const api_error& error) {
  response res;
  res.status = error.http_status();
  res.body = core::error_envelope(error, ctx.request_id);
  if (error.retry_after_s > 0) {
    res.headers.emplace_back("Retry-After", std::to_string(error.retry_after_s));
  }
  if (error.code == core::error_code::unauthorized) {
    // RFC 7235: a 401 names the scheme that would work.
    res.headers.emplace_back("WWW-Authenticate", R"(Bearer realm="crud-api")");
  }
  if (!error.cause.empty())
    ctx.cause = error.cause;
  ctx.message = error.message;
  ctx.error_code = core::code_name(error.code);
  return res;
}

response api::fail_store(context& ctx, const boost::system::error_code& ec) {
  if (ec == store::errc::not_found)
    return fail(ctx, not_found());
  if (ec == store::errc::unavailable) {
    api_error e =
        make_error(error_code::unavailable, "The service is temporarily unavailable; retry later");
    e.retry_after_s = 1;
    ctx.cause = ec.message();
    return fail(ctx, e);
  }
  ctx.cause = ec.message();
  return fail(ctx, make_error(error_code::internal, "Internal server error"));
}

response api::method_not_allowed(context& ctx, std::string allow) {
  response res = fail(ctx, make_error(error_code::method_not_allowed,
                                      "Method " + ctx.req.method + " is not allowed here"));
  res.headers.emplace_back("Allow", std::move(allow));
  return res;
}

response api::finish(context& ctx, response res) noexcept {
  try {
    res.op = ctx.op;
    res.item_id = ctx.item_id;
    res.request_id = ctx.request_id;
    field_list headers;
    headers.reserve(res.headers.size() + 5);
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

    log_level level = res.status >= 500 ? log_level::error : log_level::info;
    if (level >= config_.level) {
      access_record rec;
      rec.timestamp_ms = deps_.clock.wall_ms();
      rec.level = level;
      rec.service = config_.service_name;
      rec.request_id = ctx.request_id;
      rec.correlation_id = ctx.correlation_id;
      rec.op = ctx.op;
      rec.user_id = ctx.req.owner;
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

response api::dispatch(context& ctx) {
  const request& req = ctx.req;
  const auto& ops = config_.operations;
  const bool cors = !config_.cors_origin.empty();
  const std::string& m = req.method;
  const bool read = m == "GET" || m == "HEAD";

  if (req.path == items_path) {
    if (read)
      ctx.op = operation::list_items;
    if (m == "POST")
      ctx.op = operation::create_item;
    if (m == "OPTIONS" && cors)
      return preflight(ctx, allow_for("collection", ops, cors));
    if ((read && !ops.read) || (m == "POST" && !ops.create) || (!read && m != "POST")) {
      return method_not_allowed(ctx, allow_for("collection", ops, cors));
    }
    if (req.body.size() > max_body_bytes) {
      return fail(ctx, make_error(error_code::payload_too_large, "Request body exceeds 64 KiB"));
    }
    return read ? list_items(ctx) : create_item(ctx);
  }

  std::string_view rest = req.path;
  if (!rest.starts_with("/items/")) {
    return fail(ctx, make_error(error_code::not_found, "No route for " + req.path));
  }
  rest.remove_prefix(items_path.size() + 1);
  auto slash = rest.find('/');
  std::string_view id = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    if (rest.substr(slash + 1) != "restore" || id.empty()) {
      return fail(ctx, make_error(error_code::not_found, "No route for " + req.path));
    }
    if (m == "POST")
      ctx.op = operation::restore_item;
    if (m == "OPTIONS" && cors)
      return preflight(ctx, allow_for("restore", ops, cors));
    if (m != "POST" || !ops.update)
      return method_not_allowed(ctx, allow_for("restore", ops, cors));
    if (!core::is_item_id(id))
      return fail(ctx, not_found());
    ctx.item_id = std::string(id);
    return restore_item(ctx, id);
  }
  if (id.empty()) {
    return fail(ctx, make_error(error_code::not_found, "No route for " + req.path));
  }

  bool allowed = false;
  if (read) {
    ctx.op = operation::get_item;
    allowed = ops.read;
  } else if (m == "PUT") {
    ctx.op = operation::update_item;
    allowed = ops.update;
  } else if (m == "PATCH") {
    ctx.op = operation::patch_item;
    allowed = ops.update;
  } else if (m == "DELETE") {
    ctx.op = operation::delete_item;
    allowed = ops.remove;
  } else if (m == "OPTIONS" && cors) {
    return preflight(ctx, allow_for("item", ops, cors));
  }
  if (!allowed)
    return method_not_allowed(ctx, allow_for("item", ops, cors));
  if (req.body.size() > max_body_bytes) {
    return fail(ctx, make_error(error_code::payload_too_large, "Request body exceeds 64 KiB"));
  }
  if (!core::is_item_id(id))
    return fail(ctx, not_found());
  ctx.item_id = std::string(id);
  if (read)
    return get_item(ctx, id);
  if (m == "PUT")
    return update_item(ctx, id, false);
  if (m == "PATCH")
    return update_item(ctx, id, true);
  return delete_item(ctx, id);
}

response api::preflight(context& ctx, std::string allow) {
  ctx.op = operation::preflight;
  ctx.message = "Preflight";
  response res;
  res.status = 204;
  res.headers.emplace_back("Access-Control-Allow-Methods", std::move(allow));
  // The X-Amz-* headers are those a browser signing with SigV4 sends (AuthType IAM).
  res.headers.emplace_back("Access-Control-Allow-Headers",
                           "Content-Type, Authorization, If-Match, If-None-Match, "
                           "Idempotency-Key, X-Correlation-Id, X-Amz-Date, X-Amz-Security-Token, "
                           "X-Amz-Content-Sha256");
  res.headers.emplace_back("Access-Control-Max-Age", "600");
  return res;
}

response api::create_item(context& ctx) {
  const request& req = ctx.req;
  if (!is_json_media_type(req.header("Content-Type"))) {
    return fail(ctx, make_error(error_code::unsupported_media_type,
                                "Content-Type must be application/json"));
  }
  auto fields = core::parse_create_body(req.body);
  if (!fields)
    return fail(ctx, fields.error());

  auto key = req.header("Idempotency-Key");
  if (key && !is_valid_idempotency_key(*key)) {
    return fail(ctx,
                validation_error("Idempotency-Key", "must be 1-255 printable ASCII characters"));
  }

  const std::int64_t now = deps_.clock.wall_ms();
  core::item it;
  it.id = ids_.next_item_id();
  it.name = std::move(fields->name);
  it.description = std::move(fields->description);
  it.created_at = now;
  it.updated_at = now;
  it.version = 1;

  if (key) {
    store::idempotency_record claim;
    claim.status = store::idempotency_record::state::in_progress;
    claim.payload_hash = payload_hash(core::item_fields{it.name, it.description, std::nullopt});
    claim.expires_at = now + config_.idempotency_ttl_ms;
    std::int64_t in_progress_ms = config_.idempotency_in_progress_ms;
    if (req.deadline_ms > now)
      in_progress_ms = req.deadline_ms - now;
    claim.in_progress_until = now + in_progress_ms;
    auto outcome = deps_.store.claim_idempotency(ctx.opts, req.owner, *key, claim, now);
    if (!outcome)
      return fail_store(ctx, outcome.error());
    if (!outcome->claimed) {
      const auto& existing = outcome->existing;
      if (!existing || existing->payload_hash != claim.payload_hash) {
        return fail(ctx, make_error(error_code::idempotency_key_reused,
                                    "Idempotency-Key was already used with a different request"));
      }
      if (existing->status == store::idempotency_record::state::in_progress) {
        api_error e = make_error(error_code::idempotency_in_progress,
                                 "A request with this Idempotency-Key is still in progress");
        e.retry_after_s = 1;
        return fail(ctx, e);
      }
      auto replay = decode_stored_response(existing->response);
      if (!replay) {
        ctx.cause = "stored idempotent response is unreadable";
        return fail(ctx, make_error(error_code::internal, "Internal server error"));
      }
      ctx.item_id = replay->item_id;
      ctx.message = "Idempotent replay";
      replay->headers.emplace_back("Idempotent-Replayed", "true");
      return std::move(*replay);
    }
  }

  auto created = deps_.store.create_item(ctx.opts, req.owner, it);
  if (!created) {
    if (key)
      (void)deps_.store.release_idempotency(ctx.opts, req.owner, *key);
    return fail_store(ctx, created.error());
  }
  ctx.item_id = it.id;
  ctx.message = "Item created successfully";
  response res = item_response(201, it, ctx.message);
  res.headers.emplace(res.headers.begin(), "Location", req.base_path + "/items/" + it.id);
  res.item_id = it.id;
  if (key) {
    auto done = deps_.store.complete_idempotency(
        ctx.opts, req.owner, *key, encode_stored_response(res), now + config_.idempotency_ttl_ms);
    if (!done) {
      // The item exists; the client gets its 201. A retry meanwhile sees the claim in
      // progress until it goes stale.
      ctx.cause = "idempotency record not completed: " + done.error().message();
    }
  }
  return res;
}

response api::get_item(context& ctx, std::string_view id) {
  auto found = deps_.store.get_item(ctx.opts, ctx.req.owner, id);
  if (!found)
    return fail_store(ctx, found.error());
  if (found->deleted())
    return fail(ctx, not_found());
  std::string etag = core::etag_for(*found);
  if (auto inm = ctx.req.header("If-None-Match"); inm && if_none_match_matches(*inm, etag)) {
    response res;
    res.status = 304;
    res.headers.emplace_back("ETag", std::move(etag));
    ctx.message = "Not modified";
    return res;
  }
  ctx.message = "Item retrieved";
  response res;
  res.status = 200;
  res.body = core::item_envelope(200, *found, {});
  res.headers.emplace_back("ETag", std::move(etag));
  return res;
}

response api::list_items(context& ctx) {
  const request& req = ctx.req;
  int limit = default_page_size;
  if (auto text = req.query_param("limit")) {
    auto parsed = parse_limit(*text);
    if (!parsed)
      return fail(ctx, validation_error("limit", "must be an integer from 1 to 100"));
    limit = *parsed;
  }
  std::string after;
  if (auto token = req.query_param("lastKey"); token && !token->empty()) {
    auto decoded = cursors_.decode(req.owner, *token);
    if (!decoded)
      return fail(ctx, validation_error("lastKey", "is not a valid cursor"));
    after = std::move(*decoded);
  }
  auto page = deps_.store.list_items(ctx.opts, req.owner, after, static_cast<std::size_t>(limit));
  if (!page)
    return fail_store(ctx, page.error());
  std::optional<std::string> last_key;
  if (page->last_id)
    last_key = cursors_.encode(req.owner, *page->last_id);
  ctx.message = "Items listed";
  response res;
  res.status = 200;
  res.body = core::list_envelope(page->items, limit, last_key);
  return res;
}

response api::update_item(context& ctx, std::string_view id, bool patch) {
  const request& req = ctx.req;
  if (!is_json_media_type(req.header("Content-Type"))) {
    return fail(ctx, make_error(error_code::unsupported_media_type,
                                "Content-Type must be application/json"));
  }
  core::item_patch changes;
  if (patch) {
    auto parsed = core::parse_patch_body(req.body);
    if (!parsed)
      return fail(ctx, parsed.error());
    changes = std::move(*parsed);
  } else {
    auto parsed = core::parse_replace_body(req.body);
    if (!parsed)
      return fail(ctx, parsed.error());
    changes.name = std::move(parsed->name);
    changes.description = std::move(parsed->description);
    changes.version = parsed->version;
  }
  auto if_match = req.header("If-Match");

  for (int attempt = 0; attempt < max_write_attempts; ++attempt) {
    auto current = deps_.store.get_item(ctx.opts, req.owner, id);
    if (!current)
      return fail_store(ctx, current.error());
    if (current->deleted())
      return fail(ctx, not_found());
    if (if_match && !if_match_satisfied(*if_match, core::etag_for(*current))) {
      return fail(ctx, make_error(error_code::precondition_failed,
                                  "If-Match does not match the current ETag"));
    }
    if (changes.version && *changes.version != current->version) {
      return fail(ctx,
                  make_error(error_code::conflict, "Version " + std::to_string(*changes.version) +
                                                       " does not match the current version " +
                                                       std::to_string(current->version)));
    }
    core::item next = *current;
    if (changes.name)
      next.name = *changes.name;
    if (changes.description)
      next.description = *changes.description;
    ctx.message = "Item updated successfully";
    if (next.name == current->name && next.description == current->description) {
      return item_response(200, *current, ctx.message);  // nothing changed: no new version
    }
    next.version = current->version + 1;
    next.updated_at = std::max(deps_.clock.wall_ms(), current->updated_at);
    auto written = deps_.store.replace_item(ctx.opts, req.owner, next, current->version);
    if (written)
      return item_response(200, next, ctx.message);
    if (written.error() != store::errc::condition_failed)
      return fail_store(ctx, written.error());
    // Lost a race with another writer: look again, and let the preconditions decide.
  }
  return fail(ctx,
              make_error(error_code::conflict, "The item is being modified concurrently; retry"));
}

response api::delete_item(context& ctx, std::string_view id) {
  const request& req = ctx.req;
  delete_mode mode = config_.default_delete_mode;
  if (auto text = req.query_param("mode")) {
    if (*text == "soft") {
      mode = delete_mode::soft;
    } else if (*text == "hard") {
      mode = delete_mode::hard;
    } else {
      return fail(ctx, validation_error("mode", "must be soft or hard"));
    }
  }
  auto if_match = req.header("If-Match");
  for (int attempt = 0; attempt < max_write_attempts; ++attempt) {
    auto current = deps_.store.get_item(ctx.opts, req.owner, id);
    if (!current)
      return fail_store(ctx, current.error());
    if (current->deleted())
      return fail(ctx, not_found());
    if (if_match && !if_match_satisfied(*if_match, core::etag_for(*current))) {
      return fail(ctx, make_error(error_code::precondition_failed,
                                  "If-Match does not match the current ETag"));
    }
    store::result<void> written;
    if (mode == delete_mode::hard) {
      written = deps_.store.delete_item(ctx.opts, req.owner, id, current->version);
    } else {
      core::item next = *current;
      const std::int64_t now = std::max(deps_.clock.wall_ms(), current->updated_at);
      next.deleted_at = now;
      next.updated_at = now;
      next.version = current->version + 1;
      written = deps_.store.replace_item(ctx.opts, req.owner, next, current->version);
    }
    if (written) {
      ctx.message = "Item deleted successfully";
      std::string data = R"({"id":)";
      core::append_json_string(data, id);
      data.append(mode == delete_mode::hard ? R"(,"deleted":"hard"})" : R"(,"deleted":"soft"})");
      response res;
      res.status = 200;
      res.body = core::success_envelope(200, data, ctx.message);
      return res;
    }
    if (written.error() != store::errc::condition_failed)
      return fail_store(ctx, written.error());
  }
  return fail(ctx,
              make_error(error_code::conflict, "The item is being modified concurrently; retry"));
}

response api::restore_item(context& ctx, std::string_view id) {
  const request& req = ctx.req;
  auto if_match = req.header("If-Match");
  for (int attempt = 0; attempt < max_write_attempts; ++attempt) {
    auto current = deps_.store.get_item(ctx.opts, req.owner, id);
    if (!current) {
      if (current.error() == store::errc::not_found) {
        return fail(ctx, make_error(error_code::not_found, "No soft-deleted item with this id"));
      }
      return fail_store(ctx, current.error());
    }
    const std::int64_t now = deps_.clock.wall_ms();
    if (!current->deleted() || *current->deleted_at + core::soft_delete_retention_ms <= now) {
      return fail(ctx, make_error(error_code::not_found, "No soft-deleted item with this id"));
    }
    if (if_match && !if_match_satisfied(*if_match, core::etag_for(*current))) {
      return fail(ctx, make_error(error_code::precondition_failed,
                                  "If-Match does not match the current ETag"));
    }
    core::item next = *current;
    next.deleted_at.reset();
    next.version = current->version + 1;
    next.updated_at = std::max(now, current->updated_at);
    auto written = deps_.store.replace_item(ctx.opts, req.owner, next, current->version);
    if (written) {
      ctx.message = "Item restored successfully";
      return item_response(200, next, ctx.message);
    }
    if (written.error() != store::errc::condition_failed)
      return fail_store(ctx, written.error());
  }
  return fail(ctx,
              make_error(error_code::conflict, "The item is being modified concurrently; retry"));
}

}  // namespace crud::app

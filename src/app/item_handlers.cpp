#include "app/item_handlers.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <utility>

#include "app/conditional.hpp"
#include "app/idempotency.hpp"
#include "app/media_type.hpp"
#include "app/store_errors.hpp"
#include "core/envelope.hpp"
#include "core/item_input.hpp"
#include "core/json_text.hpp"

namespace crud::app {

using core::api_error;
using core::error_code;
using core::make_error;

namespace {

constexpr int default_page_size = 20;
constexpr int max_page_size = 100;
// A write that keeps losing the version race is retried this often before giving up with 409.
constexpr int max_write_attempts = 8;

api_error validation_error(std::string field, std::string reason) {
  api_error e = make_error(error_code::validation_failed, "Validation failed");
  e.details.push_back({std::move(field), std::move(reason)});
  return e;
}

api_error unsupported_media_type() {
  return make_error(error_code::unsupported_media_type, "Content-Type must be application/json");
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

// Which state of the item a conditional write starts from.
enum class starting_from { live, soft_deleted };

// What a conditional write does with the item as it stands.
struct write_step {
  enum class kind { keep, replace, remove };
  kind action = kind::replace;
  core::item next;  // for replace
};
using step_result = boost::system::result<write_step, api_error>;

// Every change to an existing item (update, patch, delete, restore) goes through here: read
// the item, check that it is in the state the operation starts from and that If-Match holds,
// let `plan` check the rest and say what to write, then write on the condition that the version
// is still the one read. A lost race reads again, so the checks decide on the new state. The
// result is the item as it ends up (for a hard delete, as it was).
template <class Plan>
boost::system::result<core::item, api_error> conditional_write(store::item_store& store,
                                                               const core::clock& clock,
                                                               request_context& ctx,
                                                               std::string_view id,
                                                               starting_from from, Plan plan) {
  const auto missing = [from] {
    return from == starting_from::live
               ? item_not_found()
               : make_error(error_code::not_found, "No soft-deleted item with this id");
  };
  const auto if_match = ctx.req.header("If-Match");
  for (int attempt = 0; attempt < max_write_attempts; ++attempt) {
    auto current = store.get_item(ctx.opts, ctx.owner, id);
    if (!current) {
      if (current.error() == store::errc::not_found)
        return missing();
      return from_store_error(current.error());
    }
    const std::int64_t now = clock.wall_ms();
    const bool in_state =
        from == starting_from::live
            ? !current->deleted()
            : current->deleted() && *current->deleted_at + core::soft_delete_retention_ms > now;
    if (!in_state)
      return missing();
    if (if_match && !if_match_satisfied(*if_match, core::etag_for(*current))) {
      return make_error(error_code::precondition_failed,
                        "If-Match does not match the current ETag");
    }
    step_result step = plan(*current, now);
    if (!step)
      return step.error();
    store::result<void> written;
    switch (step->action) {
      case write_step::kind::keep:
        return std::move(*current);
      case write_step::kind::remove:
        written = store.delete_item(ctx.opts, ctx.owner, id, current->version);
        break;
      case write_step::kind::replace:
        step->next.version = current->version + 1;
        step->next.updated_at = std::max(now, current->updated_at);
        written = store.replace_item(ctx.opts, ctx.owner, step->next, current->version);
        break;
    }
    if (written)
      return step->action == write_step::kind::remove ? std::move(*current) : std::move(step->next);
    if (written.error() != store::errc::condition_failed)
      return from_store_error(written.error());
  }
  return make_error(error_code::conflict, "The item is being modified concurrently; retry");
}

}  // namespace

item_handlers::item_handlers(const api_config& config, store::item_store& store,
                             const core::clock& clock, core::random_source& random)
    : config_(config),
      store_(store),
      clock_(clock),
      ids_(clock, random),
      idempotency_(store, random, config.idempotency_in_progress_ms, config.idempotency_ttl_ms) {}

std::optional<api_error> item_handlers::check_input(request_context& ctx) {
  const request& req = ctx.req;
  switch (ctx.op) {
    case operation::delete_item:
      ctx.removal = config_.default_delete_mode;
      if (auto text = req.query_param("mode")) {
        if (*text == "soft")
          ctx.removal = delete_mode::soft;
        else if (*text == "hard")
          ctx.removal = delete_mode::hard;
        else
          return validation_error("mode", "must be soft or hard");
      }
      return std::nullopt;
    case operation::create_item:
    case operation::update_item:
    case operation::patch_item:
      break;  // a body to check
    default:
      return std::nullopt;
  }
  if (!is_json_media_type(req.header("Content-Type")))
    return unsupported_media_type();
  if (ctx.op == operation::create_item) {
    auto fields = core::parse_create_body(req.body);
    if (!fields)
      return fields.error();
    ctx.new_item = std::move(*fields);
    auto key = req.header("Idempotency-Key");
    if (key && !is_valid_idempotency_key(*key))
      return validation_error("Idempotency-Key", "must be 1-255 printable ASCII characters");
  } else if (ctx.op == operation::patch_item) {
    auto parsed = core::parse_patch_body(req.body);
    if (!parsed)
      return parsed.error();
    ctx.changes = std::move(*parsed);
  } else {
    auto parsed = core::parse_replace_body(req.body);
    if (!parsed)
      return parsed.error();
    ctx.changes.name = std::move(parsed->name);
    ctx.changes.description = std::move(parsed->description);
    ctx.changes.version = parsed->version;
  }
  return std::nullopt;
}

outcome item_handlers::create(request_context& ctx) {
  const request& req = ctx.req;
  auto key = req.header("Idempotency-Key");
  const std::int64_t now = clock_.wall_ms();
  core::item it;
  it.id = ids_.next_item_id();
  it.name = std::move(ctx.new_item.name);
  it.description = std::move(ctx.new_item.description);
  it.created_at = now;
  it.updated_at = now;
  it.version = 1;

  std::string claim_token;
  if (key) {
    auto claimed = idempotency_.claim(
        ctx, *key, payload_hash(core::item_fields{it.name, it.description, std::nullopt}), now);
    if (!claimed)
      return claimed.error();
    if (claimed->replay)
      return std::move(*claimed->replay);  // the first request's response, replayed
    claim_token = std::move(claimed->token);
  }

  auto created = store_.create_item(ctx.opts, ctx.owner, it);
  if (!created) {
    if (key)
      idempotency_.release(ctx, *key, claim_token);
    return from_store_error(created.error());
  }
  ctx.item_id = it.id;
  ctx.message = "Item created successfully";
  response res = item_response(201, it, ctx.message);
  res.headers.emplace(res.headers.begin(), "Location", req.base_path + "/items/" + it.id);
  res.item_id = it.id;
  if (key)
    idempotency_.complete(ctx, *key, claim_token, res, now);
  return res;
}

outcome item_handlers::get(request_context& ctx, std::string_view id) {
  auto found = store_.get_item(ctx.opts, ctx.owner, id);
  if (!found)
    return from_store_error(found.error());
  if (found->deleted())
    return item_not_found();
  std::string etag = core::etag_for(*found);
  response res;
  if (auto inm = ctx.req.header("If-None-Match"); inm && if_none_match_matches(*inm, etag)) {
    res.status = 304;
    ctx.message = "Not modified";
  } else {
    res.status = 200;
    res.body = core::item_envelope(200, *found, {});
    ctx.message = "Item retrieved";
  }
  res.headers.emplace_back("ETag", std::move(etag));
  return res;
}

store::result<const core::cursor_codec*> item_handlers::own_cursors() {
  if (cursors_ready_.load(std::memory_order_acquire))
    return &*cursors_;
  std::lock_guard lock(cursors_mutex_);
  if (!cursors_) {
    auto secret = store_.cursor_secret();
    if (!secret)
      return secret.error();
    cursors_.emplace(store_.cursor_key_id(), std::move(*secret));
    cursors_ready_.store(true, std::memory_order_release);
  }
  return &*cursors_;
}

outcome item_handlers::list(request_context& ctx) {
  const request& req = ctx.req;
  int limit = default_page_size;
  if (auto text = req.query_param("limit")) {
    auto parsed = parse_limit(*text);
    if (!parsed)
      return validation_error("limit", "must be an integer from 1 to 100");
    limit = *parsed;
  }
  auto cursors = own_cursors();
  if (!cursors)
    return from_store_error(cursors.error());
  std::string after;
  // An empty cursor is refused rather than read as "from the start": a script that failed to
  // extract the previous page's lastKey would otherwise loop over page one forever.
  if (auto token = req.query_param("lastKey")) {
    auto parsed = core::cursor_codec::parse(*token);
    if (!parsed)
      return validation_error("lastKey", "is not a valid cursor");
    // A cursor signed in another region names that region's key, which the store finds in the
    // replicated table (docs/decisions/0021-cursor-keys-per-region.md).
    if (parsed->key_id == (*cursors)->key_id()) {
      if (!(*cursors)->decode(ctx.owner, *token))
        return validation_error("lastKey", "is not a valid cursor");
    } else {
      auto key = store_.cursor_key(ctx.opts, parsed->key_id);
      if (!key)
        return from_store_error(key.error());
      if (!*key || !core::cursor_codec::verify(ctx.owner, *parsed, **key))
        return validation_error("lastKey", "is not a valid cursor");
    }
    after = std::move(parsed->last_id);
  }
  auto page = store_.list_items(ctx.opts, ctx.owner, after, static_cast<std::size_t>(limit));
  if (!page)
    return from_store_error(page.error());
  std::optional<std::string> last_key;
  if (page->last_id)
    last_key = (*cursors)->encode(ctx.owner, *page->last_id);
  ctx.message = "Items listed";
  response res;
  res.status = 200;
  res.body = core::list_envelope(page->items, limit, last_key);
  return res;
}

outcome item_handlers::update(request_context& ctx, std::string_view id) {
  const core::item_patch& changes = ctx.changes;
  auto written = conditional_write(
      store_, clock_, ctx, id, starting_from::live,
      [&](const core::item& current, std::int64_t) -> step_result {
        if (changes.version && *changes.version != current.version) {
          return make_error(error_code::conflict, "Version " + std::to_string(*changes.version) +
                                                      " does not match the current version " +
                                                      std::to_string(current.version));
        }
        write_step step;
        step.next = current;
        if (changes.name)
          step.next.name = *changes.name;
        if (changes.description)
          step.next.description = *changes.description;
        if (step.next.name == current.name && step.next.description == current.description)
          step.action = write_step::kind::keep;  // nothing changed: no new version
        return step;
      });
  if (!written)
    return written.error();
  ctx.message = "Item updated successfully";
  return item_response(200, *written, ctx.message);
}

outcome item_handlers::remove(request_context& ctx, std::string_view id) {
  const delete_mode mode = ctx.removal;
  auto written =
      conditional_write(store_, clock_, ctx, id, starting_from::live,
                        [mode](const core::item& current, std::int64_t now) -> step_result {
                          write_step step;
                          if (mode == delete_mode::hard) {
                            step.action = write_step::kind::remove;
                          } else {
                            step.next = current;
                            step.next.deleted_at = std::max(now, current.updated_at);
                          }
                          return step;
                        });
  if (!written)
    return written.error();
  ctx.message = "Item deleted successfully";
  std::string data = R"({"id":)";
  core::append_json_string(data, id);
  data.append(mode == delete_mode::hard ? R"(,"deleted":"hard"})" : R"(,"deleted":"soft"})");
  response res;
  res.status = 200;
  res.body = core::success_envelope(200, data, ctx.message);
  return res;
}

outcome item_handlers::restore(request_context& ctx, std::string_view id) {
  // Restore reads no body, so a bare POST without Content-Type is fine. Anything that does
  // carry a body or names a type is held to the rule of the other writes, so a form post
  // (application/x-www-form-urlencoded, text/plain) cannot restore.
  const request& req = ctx.req;
  const auto content_type = req.header("Content-Type");
  if ((!req.body.empty() || content_type) && !is_json_media_type(content_type))
    return unsupported_media_type();
  auto written = conditional_write(store_, clock_, ctx, id, starting_from::soft_deleted,
                                   [](const core::item& current, std::int64_t) -> step_result {
                                     write_step step;
                                     step.next = current;
                                     step.next.deleted_at.reset();
                                     return step;
                                   });
  if (!written)
    return written.error();
  ctx.message = "Item restored successfully";
  return item_response(200, *written, ctx.message);
}

}  // namespace crud::app

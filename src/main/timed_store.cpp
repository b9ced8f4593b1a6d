#include "main/timed_store.hpp"

#include <cstdio>
#include <utility>

#include "core/json_text.hpp"
#include "core/timestamp.hpp"

namespace crud::main {

timed_store::timed_store(std::unique_ptr<store::item_store> inner, const core::clock& clock,
                         app::log_sink& log, std::string service_name)
    : inner_(std::move(inner)), clock_(clock), log_(log), service_name_(std::move(service_name)) {}

template <class F>
auto timed_store::timed(std::string_view operation, F&& call) {
  const auto start = clock_.steady_ns();
  auto r = std::forward<F>(call)();
  const auto elapsed = clock_.steady_ns() - start;
  if (r) {
    log_call(operation, elapsed, nullptr);
  } else {
    const std::string error = r.error().message();
    log_call(operation, elapsed, &error);
  }
  return r;
}

void timed_store::log_call(std::string_view operation, std::int64_t elapsed_ns,
                           const std::string* error) {
  std::string line = R"({"timestamp":")";
  core::append_timestamp(line, clock_.wall_ms());
  line.append(R"(","level":"DEBUG","service":)");
  core::append_json_string(line, service_name_);
  line.append(R"(,"message":"store call","operation":)");
  core::append_json_string(line, operation);
  // Microsecond resolution is plenty for a store call and keeps the line short.
  char ms[32];
  std::snprintf(ms, sizeof ms, "%.3f", static_cast<double>(elapsed_ns) / 1e6);
  line.append(R"(,"durationMs":)");
  line.append(ms);
  if (error != nullptr) {
    line.append(R"(,"error":)");
    core::append_json_string(line, *error);
  }
  line.push_back('}');
  log_.write(line);
}

store::result<void> timed_store::create_item(const store::call_options& opts,
                                             std::string_view owner, const core::item& item) {
  return timed("create_item", [&] { return inner_->create_item(opts, owner, item); });
}

store::result<core::item> timed_store::get_item(const store::call_options& opts,
                                                std::string_view owner, std::string_view id) {
  return timed("get_item", [&] { return inner_->get_item(opts, owner, id); });
}

store::result<store::item_page> timed_store::list_items(const store::call_options& opts,
                                                        std::string_view owner,
                                                        std::string_view after_id,
                                                        std::size_t limit) {
  return timed("list_items", [&] { return inner_->list_items(opts, owner, after_id, limit); });
}

store::result<void> timed_store::replace_item(const store::call_options& opts,
                                              std::string_view owner, const core::item& item,
                                              std::int64_t expected_version) {
  return timed("replace_item",
               [&] { return inner_->replace_item(opts, owner, item, expected_version); });
}

store::result<void> timed_store::delete_item(const store::call_options& opts,
                                             std::string_view owner, std::string_view id,
                                             std::int64_t expected_version) {
  return timed("delete_item",
               [&] { return inner_->delete_item(opts, owner, id, expected_version); });
}

store::result<store::claim_outcome> timed_store::claim_idempotency(
    const store::call_options& opts, std::string_view owner, std::string_view key,
    const store::idempotency_record& record, std::int64_t now_ms) {
  return timed("claim_idempotency",
               [&] { return inner_->claim_idempotency(opts, owner, key, record, now_ms); });
}

store::result<void> timed_store::complete_idempotency(const store::call_options& opts,
                                                      std::string_view owner, std::string_view key,
                                                      std::string_view claim_token,
                                                      std::string_view response,
                                                      std::int64_t expires_at) {
  return timed("complete_idempotency", [&] {
    return inner_->complete_idempotency(opts, owner, key, claim_token, response, expires_at);
  });
}

store::result<void> timed_store::release_idempotency(const store::call_options& opts,
                                                     std::string_view owner, std::string_view key,
                                                     std::string_view claim_token) {
  return timed("release_idempotency",
               [&] { return inner_->release_idempotency(opts, owner, key, claim_token); });
}

store::result<void> timed_store::purge_expired(std::int64_t now_ms) {
  return timed("purge_expired", [&] { return inner_->purge_expired(now_ms); });
}

store::result<std::string> timed_store::cursor_secret() {
  return timed("cursor_secret", [&] { return inner_->cursor_secret(); });
}

std::string timed_store::cursor_key_id() {
  return inner_->cursor_key_id();
}

store::result<std::optional<std::string>> timed_store::cursor_key(const store::call_options& opts,
                                                                  std::string_view key_id) {
  return timed("cursor_key", [&] { return inner_->cursor_key(opts, key_id); });
}

}  // namespace crud::main

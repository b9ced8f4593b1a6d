#pragma once
// The handlers of the items routes: one per operation, each given a request the pipeline has
// already identified, admitted and routed (the method is served, the body within its limit,
// the id well formed). They parse and validate, evaluate the conditional headers, call the
// store and build the success response; a failure is returned as an `api_error`, which the
// pipeline turns into the envelope. Adding a store operation to a route happens here.

#include <atomic>
#include <mutex>
#include <optional>
#include <string_view>

#include "app/api_config.hpp"
#include "app/idempotency_protocol.hpp"
#include "app/request_context.hpp"
#include "core/clock.hpp"
#include "core/cursor.hpp"
#include "core/random_source.hpp"
#include "core/ulid.hpp"
#include "store/item_store.hpp"

namespace crud::app {

class item_handlers {
 public:
  item_handlers(const api_config& config, store::item_store& store, const core::clock& clock,
                core::random_source& random);

  // What a write's handler can check without the store: the media type, the body (parsed into
  // ctx.new_item or ctx.changes), the Idempotency-Key and DELETE's mode (into ctx.removal). The
  // pipeline calls it as the last step of routing, before the handler, so a malformed write is
  // refused before it waits for a commit.
  std::optional<core::api_error> check_input(request_context& ctx);

  // The handlers, each after check_input().
  outcome create(request_context& ctx);
  outcome get(request_context& ctx, std::string_view id);
  outcome list(request_context& ctx);
  outcome update(request_context& ctx, std::string_view id);  // PUT and PATCH
  outcome remove(request_context& ctx, std::string_view id);
  outcome restore(request_context& ctx, std::string_view id);

 private:
  // The codec of this process's own cursor key, made from the store's on first use: a one-shot
  // `invoke` that never lists never reads the key (a DynamoDB round trip).
  store::result<const core::cursor_codec*> own_cursors();

  const api_config& config_;
  store::item_store& store_;
  const core::clock& clock_;
  std::mutex cursors_mutex_;
  std::atomic<bool> cursors_ready_{false};
  std::optional<core::cursor_codec> cursors_;  // set once, under the mutex, then only read
  core::ulid_generator ids_;
  idempotency_protocol idempotency_;
};

}  // namespace crud::app

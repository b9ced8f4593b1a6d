#include "app/idempotency_protocol.hpp"

#include <utility>

#include "app/idempotency.hpp"
#include "app/store_errors.hpp"

namespace crud::app {

using core::error_code;
using core::make_error;

boost::system::result<std::optional<response>, core::api_error> idempotency_protocol::claim(
    request_context& ctx, std::string_view key, std::string payload_hash, std::int64_t now) {
  store::idempotency_record claim;
  claim.status = store::idempotency_record::state::in_progress;
  claim.payload_hash = std::move(payload_hash);
  claim.expires_at = now + ttl_ms_;
  // A claim outlives its request by no more than the request's own deadline, when it has one.
  std::int64_t in_progress_ms = in_progress_ms_;
  if (ctx.req.deadline_ms > now)
    in_progress_ms = ctx.req.deadline_ms - now;
  claim.in_progress_until = now + in_progress_ms;

  auto outcome = store_.claim_idempotency(ctx.opts, ctx.owner, key, claim, now);
  if (!outcome)
    return from_store_error(outcome.error());
  if (outcome->claimed)
    return std::optional<response>{};
  const auto& existing = outcome->existing;
  if (!existing || existing->payload_hash != claim.payload_hash) {
    return make_error(error_code::idempotency_key_reused,
                      "Idempotency-Key was already used with a different request");
  }
  if (existing->status == store::idempotency_record::state::in_progress) {
    core::api_error e = make_error(error_code::idempotency_in_progress,
                                   "A request with this Idempotency-Key is still in progress");
    e.retry_after_s = 1;
    return e;
  }
  auto replay = decode_stored_response(existing->response);
  if (!replay) {
    core::api_error e = make_error(error_code::internal, "Internal server error");
    e.cause = "stored idempotent response is unreadable";
    return e;
  }
  ctx.item_id = replay->item_id;
  ctx.message = "Idempotent replay";
  replay->headers.emplace_back("Idempotent-Replayed", "true");
  return std::optional<response>{std::move(*replay)};
}

void idempotency_protocol::complete(request_context& ctx, std::string_view key, const response& res,
                                    std::int64_t now) {
  auto done = store_.complete_idempotency(ctx.opts, ctx.owner, key, encode_stored_response(res),
                                          now + ttl_ms_);
  if (!done)
    ctx.cause = "idempotency record not completed: " + done.error().message();
}

void idempotency_protocol::release(request_context& ctx, std::string_view key) {
  (void)store_.release_idempotency(ctx.opts, ctx.owner, key);
}

}  // namespace crud::app

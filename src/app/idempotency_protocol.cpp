#include "app/idempotency_protocol.hpp"

#include <array>
#include <cstddef>
#include <span>
#include <utility>

#include "app/idempotency.hpp"
#include "app/store_errors.hpp"
#include "core/crypto.hpp"

namespace crud::app {

using core::error_code;
using core::make_error;

boost::system::result<idempotency_claim, core::api_error> idempotency_protocol::claim(
    request_context& ctx, std::string_view key, std::string payload_hash, std::int64_t now) {
  // 128 random bits: no other claim on the key, now or later, draws the same token.
  std::array<std::byte, 16> token{};
  random_.fill(token);
  store::idempotency_record claim;
  claim.claim_token =
      core::to_hex(std::string_view(reinterpret_cast<const char*>(token.data()), token.size()));
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
    return idempotency_claim{std::nullopt, std::move(claim.claim_token)};
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
  return idempotency_claim{std::move(*replay), {}};
}

void idempotency_protocol::complete(request_context& ctx, std::string_view key,
                                    std::string_view token, const response& res, std::int64_t now) {
  auto done = store_.complete_idempotency(ctx.opts, ctx.owner, key, token,
                                          encode_stored_response(res), now + ttl_ms_);
  if (!done) {
    ctx.cause = done.error() == store::errc::condition_failed
                    ? "idempotency record not completed: the claim went stale and a retry took "
                      "the key over"
                    : "idempotency record not completed: " + done.error().message();
  }
}

void idempotency_protocol::release(request_context& ctx, std::string_view key,
                                   std::string_view token) {
  (void)store_.release_idempotency(ctx.opts, ctx.owner, key, token);
}

}  // namespace crud::app

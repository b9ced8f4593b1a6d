#pragma once
// The Idempotency-Key protocol of `POST /items` (CONTRACT §2) against the store: claim the
// key before writing; a retry either replays the stored response, waits (409 while the first
// request runs) or is refused (422, another payload); after the write the claim is completed
// with the response, or released when the write failed.
//
// Each claim carries a random token, and completing or releasing names it: a request that
// stalled past its claim's in_progress_until, and whose key a retry has since claimed, can
// neither overwrite nor delete the retry's claim
// (docs/decisions/0016-fenced-idempotency-claims.md).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/system/result.hpp>

#include "app/request_context.hpp"
#include "core/random_source.hpp"
#include "store/item_store.hpp"

namespace crud::app {

// What claiming a key gave: either a replay to return as it is, or the claim's token, which
// complete and release name.
struct idempotency_claim {
  std::optional<response> replay;
  std::string token;
};

class idempotency_protocol {
 public:
  idempotency_protocol(store::item_store& store, core::random_source& random,
                       std::int64_t in_progress_ms, std::int64_t ttl_ms)
      : store_(store), random_(random), in_progress_ms_(in_progress_ms), ttl_ms_(ttl_ms) {}

  // Claims `key` for this request, bound to `payload_hash`. No replay: claimed, go ahead and
  // write. A replay: the first request's response. An error: 409, 422 or the store's.
  boost::system::result<idempotency_claim, core::api_error> claim(request_context& ctx,
                                                                  std::string_view key,
                                                                  std::string payload_hash,
                                                                  std::int64_t now);

  // After the write: stores the response a retry replays, if the claim `token` still holds the
  // key. A failure only delays retries (they see the claim in progress until it goes stale),
  // and a claim taken over belongs to the retry, so either is logged, not returned.
  void complete(request_context& ctx, std::string_view key, std::string_view token,
                const response& res, std::int64_t now);

  // After a failed write: frees the key for a retry at once, if the claim `token` holds it.
  void release(request_context& ctx, std::string_view key, std::string_view token);

 private:
  store::item_store& store_;
  core::random_source& random_;
  std::int64_t in_progress_ms_;
  std::int64_t ttl_ms_;
};

}  // namespace crud::app

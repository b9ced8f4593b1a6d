#pragma once
// The Idempotency-Key protocol of `POST /items` (CONTRACT §2) against the store: claim the
// key before writing; a retry either replays the stored response, waits (409 while the first
// request runs) or is refused (422, another payload); after the write the claim is completed
// with the response, or released when the write failed.

#include <cstdint>
#include <optional>
#include <string_view>

#include <boost/system/result.hpp>

#include "app/request_context.hpp"
#include "store/item_store.hpp"

namespace crud::app {

class idempotency_protocol {
 public:
  idempotency_protocol(store::item_store& store, std::int64_t in_progress_ms, std::int64_t ttl_ms)
      : store_(store), in_progress_ms_(in_progress_ms), ttl_ms_(ttl_ms) {}

  // Claims `key` for this request, bound to `payload_hash`. nullopt: claimed, go ahead and
  // write. A response: a replay of the first request's. An error: 409, 422 or the store's.
  boost::system::result<std::optional<response>, core::api_error> claim(request_context& ctx,
                                                                        std::string_view key,
                                                                        std::string payload_hash,
                                                                        std::int64_t now);

  // After the write: stores the response a retry replays. A failure only delays retries (they
  // see the claim in progress until it goes stale), so it is logged, not returned.
  void complete(request_context& ctx, std::string_view key, const response& res, std::int64_t now);

  // After a failed write: frees the key for a retry at once.
  void release(request_context& ctx, std::string_view key);

 private:
  store::item_store& store_;
  std::int64_t in_progress_ms_;
  std::int64_t ttl_ms_;
};

}  // namespace crud::app

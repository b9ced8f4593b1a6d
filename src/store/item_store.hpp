#pragma once
// The store interface: everything the app needs from persistence, in terms that fit both an
// embedded SQLite database and a DynamoDB table (CONTRACT §4). Items live in an owner's
// partition and sort by id; every write is conditional, so concurrent writers cannot lose
// updates; the store never decides HTTP semantics.
//
// Methods are synchronous and thread-safe. Implementations may batch concurrent writes into one
// durable commit (group commit) behind this interface; a call returns only once its write is
// durable or has failed. A store that group-commits on a thread of its own can also run a whole
// request there (write_job), which answers it once its commit is durable without a thread
// blocked in between.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/result.hpp>

#include "core/item.hpp"
#include "store/store_error.hpp"

namespace crud::store {

template <class T>
using result = boost::system::result<T>;

// Per-call limits and context, from the request that caused the call.
struct call_options {
  // Absolute wall-clock deadline in ms since the epoch; 0 means none. A store gives up (and
  // reports `unavailable`) rather than run past it.
  std::int64_t deadline_ms = 0;
  // An X-Ray trace header to propagate, when tracing.
  std::string_view trace_header;
};

struct item_page {
  std::vector<core::item> items;  // live (not soft-deleted) items, in id order
  // Set when more items may follow: the id to continue after. Unset only when nothing is left.
  std::optional<std::string> last_id;
};

struct idempotency_record {
  enum class state { in_progress, completed };
  state status = state::in_progress;
  std::string payload_hash;
  std::string response;                // the stored response, opaque to the store
  std::int64_t expires_at = 0;         // ms since the epoch: the record is gone after this
  std::int64_t in_progress_until = 0;  // ms: an in-progress claim older than this is stale
  // A random token naming the claim that wrote the record. Completing or releasing names it,
  // so a request that stalled past in_progress_until cannot touch the claim of the retry that
  // took the key over (a fencing token).
  std::string claim_token;
};

struct claim_outcome {
  bool claimed = false;                        // this caller owns the key now
  std::optional<idempotency_record> existing;  // the record that blocked the claim
};

// The part of a request that writes (the app's handler), handed to a store that serialises its
// writes on a thread of its own (item_store::post_write_job), so that nobody blocks while a
// commit is pending.
class write_job {
 public:
  virtual ~write_job() = default;
  // Runs on the store's writer thread, inside a group-commit transaction. The store's own calls
  // made from here run at once on that transaction, and its reads see its writes.
  virtual void run() noexcept = 0;
  // Then, on the same thread, once the commit holding run()'s writes is durable (`commit`
  // empty), or has failed and undone them all (`commit` says why). Called exactly once.
  virtual void settled(const boost::system::error_code& commit) noexcept = 0;
};

class item_store {
 public:
  virtual ~item_store() = default;

  // Takes `job` and runs it on the store's writer thread. A store without one, or one that is
  // stopping, gives the job back, and the caller runs the request itself.
  virtual std::unique_ptr<write_job> post_write_job(std::unique_ptr<write_job> job) { return job; }

  // Inserts a new item; already_exists if the id is taken.
  virtual result<void> create_item(const call_options& opts, std::string_view owner,
                                   const core::item& item) = 0;

  // The item, soft-deleted or not; not_found when absent.
  virtual result<core::item> get_item(const call_options& opts, std::string_view owner,
                                      std::string_view id) = 0;

  // Up to `limit` live items with id > `after_id` ("" for the start), in id order.
  virtual result<item_page> list_items(const call_options& opts, std::string_view owner,
                                       std::string_view after_id, std::size_t limit) = 0;

  // Replaces the stored item with `item` (same id) if its version is `expected_version`;
  // not_found when absent, condition_failed when the version differs. The item's deleted_at
  // decides whether it is soft-deleted; a soft-deleted item expires after the retention time.
  virtual result<void> replace_item(const call_options& opts, std::string_view owner,
                                    const core::item& item, std::int64_t expected_version) = 0;

  // Removes the item if its version is `expected_version`; errors as replace_item.
  virtual result<void> delete_item(const call_options& opts, std::string_view owner,
                                   std::string_view id, std::int64_t expected_version) = 0;

  // Claims an idempotency key: succeeds when no live record exists (an expired one, or an
  // in-progress one past its in_progress_until, counts as absent). Otherwise returns the
  // existing record.
  virtual result<claim_outcome> claim_idempotency(const call_options& opts, std::string_view owner,
                                                  std::string_view key,
                                                  const idempotency_record& record,
                                                  std::int64_t now_ms) = 0;

  // Marks the claim `claim_token` on the key completed with its response: not_found when the
  // key has no record, condition_failed when another claim (another token) holds it now.
  virtual result<void> complete_idempotency(const call_options& opts, std::string_view owner,
                                            std::string_view key, std::string_view claim_token,
                                            std::string_view response, std::int64_t expires_at) = 0;

  // Gives up the claim `claim_token` so that a retry can run (the request failed and changed
  // nothing). A key already gone is fine; condition_failed when another claim holds it, which
  // is left alone.
  virtual result<void> release_idempotency(const call_options& opts, std::string_view owner,
                                           std::string_view key, std::string_view claim_token) = 0;

  // Removes soft-deleted items and idempotency records whose time is up. Stores with native
  // expiry (DynamoDB TTL) may do nothing.
  virtual result<void> purge_expired(std::int64_t now_ms) = 0;

  // The secret that signs list cursors, shared by every process using this store (in a region:
  // see cursor_key_id).
  virtual result<std::string> cursor_secret() = 0;

  // The id that cursors signed with cursor_secret() carry. Empty: the store has one key for
  // everyone, and its cursors name none. A store replicated across regions has a key per region
  // (docs/decisions/0021-cursor-keys-per-region.md).
  virtual std::string cursor_key_id() { return {}; }

  // The secret of the key `key_id` ("" = the one key of version 1 cursors) for a cursor signed
  // elsewhere, or nullopt when there is no such key.
  virtual result<std::optional<std::string>> cursor_key(const call_options& /*opts*/,
                                                        std::string_view /*key_id*/) {
    return std::optional<std::string>();
  }
};

}  // namespace crud::store

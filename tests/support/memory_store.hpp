#pragma once
// Test support: an in-memory item_store with the same semantics as the durable ones. Tests of
// the layers above use it to run without files or sockets; it can also inject failures so those
// tests can reach the 503 and 500 paths. It lives here, not in src/store, so that the fault hook
// never ships in crud-api.

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "store/item_store.hpp"

namespace crud::store {

class memory_store : public item_store {
 public:
  explicit memory_store(std::string cursor_secret = "memory-store-cursor-secret!")
      : secret_(std::move(cursor_secret)) {}

  result<void> create_item(const call_options& opts, std::string_view owner,
                           const core::item& item) override;
  result<core::item> get_item(const call_options& opts, std::string_view owner,
                              std::string_view id) override;
  result<item_page> list_items(const call_options& opts, std::string_view owner,
                               std::string_view after_id, std::size_t limit) override;
  result<void> replace_item(const call_options& opts, std::string_view owner,
                            const core::item& item, std::int64_t expected_version) override;
  result<void> delete_item(const call_options& opts, std::string_view owner, std::string_view id,
                           std::int64_t expected_version) override;
  result<claim_outcome> claim_idempotency(const call_options& opts, std::string_view owner,
                                          std::string_view key, const idempotency_record& record,
                                          std::int64_t now_ms) override;
  result<void> complete_idempotency(const call_options& opts, std::string_view owner,
                                    std::string_view key, std::string_view claim_token,
                                    std::string_view response, std::int64_t expires_at) override;
  result<void> release_idempotency(const call_options& opts, std::string_view owner,
                                   std::string_view key, std::string_view claim_token) override;
  result<void> purge_expired(std::int64_t now_ms) override;
  // The fault hook sees "cursor_secret".
  result<std::string> cursor_secret() override;
  std::string cursor_key_id() override { return key_id_; }
  // The keys set_cursor_keys() gave; the fault hook sees "cursor_key".
  result<std::optional<std::string>> cursor_key(const call_options& opts,
                                                std::string_view key_id) override;

  // Makes the store sign as `own_id` (cursors name it) and know `others` as other Regions' keys.
  void set_cursor_keys(std::string own_id, std::map<std::string, std::string, std::less<>> others) {
    std::lock_guard lock(mutex_);
    key_id_ = std::move(own_id);
    other_keys_ = std::move(others);
  }

  // Called before every operation with its name ("get_item", ...); a non-empty error code
  // makes the operation fail with it. For fault tests.
  void set_fault(std::function<boost::system::error_code(std::string_view op)> fault) {
    std::lock_guard lock(mutex_);
    fault_ = std::move(fault);
  }

  std::size_t item_count() const;

 private:
  using key = std::pair<std::string, std::string>;  // (owner, id or idempotency key)
  boost::system::error_code check_fault(std::string_view op) const;

  mutable std::mutex mutex_;
  std::string secret_;
  std::string key_id_;
  std::map<std::string, std::string, std::less<>> other_keys_;
  std::map<key, core::item> items_;
  std::map<key, idempotency_record> idempotency_;
  std::function<boost::system::error_code(std::string_view)> fault_;
};

}  // namespace crud::store

#include "support/memory_store.hpp"

namespace crud::store {

result<std::string> memory_store::cursor_secret() {
  std::lock_guard lock(mutex_);
  if (auto ec = check_fault("cursor_secret"))
    return ec;
  return secret_;
}

result<std::optional<std::string>> memory_store::cursor_key(const call_options&,
                                                            std::string_view key_id) {
  std::lock_guard lock(mutex_);
  if (auto ec = check_fault("cursor_key"))
    return ec;
  if (key_id == key_id_)
    return std::optional<std::string>(secret_);
  auto it = other_keys_.find(key_id);
  return it == other_keys_.end() ? std::optional<std::string>()
                                 : std::optional<std::string>(it->second);
}

boost::system::error_code memory_store::check_fault(std::string_view op) const {
  return fault_ ? fault_(op) : boost::system::error_code();
}

std::size_t memory_store::item_count() const {
  std::lock_guard lock(mutex_);
  return items_.size();
}

result<void> memory_store::create_item(const call_options&, std::string_view owner,
                                       const core::item& item) {
  std::lock_guard lock(mutex_);
  if (auto ec = check_fault("create_item"))
    return ec;
  auto [it, inserted] = items_.try_emplace(key(owner, item.id), item);
  if (!inserted)
    return errc::already_exists;
  return {};
}

result<core::item> memory_store::get_item(const call_options&, std::string_view owner,
                                          std::string_view id) {
  std::lock_guard lock(mutex_);
  if (auto ec = check_fault("get_item"))
    return ec;
  auto it = items_.find(key(owner, id));
  if (it == items_.end())
    return errc::not_found;
  return it->second;
}

result<item_page> memory_store::list_items(const call_options&, std::string_view owner,
                                           std::string_view after_id, std::size_t limit) {
  std::lock_guard lock(mutex_);
  if (auto ec = check_fault("list_items"))
    return ec;
  item_page page;
  for (auto it = items_.upper_bound(key(owner, after_id));
       it != items_.end() && it->first.first == owner; ++it) {
    if (it->second.deleted())
      continue;
    if (page.items.size() == limit) {
      page.last_id = page.items.back().id;
      break;
    }
    page.items.push_back(it->second);
  }
  return page;
}

result<void> memory_store::replace_item(const call_options&, std::string_view owner,
                                        const core::item& item, std::int64_t expected_version) {
  std::lock_guard lock(mutex_);
  if (auto ec = check_fault("replace_item"))
    return ec;
  auto it = items_.find(key(owner, item.id));
  if (it == items_.end())
    return errc::not_found;
  if (it->second.version != expected_version)
    return errc::condition_failed;
  it->second = item;
  return {};
}

result<void> memory_store::delete_item(const call_options&, std::string_view owner,
                                       std::string_view id, std::int64_t expected_version) {
  std::lock_guard lock(mutex_);
  if (auto ec = check_fault("delete_item"))
    return ec;
  auto it = items_.find(key(owner, id));
  if (it == items_.end())
    return errc::not_found;
  if (it->second.version != expected_version)
    return errc::condition_failed;
  items_.erase(it);
  return {};
}

result<claim_outcome> memory_store::claim_idempotency(const call_options&, std::string_view owner,
                                                      std::string_view k,
                                                      const idempotency_record& record,
                                                      std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  if (auto ec = check_fault("claim_idempotency"))
    return ec;
  auto [it, inserted] = idempotency_.try_emplace(key(owner, k), record);
  if (inserted)
    return claim_outcome{true, std::nullopt};
  const auto& existing = it->second;
  bool stale =
      existing.expires_at <= now_ms || (existing.status == idempotency_record::state::in_progress &&
                                        existing.in_progress_until <= now_ms);
  if (stale) {
    it->second = record;
    return claim_outcome{true, std::nullopt};
  }
  return claim_outcome{false, existing};
}

result<void> memory_store::complete_idempotency(const call_options&, std::string_view owner,
                                                std::string_view k, std::string_view claim_token,
                                                std::string_view response,
                                                std::int64_t expires_at) {
  std::lock_guard lock(mutex_);
  if (auto ec = check_fault("complete_idempotency"))
    return ec;
  auto it = idempotency_.find(key(owner, k));
  if (it == idempotency_.end())
    return errc::not_found;
  if (it->second.claim_token != claim_token)
    return errc::condition_failed;
  it->second.status = idempotency_record::state::completed;
  it->second.response = std::string(response);
  it->second.expires_at = expires_at;
  return {};
}

result<void> memory_store::release_idempotency(const call_options&, std::string_view owner,
                                               std::string_view k, std::string_view claim_token) {
  std::lock_guard lock(mutex_);
  if (auto ec = check_fault("release_idempotency"))
    return ec;
  auto it = idempotency_.find(key(owner, k));
  if (it == idempotency_.end())
    return {};
  if (it->second.claim_token != claim_token)
    return errc::condition_failed;
  idempotency_.erase(it);
  return {};
}

result<void> memory_store::purge_expired(std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  std::erase_if(items_, [&](const auto& entry) {
    const auto& it = entry.second;
    return it.deleted_at && *it.deleted_at + core::soft_delete_retention_ms <= now_ms;
  });
  std::erase_if(idempotency_, [&](const auto& entry) { return entry.second.expires_at <= now_ms; });
  return {};
}

}  // namespace crud::store

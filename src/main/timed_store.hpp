#pragma once
// At --log-level DEBUG, a store that logs one JSON line per call: the operation, how long it
// took in milliseconds, and whether it failed. Wraps any store, so SQLite and DynamoDB report
// alike, and costs nothing at other levels because it is only wired in at DEBUG.

#include <memory>
#include <string>
#include <utility>

#include "app/log_sink.hpp"
#include "core/clock.hpp"
#include "store/item_store.hpp"

namespace crud::main {

class timed_store final : public store::item_store {
 public:
  // `clock` and `log` must outlive the store.
  timed_store(std::unique_ptr<store::item_store> inner, const core::clock& clock,
              app::log_sink& log, std::string service_name);

  store::result<void> create_item(const store::call_options& opts, std::string_view owner,
                                  const core::item& item) override;
  store::result<core::item> get_item(const store::call_options& opts, std::string_view owner,
                                     std::string_view id) override;
  store::result<store::item_page> list_items(const store::call_options& opts,
                                             std::string_view owner, std::string_view after_id,
                                             std::size_t limit) override;
  store::result<void> replace_item(const store::call_options& opts, std::string_view owner,
                                   const core::item& item, std::int64_t expected_version) override;
  store::result<void> delete_item(const store::call_options& opts, std::string_view owner,
                                  std::string_view id, std::int64_t expected_version) override;
  store::result<store::claim_outcome> claim_idempotency(const store::call_options& opts,
                                                        std::string_view owner,
                                                        std::string_view key,
                                                        const store::idempotency_record& record,
                                                        std::int64_t now_ms) override;
  store::result<void> complete_idempotency(const store::call_options& opts, std::string_view owner,
                                           std::string_view key, std::string_view claim_token,
                                           std::string_view response,
                                           std::int64_t expires_at) override;
  store::result<void> release_idempotency(const store::call_options& opts, std::string_view owner,
                                          std::string_view key,
                                          std::string_view claim_token) override;
  store::result<void> purge_expired(std::int64_t now_ms) override;
  store::result<std::string> cursor_secret() override;
  std::string cursor_key_id() override;
  store::result<std::optional<std::string>> cursor_key(const store::call_options& opts,
                                                       std::string_view key_id) override;
  // The job's store calls come back through this store, so they are timed like any other.
  std::unique_ptr<store::write_job> post_write_job(std::unique_ptr<store::write_job> job) override {
    return inner_->post_write_job(std::move(job));
  }

 private:
  template <class F>
  auto timed(std::string_view operation, F&& call);
  void log_call(std::string_view operation, std::int64_t elapsed_ns, const std::string* error);

  std::unique_ptr<store::item_store> inner_;
  const core::clock& clock_;
  app::log_sink& log_;
  std::string service_name_;
};

}  // namespace crud::main

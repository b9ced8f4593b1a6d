#include "store/dynamodb_store.hpp"

#include <functional>
#include <map>
#include <mutex>
#include <utility>

#include "core/item_line.hpp"
#include "core/timestamp.hpp"
#include "store/dynamodb_common.hpp"

namespace crud::store {
namespace {

using aws::attribute_map;
using aws::attribute_value;
using aws::dynamodb_error;
using boost::system::error_code;

constexpr std::string_view status_in_progress = "INPROGRESS";
constexpr std::string_view status_completed = "COMPLETED";
// A page query reads this many more rounds at most before returning a short page.
constexpr int max_query_rounds = 8;

attribute_value s(std::string_view v) {
  return attribute_value::string(std::string(v));
}

attribute_value n(std::int64_t v) {
  return attribute_value::number(v);
}

using core::ttl_seconds;

bool is_one_of(std::string_view type, std::initializer_list<std::string_view> types) {
  for (auto t : types)
    if (t == type)
      return true;
  return false;
}

// Store errors from DynamoDB's: anything that more time may cure is `unavailable` (503);
// credentials, permissions, a missing table and malformed data are `internal` (500).
error_code map_error(const dynamodb_error& e) {
  switch (e.what) {
    case dynamodb_error::kind::transport:
    case dynamodb_error::kind::timeout:
    case dynamodb_error::kind::deadline:
    case dynamodb_error::kind::crc_mismatch:
      return errc::unavailable;
    case dynamodb_error::kind::credentials:
    case dynamodb_error::kind::bad_response:
      return errc::internal;
    case dynamodb_error::kind::service:
      break;
  }
  if (aws::classify_response(e.http_status, e.type) != aws::failure_class::none)
    return errc::unavailable;
  if (is_one_of(e.type, {"TransactionConflictException", "LimitExceededException"}))
    return errc::unavailable;
  return errc::internal;
}

attribute_map key_of(std::string_view owner, std::string sk) {
  return {{"pk", s(owner_pk(owner))}, {"sk", attribute_value::string(std::move(sk))}};
}

using dynamodb_detail::item_attributes;
using dynamodb_detail::string_attr;

std::optional<std::int64_t> number_attr(const attribute_map& m, std::string_view name) {
  auto it = m.find(name);
  return it == m.end() ? std::nullopt : it->second.as_int64();
}

std::optional<core::item> parse_item(const attribute_map& m) {
  auto it = dynamodb_detail::parse_item(m);
  if (!it)
    return std::nullopt;
  return std::move(*it);
}

std::optional<idempotency_record> parse_record(const attribute_map& m) {
  const auto* status = string_attr(m, "status");
  const auto* hash = string_attr(m, "payloadHash");
  auto expires = number_attr(m, "expiresAt");
  if (!status || !hash || !expires)
    return std::nullopt;
  idempotency_record r;
  if (*status == status_completed)
    r.status = idempotency_record::state::completed;
  else if (*status == status_in_progress)
    r.status = idempotency_record::state::in_progress;
  else
    return std::nullopt;
  r.payload_hash = *hash;
  if (const auto* response = string_attr(m, "response"))
    r.response = *response;
  r.expires_at = *expires * 1000;
  r.in_progress_until = number_attr(m, "inProgressUntil").value_or(0);
  if (const auto* token = string_attr(m, "claimToken"))
    r.claim_token = *token;
  return r;
}

aws::request_context context_of(const call_options& opts) {
  return aws::request_context{opts.deadline_ms, opts.trace_header};
}

class dynamodb_store final : public item_store {
 public:
  // An empty `secret`: read (or create) it when first needed.
  dynamodb_store(const dynamodb_options& options, const dynamodb_store_deps& deps,
                 std::unique_ptr<aws::dynamodb_client> client, std::string key_id,
                 std::string secret)
      : table_(options.table),
        http_(deps.http),
        credentials_(deps.credentials),
        random_(deps.random),
        client_(std::move(client)),
        key_id_(std::move(key_id)),
        secret_(std::move(secret)) {}

  result<void> create_item(const call_options& opts, std::string_view owner,
                           const core::item& item) override {
    aws::put_item_input in;
    in.table = table_;
    in.item = item_attributes(owner, item);
    in.condition.expression = "attribute_not_exists(pk)";
    auto r = client_->put_item(context_of(opts), in);
    if (!r) {
      if (!r.error().is("ConditionalCheckFailedException"))
        return map_error(r.error());
      if (r.error().attempts > 1 && holds(opts, owner, item))
        return {};  // an earlier attempt wrote it, then its answer was lost
      return errc::already_exists;
    }
    return {};
  }

  result<core::item> get_item(const call_options& opts, std::string_view owner,
                              std::string_view id) override {
    auto found = read(context_of(opts), key_of(owner, item_sk(id)));
    if (!found)
      return found.error();
    if (!*found)
      return errc::not_found;
    auto it = parse_item(**found);
    if (!it)
      return errc::internal;
    return std::move(*it);
  }

  result<item_page> list_items(const call_options& opts, std::string_view owner,
                               std::string_view after_id, std::size_t limit) override {
    item_page page;
    if (limit == 0)
      return page;
    aws::query_input in;
    in.table = table_;
    in.key_condition = "pk = :pk AND begins_with(sk, :item)";
    in.filter = "attribute_not_exists(deletedAt)";
    in.values[":pk"] = s(owner_pk(owner));
    in.values[":item"] = s("ITEM#");
    if (!after_id.empty())
      in.exclusive_start_key = key_of(owner, item_sk(after_id));
    for (int round = 0; round < max_query_rounds; ++round) {
      // One more than needed tells whether anything follows a full page.
      in.limit = static_cast<int>(limit - page.items.size()) + 1;
      auto r = client_->query(context_of(opts), in);
      if (!r)
        return map_error(r.error());
      for (const auto& m : r->items) {
        auto it = parse_item(m);
        if (!it)
          return errc::internal;
        if (page.items.size() == limit) {
          page.last_id = page.items.back().id;
          return page;
        }
        page.items.push_back(std::move(*it));
      }
      if (!r->last_evaluated_key)
        return page;
      in.exclusive_start_key = std::move(r->last_evaluated_key);
    }
    // Too many soft-deleted items in a row: a short page that continues where the reads
    // stopped (the key need not be a live item; it is only a position).
    const auto* sk = string_attr(*in.exclusive_start_key, "sk");
    if (!sk || !sk->starts_with("ITEM#"))
      return errc::internal;
    page.last_id = sk->substr(5);
    return page;
  }

  result<void> replace_item(const call_options& opts, std::string_view owner,
                            const core::item& item, std::int64_t expected_version) override {
    aws::put_item_input in;
    in.table = table_;
    in.item = item_attributes(owner, item);
    in.condition = versioned(expected_version);
    auto r = client_->put_item(context_of(opts), in);
    if (!r) {
      if (auto ec = condition_failure(opts, r.error(), key_of(owner, item_sk(item.id)), &item))
        return ec;
    }
    return {};
  }

  result<void> delete_item(const call_options& opts, std::string_view owner, std::string_view id,
                           std::int64_t expected_version) override {
    aws::delete_item_input in;
    in.table = table_;
    in.key = key_of(owner, item_sk(id));
    in.condition = versioned(expected_version);
    auto r = client_->delete_item(context_of(opts), in);
    if (!r) {
      if (auto ec = condition_failure(opts, r.error(), in.key, nullptr))
        return ec;
    }
    return {};
  }

  result<claim_outcome> claim_idempotency(const call_options& opts, std::string_view owner,
                                          std::string_view key, const idempotency_record& record,
                                          std::int64_t now_ms) override {
    aws::put_item_input in;
    in.table = table_;
    in.item = key_of(owner, idempotency_sk(key));
    in.item["status"] =
        s(record.status == idempotency_record::state::completed ? status_completed
                                                                : status_in_progress);
    in.item["payloadHash"] = s(record.payload_hash);
    in.item["response"] = s(record.response);
    in.item["expiresAt"] = n(ttl_seconds(record.expires_at));
    in.item["inProgressUntil"] = n(record.in_progress_until);
    in.item["claimToken"] = s(record.claim_token);
    // expiresAt is in whole seconds: a record counts as expired only once its second is over.
    in.condition.expression =
        "attribute_not_exists(pk) OR #exp < :now_s OR "
        "(#status = :inprogress AND #until <= :now_ms)";
    in.condition.names = {
        {"#exp", "expiresAt"}, {"#status", "status"}, {"#until", "inProgressUntil"}};
    in.condition.values = {{":now_s", n(now_ms / 1000)},
                           {":inprogress", s(status_in_progress)},
                           {":now_ms", n(now_ms)}};
    in.condition.return_old_on_failure = true;
    for (int round = 0; round < 3; ++round) {
      auto r = client_->put_item(context_of(opts), in);
      if (r)
        return claim_outcome{.claimed = true, .existing = std::nullopt};
      if (!r.error().is("ConditionalCheckFailedException"))
        return map_error(r.error());
      std::optional<attribute_map> old = r.error().item;
      if (!old) {
        auto found = read(context_of(opts), key_of(owner, idempotency_sk(key)));
        if (!found)
          return found.error();
        if (!*found)
          continue;  // released in between: claim again
        old = std::move(**found);
      }
      auto existing = parse_record(*old);
      if (!existing)
        return errc::internal;
      // A retried claim can be blocked by its own earlier attempt, whose answer was lost.
      if (r.error().attempts > 1 && existing->claim_token == record.claim_token &&
          existing->status == record.status && existing->payload_hash == record.payload_hash &&
          existing->in_progress_until == record.in_progress_until &&
          existing->expires_at == ttl_seconds(record.expires_at) * 1000)
        return claim_outcome{.claimed = true, .existing = std::nullopt};
      return claim_outcome{.claimed = false, .existing = std::move(*existing)};
    }
    return errc::unavailable;
  }

  // Fenced by the claim's token: a retried completion finds its own token still there, so it
  // succeeds again; a stalled request whose key another claim took over fails the condition.
  result<void> complete_idempotency(const call_options& opts, std::string_view owner,
                                    std::string_view key, std::string_view claim_token,
                                    std::string_view response, std::int64_t expires_at) override {
    aws::update_item_input in;
    in.table = table_;
    in.key = key_of(owner, idempotency_sk(key));
    in.update = "SET #status = :completed, #response = :response, #exp = :exp";
    in.condition.expression = "#token = :token";
    in.condition.names = {{"#status", "status"},
                          {"#response", "response"},
                          {"#exp", "expiresAt"},
                          {"#token", "claimToken"}};
    in.condition.values = {{":completed", s(status_completed)},
                           {":response", s(response)},
                           {":exp", n(ttl_seconds(expires_at))},
                           {":token", s(claim_token)}};
    in.condition.return_old_on_failure = true;
    auto r = client_->update_item(context_of(opts), in);
    if (!r)
      return claim_not_held(opts, r.error(), in.key);
    return {};
  }

  result<void> release_idempotency(const call_options& opts, std::string_view owner,
                                   std::string_view key, std::string_view claim_token) override {
    aws::delete_item_input in;
    in.table = table_;
    in.key = key_of(owner, idempotency_sk(key));
    in.condition.expression = "#token = :token";
    in.condition.names = {{"#token", "claimToken"}};
    in.condition.values = {{":token", s(claim_token)}};
    in.condition.return_old_on_failure = true;
    auto r = client_->delete_item(context_of(opts), in);
    if (!r) {
      // A key already gone (a retried release whose first copy went through) is released.
      const error_code ec = claim_not_held(opts, r.error(), in.key);
      if (ec == errc::not_found)
        return {};
      return ec;
    }
    return {};
  }

  // DynamoDB's TTL removes what carries an expired expiresAt; reads already skip what matters.
  result<void> purge_expired(std::int64_t) override { return {}; }

  result<std::string> cursor_secret() override {
    std::lock_guard lock(secret_mutex_);
    if (secret_.empty()) {
      auto secret = dynamodb_detail::ensure_cursor_secret(*client_, table_, key_id_, random_);
      if (!secret)
        return map_error(secret.error());
      secret_ = std::move(*secret);
    }
    return secret_;
  }

  std::string cursor_key_id() override { return key_id_; }

  // Another region's key (or the version 1 key), read once and kept: a key never changes once
  // written. Absent keys are not remembered, so a region added later is found on first use.
  result<std::optional<std::string>> cursor_key(const call_options& opts,
                                                std::string_view key_id) override {
    if (key_id == key_id_) {
      auto own = cursor_secret();
      if (!own)
        return own.error();
      return std::optional<std::string>(std::move(*own));
    }
    {
      std::lock_guard lock(keys_mutex_);
      if (auto it = other_keys_.find(key_id); it != other_keys_.end())
        return std::optional<std::string>(it->second);
    }
    auto found = dynamodb_detail::read_cursor_secret(*client_, context_of(opts), table_, key_id);
    if (!found)
      return map_error(found.error());
    if (*found) {
      std::lock_guard lock(keys_mutex_);
      if (other_keys_.size() < max_other_keys)
        other_keys_.emplace(std::string(key_id), **found);
    }
    return std::move(*found);
  }

 private:
  static aws::write_condition versioned(std::int64_t expected_version) {
    aws::write_condition c;
    c.expression = "attribute_exists(pk) AND #version = :expected";
    c.names = {{"#version", "version"}};
    c.values = {{":expected", n(expected_version)}};
    c.return_old_on_failure = true;
    return c;
  }

  result<std::optional<attribute_map>> read(const aws::request_context& ctx, attribute_map key) {
    aws::get_item_input in{table_, std::move(key), true, {}, {}};
    auto r = client_->get_item(ctx, in);
    if (!r)
      return map_error(r.error());
    return std::move(*r);
  }

  // A failed conditional write on an item: with the old item (ALL_OLD) it existed at another
  // version; without it, a consistent read decides, since some engines never send it.
  //
  // When the write was retried, the failure may be the work of its own earlier attempt, whose
  // answer was lost (a timeout, a dropped connection): a replace whose item is now exactly
  // `written`, or a delete whose item is gone, succeeded.
  error_code condition_failure(const call_options& opts, const dynamodb_error& e,
                               const attribute_map& key, const core::item* written) {
    if (!e.is("ConditionalCheckFailedException"))
      return map_error(e);
    const bool retried = e.attempts > 1;
    std::optional<attribute_map> current;
    if (e.item && !e.item->empty()) {
      current = e.item;
    } else {
      auto found = read(context_of(opts), key);
      if (!found)
        return found.error();
      current = std::move(*found);
    }
    if (!current)
      return retried && !written ? error_code() : make_error_code(errc::not_found);
    if (retried && written && parse_item(*current) == *written)
      return {};
    return errc::condition_failed;
  }

  // A fenced idempotency write whose condition failed: condition_failed when another claim
  // holds the key, not_found when there is no record.
  error_code claim_not_held(const call_options& opts, const dynamodb_error& e,
                            const attribute_map& key) {
    if (!e.is("ConditionalCheckFailedException"))
      return map_error(e);
    if (e.item && !e.item->empty())
      return errc::condition_failed;
    auto found = read(context_of(opts), key);
    if (!found)
      return found.error();
    return *found ? make_error_code(errc::condition_failed) : make_error_code(errc::not_found);
  }

  // Whether the stored item is exactly `item`.
  bool holds(const call_options& opts, std::string_view owner, const core::item& item) {
    auto found = read(context_of(opts), key_of(owner, item_sk(item.id)));
    return found && *found && parse_item(**found) == item;
  }

  std::string table_;
  // The client holds plain references to these two; sharing their ownership keeps them alive
  // as long as it (declared first, they are destroyed after it).
  std::shared_ptr<aws::http_client> http_;
  std::shared_ptr<aws::credentials_provider> credentials_;
  core::random_source& random_;
  std::unique_ptr<aws::dynamodb_client> client_;
  std::string key_id_;
  std::mutex secret_mutex_;
  std::string secret_;  // empty until read, when the open deferred it
  // A handful of regions at most; the bound only keeps hostile key ids from growing the map.
  static constexpr std::size_t max_other_keys = 16;
  std::mutex keys_mutex_;
  std::map<std::string, std::string, std::less<>> other_keys_;
};

}  // namespace

std::string owner_pk(std::string_view owner) {
  return "OWNER#" + std::string(owner);
}

std::string item_sk(std::string_view id) {
  return "ITEM#" + std::string(id);
}

std::string idempotency_sk(std::string_view key) {
  return "IDEMPOTENCY#" + std::string(key);
}

std::string cursor_key_sk(std::string_view key_id) {
  return key_id.empty() ? std::string("CURSOR_SECRET") : "CURSOR_SECRET#" + std::string(key_id);
}

boost::system::result<std::unique_ptr<item_store>, std::string> open_dynamodb_store(
    const dynamodb_options& options, const dynamodb_store_deps& deps) {
  auto client = dynamodb_detail::make_client(options, deps);
  if (!client)
    return client.error();
  auto key_id = dynamodb_detail::cursor_key_id_of(options);
  if (!key_id)
    return "cannot open " + dynamodb_detail::where(options) + ": " + key_id.error();
  if (!options.cursor_secret_at_open)
    return std::unique_ptr<item_store>(std::make_unique<dynamodb_store>(
        options, deps, std::move(*client), std::move(*key_id), std::string()));
  auto secret =
      dynamodb_detail::ensure_cursor_secret(**client, options.table, *key_id, deps.random);
  if (!secret) {
    std::string hint = secret.error().is("ResourceNotFoundException")
                           ? " (run `crud-api init --store dynamodb` first)"
                           : "";
    return "cannot open " + dynamodb_detail::where(options) + ": " +
           dynamodb_detail::describe(secret.error()) + hint;
  }
  return std::unique_ptr<item_store>(std::make_unique<dynamodb_store>(
      options, deps, std::move(*client), std::move(*key_id), std::move(*secret)));
}

}  // namespace crud::store

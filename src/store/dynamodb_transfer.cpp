#include "store/dynamodb_transfer.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <exception>
#include <set>
#include <thread>
#include <unordered_set>
#include <utility>

#include "core/timestamp.hpp"
#include "store/dynamodb_common.hpp"

namespace crud::store {
namespace {

using aws::attribute_map;
using aws::attribute_value;
using aws::dynamodb_error;
using boost::system::in_place_error;

constexpr std::string_view owner_prefix = "OWNER#";
constexpr std::string_view item_prefix = "ITEM#";
constexpr std::size_t max_batch_put = 25;   // BatchWriteItem's limit
constexpr std::size_t max_batch_get = 100;  // BatchGetItem's limit
constexpr std::size_t parallel_chunks = 4;  // chunks of 100 in flight at once
constexpr int scan_page_items = 2000;
// Unprocessed items are sent again after 50 ms, doubling up to 5 s; the import gives up after
// this many rounds in a row that got nothing through.
constexpr std::int64_t backoff_base_ms = 50;
constexpr std::int64_t backoff_cap_ms = 5000;
constexpr int max_rounds_without_progress = 10;

attribute_value s(std::string_view v) {
  return attribute_value::string(std::string(v));
}

using dynamodb_detail::string_attr;

attribute_map item_attributes(const core::item_record& r) {
  return dynamodb_detail::item_attributes(r.owner, r.stored, r.expires_at);
}

// The record in a stored item, or why it is not one.
boost::system::result<core::item_record, std::string> parse_record(std::string owner,
                                                                   const attribute_map& m) {
  auto item = dynamodb_detail::parse_item(m);
  if (!item)
    return {in_place_error, std::move(item.error())};
  core::item_record r;
  r.owner = std::move(owner);
  r.stored = std::move(*item);
  if (auto e = m.find("expiresAt"); e != m.end()) {
    r.expires_at = e->second.as_int64();
    if (!r.expires_at)
      return {in_place_error, "expiresAt is not an integer"};
    if (!r.stored.deleted_at)
      return {in_place_error, "an expiry on an item that is not soft-deleted"};
  }
  return r;
}

// Runs `f` on a worker thread's behalf: an exception (bad_alloc) becomes an error, never an
// escape from the thread.
template <class F>
auto guarded(F&& f) noexcept -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    return {in_place_error, std::string("import failed: ") + e.what()};
  }
}

std::string key_text(const attribute_map& key) {
  const auto* pk = string_attr(key, "pk");
  const auto* sk = string_attr(key, "sk");
  std::string out = pk ? *pk : std::string();
  out.push_back('\0');
  if (sk)
    out += *sk;
  return out;
}

class dynamodb_transfer final : public item_transfer {
 public:
  dynamodb_transfer(const dynamodb_options& options, const dynamodb_store_deps& deps,
                    std::unique_ptr<aws::dynamodb_client> client)
      : options_(options),
        http_(deps.http),
        credentials_(deps.credentials),
        random_(deps.random),
        sleep_(deps.sleep),
        client_(std::move(client)) {}

  transfer_result<void> export_items(const record_sink& sink, const bad_record_sink& bad) override {
    auto owners = find_owners(bad);
    if (!owners)
      return {in_place_error, owners.error()};
    for (const auto& owner : *owners) {
      aws::query_input in;
      in.table = options_.table;
      in.key_condition = "pk = :pk AND begins_with(sk, :item)";
      in.values[":pk"] = s(owner_pk(owner));
      in.values[":item"] = s(item_prefix);
      in.consistent_read = true;
      for (;;) {
        auto page = client_->query({}, in);
        if (!page)
          return {in_place_error, failure("Query", page.error())};
        for (const auto& m : page->items) {
          auto r = parse_record(owner, m);
          if (!r) {
            const auto* sk = string_attr(m, "sk");
            bad(owner + "/" + (sk ? sk->substr(item_prefix.size()) : std::string("?")), r.error());
            continue;
          }
          if (auto sent = sink(*r); !sent)
            return sent;
        }
        if (!page->last_evaluated_key)
          break;
        in.exclusive_start_key = std::move(page->last_evaluated_key);
      }
    }
    return {};
  }

  transfer_result<std::vector<import_outcome>> import_items(
      std::span<const core::item_record> records, bool overwrite) override {
    std::vector<import_outcome> out;
    out.reserve(records.size());
    std::size_t i = 0;
    while (i < records.size()) {
      // A wave of up to `parallel_chunks` chunks of 100 goes out at once, on threads of its
      // own: each request waits mostly for the network. Within a wave no key repeats (a
      // request may not name one twice, and the second copy must see the first as existing):
      // a repeated key starts the next wave.
      std::vector<std::vector<attribute_map>> wave(1);
      std::unordered_set<std::string> keys;
      while (i < records.size()) {
        if (wave.back().size() == max_batch_get) {
          if (wave.size() == parallel_chunks)
            break;
          wave.emplace_back();
        }
        attribute_map m = item_attributes(records[i]);
        if (!keys.insert(key_text(m)).second)
          break;
        wave.back().push_back(std::move(m));
        ++i;
      }
      std::vector<transfer_result<std::vector<import_outcome>>> results(
          wave.size(), transfer_result<std::vector<import_outcome>>(in_place_error, ""));
      {
        std::vector<std::jthread> threads;
        for (std::size_t c = 1; c < wave.size(); ++c) {
          auto run = [&, c] {
            results[c] = guarded([&] { return import_chunk(wave[c], overwrite); });
          };
          try {
            threads.emplace_back(run);
          } catch (const std::exception&) {
            run();  // no thread to be had: this one does it
          }
        }
        results[0] = guarded([&] { return import_chunk(wave[0], overwrite); });
      }
      for (auto& r : results) {
        if (!r)
          return {in_place_error, r.error()};
        out.insert(out.end(), r->begin(), r->end());
      }
    }
    return out;
  }

  std::size_t import_batch_size() const noexcept override {
    return max_batch_get * parallel_chunks;
  }

 private:
  std::string failure(std::string_view operation, const dynamodb_error& e) const {
    std::string hint;
    if (e.is("ResourceNotFoundException"))
      hint = " (run `crud-api init --store dynamodb` first)";
    else if (e.is("AccessDeniedException"))
      hint =
          " (export needs dynamodb:Scan and dynamodb:Query on the table, import "
          "dynamodb:BatchWriteItem and dynamodb:BatchGetItem: see the README)";
    // DynamoDB's messages may quote the whole request back: a line of it is enough.
    std::string what = dynamodb_detail::describe(e);
    if (what.size() > 300)
      what = what.substr(0, 300) + "...";
    return std::string(operation) + " on " + dynamodb_detail::where(options_) + ": " + what + hint;
  }

  // The owners with at least one item, in byte order. Keys only: the filter keeps the
  // idempotency records and META items out of the response.
  transfer_result<std::set<std::string>> find_owners(const bad_record_sink& bad) {
    std::set<std::string> owners;
    aws::scan_input in;
    in.table = options_.table;
    in.projection = "pk";
    in.filter = "begins_with(sk, :item)";
    in.values[":item"] = s(item_prefix);
    in.consistent_read = true;
    // Pages well under DynamoDB's 1 MB keep each call short on engines that scan slowly.
    in.limit = scan_page_items;
    for (;;) {
      auto page = client_->scan({}, in);
      if (!page)
        return {in_place_error, failure("Scan", page.error())};
      for (const auto& key : page->items) {
        const auto* pk = string_attr(key, "pk");
        if (pk == nullptr || !pk->starts_with(owner_prefix) || pk->size() == owner_prefix.size()) {
          bad(pk ? *pk : std::string("?"), "an item outside any owner's partition");
          continue;
        }
        // Scan returns a partition's items together, so this mostly finds the owner known.
        owners.emplace_hint(owners.end(), pk->substr(owner_prefix.size()));
      }
      if (!page->last_evaluated_key)
        return owners;
      in.exclusive_start_key = std::move(page->last_evaluated_key);
    }
  }

  // Up to 100 items with distinct keys.
  transfer_result<std::vector<import_outcome>> import_chunk(std::vector<attribute_map>& items,
                                                            bool overwrite) {
    std::vector<import_outcome> out(items.size(), import_outcome::written);
    std::vector<attribute_map> to_write;
    if (overwrite) {
      to_write = std::move(items);
    } else {
      auto existing = existing_keys(items);
      if (!existing)
        return {in_place_error, existing.error()};
      for (std::size_t k = 0; k < items.size(); ++k) {
        if (existing->contains(key_text(items[k])))
          out[k] = import_outcome::skipped;
        else
          to_write.push_back(std::move(items[k]));
      }
    }
    for (std::size_t from = 0; from < to_write.size(); from += max_batch_put) {
      const std::size_t to = std::min(to_write.size(), from + max_batch_put);
      const auto first = to_write.begin() + static_cast<std::ptrdiff_t>(from);
      const auto last = to_write.begin() + static_cast<std::ptrdiff_t>(to);
      std::vector<attribute_map> batch(std::make_move_iterator(first),
                                       std::make_move_iterator(last));
      if (auto put = put_all(std::move(batch)); !put)
        return {in_place_error, put.error()};
    }
    return out;
  }

  // The keys of `items` that the table holds, read consistently.
  transfer_result<std::unordered_set<std::string>> existing_keys(
      const std::vector<attribute_map>& items) {
    std::unordered_set<std::string> found;
    aws::batch_get_input in;
    in.table = options_.table;
    in.projection = "pk, sk";
    in.consistent_read = true;
    for (const auto& m : items)
      in.keys.push_back(attribute_map{{"pk", m.at("pk")}, {"sk", m.at("sk")}});
    int idle_rounds = 0;
    for (int round = 0; !in.keys.empty(); ++round) {
      if (round > 0)
        pause(round);
      auto r = client_->batch_get({}, in);
      if (!r)
        return {in_place_error, failure("BatchGetItem", r.error())};
      for (const auto& m : r->items)
        found.insert(key_text(m));
      idle_rounds = r->unprocessed_keys.size() < in.keys.size() ? 0 : idle_rounds + 1;
      if (idle_rounds >= max_rounds_without_progress)
        return {in_place_error, "BatchGetItem on " + dynamodb_detail::where(options_) +
                                    ": keys stayed unprocessed after repeated retries"};
      in.keys = std::move(r->unprocessed_keys);
    }
    return found;
  }

  // Writes up to 25 items, sending the unprocessed ones again until none is left.
  transfer_result<void> put_all(std::vector<attribute_map> items) {
    aws::batch_put_input in;
    in.table = options_.table;
    in.items = std::move(items);
    int idle_rounds = 0;
    for (int round = 0; !in.items.empty(); ++round) {
      if (round > 0)
        pause(round);
      auto left = client_->batch_put({}, in);
      if (!left)
        return {in_place_error, failure("BatchWriteItem", left.error())};
      idle_rounds = left->size() < in.items.size() ? 0 : idle_rounds + 1;
      if (idle_rounds >= max_rounds_without_progress)
        return {in_place_error, "BatchWriteItem on " + dynamodb_detail::where(options_) +
                                    ": items stayed unprocessed after repeated retries"};
      in.items = std::move(*left);
    }
    return {};
  }

  // Exponential backoff with jitter before the `round`th resend: a random time between half
  // and all of 50 ms * 2^(round-1), capped at 5 s, so that resends neither bunch up nor hurry.
  void pause(int round) {
    const int shift = std::min(round - 1, 16);
    const std::int64_t ceiling = std::min(backoff_cap_ms, backoff_base_ms << shift);
    std::array<std::byte, 4> bytes{};
    random_.fill(bytes);
    std::uint32_t r = 0;
    for (auto b : bytes)
      r = (r << 8) | std::to_integer<std::uint32_t>(b);
    const std::int64_t delay = ceiling / 2 + static_cast<std::int64_t>(r % (ceiling / 2 + 1));
    if (sleep_)
      sleep_(delay);
  }

  dynamodb_options options_;
  // The client holds plain references to these two (see dynamodb_store.cpp).
  std::shared_ptr<aws::http_client> http_;
  std::shared_ptr<aws::credentials_provider> credentials_;
  core::random_source& random_;
  std::function<void(std::int64_t)> sleep_;
  std::unique_ptr<aws::dynamodb_client> client_;
};

}  // namespace

transfer_result<std::unique_ptr<item_transfer>> open_dynamodb_transfer(
    const dynamodb_options& options, const dynamodb_store_deps& deps) {
  auto client = dynamodb_detail::make_client(options, deps);
  if (!client)
    return {in_place_error, client.error()};
  return std::unique_ptr<item_transfer>(
      std::make_unique<dynamodb_transfer>(options, deps, std::move(*client)));
}

}  // namespace crud::store

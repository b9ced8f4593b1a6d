// The cursor key race of a global table, on both engines: two regions open the store at the same
// time on their own replicas, each creates its key, and replication then copies every item to
// the other replica, the last writer winning where both wrote the same item. With one shared key
// item, one region's key is overwritten and the cursors it signed stop verifying; with a key item
// per region nothing is overwritten and every cursor keeps verifying, in either region and after
// a cold start (docs/decisions/0021-cursor-keys-per-region.md).
//
// Two tables on one engine stand for the two replicas: each store only ever sees its own, as a
// function in one region only sees that region's replica. The engine is dynalite, or moto under
// CRUD_DYNAMODB_ENGINE=moto (the moto.CursorKeyRace.* tests, src/store/CMakeLists.txt).

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/cursor.hpp"
#include "store/dynamodb_store.hpp"
#include "store/dynamodb_table.hpp"
#include "support/dynamodb_engine.hpp"
#include "support/testing_fakes.hpp"

namespace crud::store {
namespace {

using aws::attribute_value;

constexpr std::string_view owner = "alice";
constexpr std::string_view last_id = "item_01ARYZ6S41TSV4RRFFQ69G5FAV";

class CursorKeyRace : public ::testing::Test {
 protected:
  void SetUp() override {
    engine_.emplace();
    ASSERT_TRUE(engine_->running()) << engine_->error();
    for (const auto* table : {"replica_a", "replica_b"}) {
      auto made = init_dynamodb_table(options(table, "eu-west-1"), deps());
      ASSERT_TRUE(made.has_value()) << made.error();
    }
    // init wrote eu-west-1's key in both; start from replicas with no key at all.
    for (const auto* table : {"replica_a", "replica_b"})
      remove(table, "CURSOR_SECRET#eu-west-1");
  }

  dynamodb_options options(std::string table, std::string key_id) const {
    dynamodb_options o;
    o.table = std::move(table);
    o.region = "us-east-1";  // moto keeps tables per signing region: one region signs
    o.cursor_key_id = std::move(key_id);
    o.endpoint = engine_->endpoint();
    o.table_poll_interval_ms = 20;
    o.retry.base_delay_ms = 1;
    return o;
  }

  dynamodb_store_deps deps() {
    return dynamodb_store_deps{http_, creds_, clock_, random_, [](std::int64_t ms) {
                                 std::this_thread::sleep_for(std::chrono::milliseconds(ms));
                               }};
  }

  std::unique_ptr<item_store> open(std::string table, std::string key_id) {
    auto s = open_dynamodb_store(options(std::move(table), std::move(key_id)), deps());
    EXPECT_TRUE(s.has_value()) << (s.has_value() ? "" : s.error());
    return s.has_value() ? std::move(*s) : nullptr;
  }

  aws::dynamodb_client client() {
    aws::dynamodb_config config;
    config.region = "us-east-1";
    config.endpoint = *aws::resolve_dynamodb_endpoint(engine_->endpoint(), "us-east-1");
    return aws::dynamodb_client(config, aws::dynamodb_deps{*http_, *creds_, clock_, random_, {}});
  }

  aws::attribute_map key(std::string_view sk) {
    return {{"pk", attribute_value::string("META")},
            {"sk", attribute_value::string(std::string(sk))}};
  }

  std::optional<aws::attribute_map> get(const std::string& table, std::string_view sk) {
    auto c = client();
    aws::get_item_input in{table, key(sk), true, {}, {}};
    auto r = c.get_item({}, in);
    EXPECT_TRUE(r.has_value());
    return r.has_value() ? *r : std::nullopt;
  }

  // The secret a replica holds in the meta item `sk`; empty when there is none.
  std::string secret_in(const std::string& table, std::string_view sk) {
    auto item = get(table, sk);
    const std::string* secret = nullptr;
    if (item) {
      if (auto it = item->find("secret"); it != item->end())
        secret = it->second.as_string();
    }
    return secret ? *secret : std::string();
  }

  void put(const std::string& table, aws::attribute_map item) {
    auto c = client();
    aws::put_item_input in;
    in.table = table;
    in.item = std::move(item);
    ASSERT_TRUE(c.put_item({}, in).has_value());
  }

  void remove(const std::string& table, std::string_view sk) {
    auto c = client();
    boost::json::object body{{"TableName", table},
                             {"Key", {{"pk", {{"S", "META"}}}, {"sk", {{"S", std::string(sk)}}}}}};
    ASSERT_TRUE(c.call({}, "DeleteItem", boost::json::serialize(body)).has_value());
  }

  // Replication of the meta items the two regions wrote, in the order they were written: an
  // item the other replica lacks is copied, and where both wrote the same item the later write
  // (`later`'s) overwrites the earlier everywhere. The one secret item per region of the scheme
  // never collides; the shared item of the old scheme does.
  void replicate(const std::vector<std::string>& sks, const std::string& earlier,
                 const std::string& later) {
    for (const auto& sk : sks) {
      auto first = get(earlier, sk);
      auto second = get(later, sk);
      if (second) {
        put(earlier, *second);
      } else if (first) {
        put(later, *first);
      }
    }
  }

  // What GET /items does with a lastKey (src/app/item_handlers.cpp): the key the cursor names.
  static bool verifies(item_store& store, const core::cursor_codec& own, std::string_view token) {
    auto parsed = core::cursor_codec::parse(token);
    if (!parsed)
      return false;
    if (parsed->key_id == own.key_id())
      return own.decode(owner, token).has_value();
    auto k = store.cursor_key(call_options{}, parsed->key_id);
    EXPECT_TRUE(k.has_value());
    return k && *k && core::cursor_codec::verify(owner, *parsed, **k);
  }

  static core::cursor_codec codec_of(item_store& store) {
    return core::cursor_codec(store.cursor_key_id(), store.cursor_secret().value());
  }

  std::optional<test_support::dynamodb_engine_process> engine_;
  std::shared_ptr<aws::http_client> http_ = std::move(*aws::make_beast_http_client({}));
  std::shared_ptr<aws::credentials_provider> creds_ =
      std::make_shared<aws::static_credentials_provider>(
          aws::credentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", 0});
  core::testing::fake_clock clock_;
  core::testing::counting_random random_;
};

TEST_F(CursorKeyRace, EveryCursorStillVerifiesAfterBothRegionsCreatedTheirKeysAtOnce) {
  // Both regions' first cold starts, at the same moment, each on its own replica: both
  // conditional puts succeed, as they would in two regions.
  std::unique_ptr<item_store> a, b;
  std::thread ta([&] { a = open("replica_a", "eu-west-1"); });
  std::thread tb([&] { b = open("replica_b", "us-east-1"); });
  ta.join();
  tb.join();
  ASSERT_TRUE(a && b);
  ASSERT_NE(a->cursor_secret().value(), b->cursor_secret().value());
  const auto codec_a = codec_of(*a);
  const auto codec_b = codec_of(*b);
  const std::string from_a = codec_a.encode(owner, last_id);
  const std::string from_b = codec_b.encode(owner, last_id);
  // Before replication, a cursor from the other region cannot be checked yet: refused, not
  // accepted on trust.
  EXPECT_FALSE(verifies(*a, codec_a, from_b));

  replicate({"CURSOR_SECRET#eu-west-1", "CURSOR_SECRET#us-east-1"}, "replica_a", "replica_b");
  // Nothing was overwritten: each replica holds both keys, each the one its region made.
  for (const auto* table : {"replica_a", "replica_b"}) {
    EXPECT_EQ(secret_in(table, "CURSOR_SECRET#eu-west-1"), a->cursor_secret().value()) << table;
    EXPECT_EQ(secret_in(table, "CURSOR_SECRET#us-east-1"), b->cursor_secret().value()) << table;
  }

  // Cursors issued before replication verify in either region, on the warm processes and after
  // a cold start; another owner's or a forged one still does not.
  auto a_cold = open("replica_a", "eu-west-1");
  auto b_cold = open("replica_b", "us-east-1");
  ASSERT_TRUE(a_cold && b_cold);
  for (auto* store : {a.get(), b.get(), a_cold.get(), b_cold.get()}) {
    const auto own = codec_of(*store);
    EXPECT_TRUE(verifies(*store, own, from_a)) << store->cursor_key_id();
    EXPECT_TRUE(verifies(*store, own, from_b)) << store->cursor_key_id();
    EXPECT_FALSE(verifies(*store, own, codec_a.encode("mallory", last_id)));
  }
  auto parsed = core::cursor_codec::parse(from_a);
  auto key_a = b->cursor_key(call_options{}, "eu-west-1");
  ASSERT_TRUE(parsed && key_a && *key_a);
  EXPECT_FALSE(core::cursor_codec::verify("mallory", *parsed, **key_a));
  EXPECT_EQ(codec_of(*a_cold).encode(owner, last_id), from_a) << "same key after a cold start";
}

// The race the scheme removes, replayed on the same replicas: both regions create the one
// shared item, replication keeps the later write, and the earlier region's cursors fail. It
// shows the replication above would have caught an overwrite.
TEST_F(CursorKeyRace, WithOneSharedKeyItemTheOverwrittenRegionsCursorsFail) {
  const std::string secret_a(64, 'a');
  const std::string secret_b(64, 'b');
  for (const auto& [table, secret] : {std::pair{"replica_a", secret_a}, {"replica_b", secret_b}}) {
    auto item = key("CURSOR_SECRET");
    item["secret"] = attribute_value::string(secret);
    put(table, item);
  }
  const core::cursor_codec legacy_a(secret_a);
  const std::string from_a = legacy_a.encode(owner, last_id);
  replicate({"CURSOR_SECRET"}, "replica_a", "replica_b");
  EXPECT_EQ(secret_in("replica_a", "CURSOR_SECRET"), secret_b);

  // A version 1 cursor is checked against the shared item (it names no key): region A's cursor
  // no longer verifies anywhere, region B's does.
  auto a_cold = open("replica_a", "eu-west-1");
  ASSERT_TRUE(a_cold);
  EXPECT_FALSE(verifies(*a_cold, codec_of(*a_cold), from_a));
  EXPECT_TRUE(
      verifies(*a_cold, codec_of(*a_cold), core::cursor_codec(secret_b).encode(owner, last_id)));
}

}  // namespace
}  // namespace crud::store

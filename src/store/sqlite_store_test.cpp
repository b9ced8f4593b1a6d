#include "store/sqlite_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite_schema.hpp"
#include "support/sqlite_test_support.hpp"

namespace crud::store {
namespace {

using testing::eventually;
using testing::fixed_random;
using testing::raw_db;
using testing::temp_dir;

constexpr std::int64_t t0 = 1'700'000'000'000;

core::item make_item(std::string id, std::string name = "name", std::int64_t version = 1) {
  core::item it;
  it.id = std::move(id);
  it.name = std::move(name);
  it.description = "description";
  it.created_at = t0;
  it.updated_at = t0;
  it.version = version;
  return it;
}

// A claim whose token, unless given, is "t-" + its hash.
idempotency_record in_progress(std::string hash, std::int64_t now, std::string token = {}) {
  idempotency_record r;
  r.status = idempotency_record::state::in_progress;
  r.claim_token = token.empty() ? "t-" + hash : std::move(token);
  r.payload_hash = std::move(hash);
  r.expires_at = now + 24LL * 3600 * 1000;
  r.in_progress_until = now + 60'000;
  return r;
}

class SqliteStore : public ::testing::Test {
 protected:
  sqlite_options options(std::chrono::milliseconds busy = std::chrono::seconds(60)) const {
    sqlite_options o;
    o.path = db_path_;
    o.busy_timeout = busy;
    o.read_connections = 4;
    return o;
  }

  std::unique_ptr<item_store> open(const sqlite_options& o) {
    auto s = open_sqlite_store(o, random_);
    EXPECT_TRUE(s.has_value()) << (s.has_value() ? "" : s.error());
    return s.has_value() ? std::move(*s) : nullptr;
  }
  std::unique_ptr<item_store> open() { return open(options()); }

  static sqlite_store& concrete(item_store& s) { return dynamic_cast<sqlite_store&>(s); }

  temp_dir dir_;
  std::string db_path_ = dir_.file("nested/folders/items.db");
  fixed_random random_;
  call_options opts_;
};

TEST_F(SqliteStore, CreatesParentFoldersAndUsesWal) {
  auto store = open();
  ASSERT_TRUE(store);
  EXPECT_TRUE(std::filesystem::exists(db_path_));
  raw_db raw(db_path_);
  EXPECT_EQ(raw.text("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw.text("PRAGMA integrity_check"), "ok");
}

TEST_F(SqliteStore, OpenFailureNamesThePath) {
  std::ofstream(dir_.file("not-a-folder")) << "x";
  sqlite_options o = options();
  o.path = dir_.file("not-a-folder/items.db");
  auto s = open_sqlite_store(o, random_);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().find("cannot open database " + o.path), std::string::npos) << s.error();
  EXPECT_EQ(s.error().find('\n'), std::string::npos);
}

TEST_F(SqliteStore, OpenRefusesAFileThatIsNotADatabase) {
  const std::string path = dir_.file("garbage.db");
  std::ofstream(path) << std::string(4096, 'g');
  sqlite_options o = options();
  o.path = path;
  auto s = open_sqlite_store(o, random_);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().find(path), std::string::npos) << s.error();
  EXPECT_NE(s.error().find("not a database"), std::string::npos) << s.error();
}

TEST_F(SqliteStore, OpenRefusesAnEmptyPath) {
  sqlite_options o = options();
  o.path.clear();
  EXPECT_FALSE(open_sqlite_store(o, random_).has_value());
}

TEST_F(SqliteStore, CreateThenGet) {
  auto store = open();
  core::item it = make_item("item_a", "Ünïcode ✓");
  it.description = "";
  ASSERT_TRUE(store->create_item(opts_, "alice", it));
  auto got = store->get_item(opts_, "alice", "item_a");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, it);
  EXPECT_FALSE(got->deleted_at.has_value());
}

TEST_F(SqliteStore, CreateRefusesATakenId) {
  auto store = open();
  ASSERT_TRUE(store->create_item(opts_, "alice", make_item("item_a", "first")));
  auto again = store->create_item(opts_, "alice", make_item("item_a", "second"));
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error(), errc::already_exists);
  EXPECT_EQ(store->get_item(opts_, "alice", "item_a")->name, "first");
}

TEST_F(SqliteStore, OwnersArePartitions) {
  auto store = open();
  ASSERT_TRUE(store->create_item(opts_, "alice", make_item("item_a", "alice's")));
  ASSERT_TRUE(store->create_item(opts_, "bob", make_item("item_a", "bob's")));
  EXPECT_EQ(store->get_item(opts_, "alice", "item_a")->name, "alice's");
  EXPECT_EQ(store->get_item(opts_, "bob", "item_a")->name, "bob's");
  auto missing = store->get_item(opts_, "carol", "item_a");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error(), errc::not_found);
  EXPECT_EQ(store->list_items(opts_, "bob", "", 10)->items.size(), 1U);
}

TEST_F(SqliteStore, GetMissingIsNotFound) {
  auto store = open();
  auto got = store->get_item(opts_, "alice", "item_nope");
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error(), errc::not_found);
}

TEST_F(SqliteStore, ListWalksEveryLiveItemOnceInIdOrder) {
  auto store = open();
  std::set<std::string> live;
  for (int i = 0; i < 30; ++i) {
    char id[24];  // room for any int, so the compiler sees no truncation
    std::snprintf(id, sizeof id, "item_%02d", i);
    ASSERT_TRUE(store->create_item(opts_, "alice", make_item(id)));
    live.insert(id);
  }
  ASSERT_TRUE(store->create_item(opts_, "bob", make_item("item_15")));
  // Soft-delete three, hard-delete one.
  for (const char* id : {"item_03", "item_04", "item_29"}) {
    core::item gone = make_item(id, "name", 2);
    gone.deleted_at = t0 + 5;
    ASSERT_TRUE(store->replace_item(opts_, "alice", gone, 1));
    live.erase(id);
  }
  ASSERT_TRUE(store->delete_item(opts_, "alice", "item_10", 1));
  live.erase("item_10");

  std::vector<std::string> walked;
  std::string after;
  int pages = 0;
  for (;;) {
    auto page = store->list_items(opts_, "alice", after, 7);
    ASSERT_TRUE(page.has_value());
    ASSERT_LE(page->items.size(), 7U);
    ++pages;
    for (const auto& it : page->items) {
      EXPECT_FALSE(it.deleted());
      walked.push_back(it.id);
    }
    if (!page->last_id) {
      break;
    }
    EXPECT_EQ(*page->last_id, page->items.back().id);
    after = *page->last_id;
    ASSERT_LT(pages, 20);
  }
  EXPECT_EQ(walked, std::vector<std::string>(live.begin(), live.end()));
  EXPECT_EQ(pages, 4);  // 26 live items: 7 + 7 + 7 + 5
}

TEST_F(SqliteStore, ListSetsLastIdOnlyWhenMoreFollow) {
  auto store = open();
  for (const char* id : {"item_1", "item_2", "item_3", "item_4"}) {
    ASSERT_TRUE(store->create_item(opts_, "alice", make_item(id)));
  }
  auto first = store->list_items(opts_, "alice", "", 2);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->items.size(), 2U);
  EXPECT_EQ(first->last_id, "item_2");
  // Exactly the rest: no further page is announced.
  auto second = store->list_items(opts_, "alice", "item_2", 2);
  ASSERT_TRUE(second.has_value());
  ASSERT_EQ(second->items.size(), 2U);
  EXPECT_EQ(second->items[0].id, "item_3");
  EXPECT_FALSE(second->last_id.has_value());
  // A soft-deleted tail does not count as "more".
  core::item gone = make_item("item_4", "name", 2);
  gone.deleted_at = t0;
  ASSERT_TRUE(store->replace_item(opts_, "alice", gone, 1));
  auto third = store->list_items(opts_, "alice", "item_2", 1);
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(third->items.size(), 1U);
  EXPECT_FALSE(third->last_id.has_value());
  auto empty = store->list_items(opts_, "nobody", "", 5);
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->items.empty());
  EXPECT_FALSE(empty->last_id.has_value());
}

TEST_F(SqliteStore, ReplaceIsConditionalOnVersion) {
  auto store = open();
  ASSERT_TRUE(store->create_item(opts_, "alice", make_item("item_a", "v1")));
  core::item v2 = make_item("item_a", "v2", 2);
  v2.updated_at = t0 + 10;
  ASSERT_TRUE(store->replace_item(opts_, "alice", v2, 1));
  EXPECT_EQ(*store->get_item(opts_, "alice", "item_a"), v2);

  auto stale = store->replace_item(opts_, "alice", make_item("item_a", "v3", 3), 1);
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error(), errc::condition_failed);
  EXPECT_EQ(store->get_item(opts_, "alice", "item_a")->name, "v2");

  auto missing = store->replace_item(opts_, "alice", make_item("item_b", "x", 2), 1);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error(), errc::not_found);
  // Another owner's item is missing, not stale.
  auto foreign = store->replace_item(opts_, "bob", make_item("item_a", "x", 3), 2);
  ASSERT_FALSE(foreign.has_value());
  EXPECT_EQ(foreign.error(), errc::not_found);
}

TEST_F(SqliteStore, DeleteIsConditionalOnVersion) {
  auto store = open();
  ASSERT_TRUE(store->create_item(opts_, "alice", make_item("item_a")));
  auto stale = store->delete_item(opts_, "alice", "item_a", 7);
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error(), errc::condition_failed);
  EXPECT_TRUE(store->get_item(opts_, "alice", "item_a").has_value());

  ASSERT_TRUE(store->delete_item(opts_, "alice", "item_a", 1));
  auto gone = store->get_item(opts_, "alice", "item_a");
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error(), errc::not_found);
  auto again = store->delete_item(opts_, "alice", "item_a", 1);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error(), errc::not_found);
  // The id is free again.
  EXPECT_TRUE(store->create_item(opts_, "alice", make_item("item_a")));
}

TEST_F(SqliteStore, ConcurrentReplacesAtOneVersionLetExactlyOneWin) {
  auto store = open();
  ASSERT_TRUE(store->create_item(opts_, "alice", make_item("item_a")));
  constexpr int writers = 20;
  std::atomic<int> won{0};
  std::atomic<int> conflicted{0};
  std::atomic<int> other{0};
  std::vector<std::thread> threads;
  threads.reserve(32);
  for (int i = 0; i < writers; ++i) {
    threads.emplace_back([&, i] {
      auto r = store->replace_item(opts_, "alice", make_item("item_a", std::to_string(i), 2), 1);
      if (r.has_value()) {
        ++won;
      } else if (r.error() == errc::condition_failed) {
        ++conflicted;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(conflicted.load(), writers - 1);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(store->get_item(opts_, "alice", "item_a")->version, 2);
}

TEST_F(SqliteStore, ConcurrentDeletesAtOneVersionLetExactlyOneWin) {
  auto store = open();
  ASSERT_TRUE(store->create_item(opts_, "alice", make_item("item_a")));
  std::atomic<int> won{0};
  std::atomic<int> lost{0};
  std::vector<std::thread> threads;
  threads.reserve(32);
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&] {
      auto r = store->delete_item(opts_, "alice", "item_a", 1);
      if (r.has_value()) {
        ++won;
      } else if (r.error() == errc::not_found) {
        ++lost;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(lost.load(), 19);
}

TEST_F(SqliteStore, SoftDeletedItemsAreHiddenFromListsAndPurgedAfterRetention) {
  auto store = open();
  ASSERT_TRUE(store->create_item(opts_, "alice", make_item("item_a")));
  ASSERT_TRUE(store->create_item(opts_, "alice", make_item("item_b")));
  core::item deleted = make_item("item_a", "name", 2);
  deleted.deleted_at = t0 + 1000;
  ASSERT_TRUE(store->replace_item(opts_, "alice", deleted, 1));

  auto got = store->get_item(opts_, "alice", "item_a");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->deleted_at, t0 + 1000);
  auto page = store->list_items(opts_, "alice", "", 10);
  ASSERT_EQ(page->items.size(), 1U);
  EXPECT_EQ(page->items[0].id, "item_b");
  raw_db raw(db_path_);
  EXPECT_EQ(raw.scalar("SELECT expires_at FROM items WHERE id = 'item_a'"),
            t0 + 1000 + core::soft_delete_retention_ms);

  ASSERT_TRUE(store->purge_expired(t0 + 1000 + core::soft_delete_retention_ms - 1));
  EXPECT_TRUE(store->get_item(opts_, "alice", "item_a").has_value());
  ASSERT_TRUE(store->purge_expired(t0 + 1000 + core::soft_delete_retention_ms));
  EXPECT_EQ(store->get_item(opts_, "alice", "item_a").error(), errc::not_found);
  // Live items never expire.
  EXPECT_TRUE(store->get_item(opts_, "alice", "item_b").has_value());
}

TEST_F(SqliteStore, RestoringAnItemClearsItsExpiry) {
  auto store = open();
  ASSERT_TRUE(store->create_item(opts_, "alice", make_item("item_a")));
  core::item deleted = make_item("item_a", "name", 2);
  deleted.deleted_at = t0;
  ASSERT_TRUE(store->replace_item(opts_, "alice", deleted, 1));
  ASSERT_TRUE(store->replace_item(opts_, "alice", make_item("item_a", "name", 3), 2));
  ASSERT_TRUE(store->purge_expired(t0 + 10 * core::soft_delete_retention_ms));
  auto got = store->get_item(opts_, "alice", "item_a");
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(got->deleted());
  EXPECT_EQ(got->version, 3);
  EXPECT_EQ(store->list_items(opts_, "alice", "", 10)->items.size(), 1U);
}

TEST_F(SqliteStore, ClaimIsExclusiveUntilCompletedThenReplays) {
  auto store = open();
  auto first = store->claim_idempotency(opts_, "alice", "key-1", in_progress("h1", t0), t0);
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(first->claimed);
  EXPECT_FALSE(first->existing.has_value());

  auto second = store->claim_idempotency(opts_, "alice", "key-1", in_progress("h2", t0), t0 + 5);
  ASSERT_TRUE(second.has_value());
  EXPECT_FALSE(second->claimed);
  ASSERT_TRUE(second->existing.has_value());
  EXPECT_EQ(second->existing->status, idempotency_record::state::in_progress);
  EXPECT_EQ(second->existing->payload_hash, "h1");
  EXPECT_EQ(second->existing->in_progress_until, t0 + 60'000);

  constexpr char raw_response[] = "{\"status\":201}\0\xff binary";
  const std::string response(raw_response, sizeof raw_response - 1);  // NUL and 0xff included
  ASSERT_TRUE(
      store->complete_idempotency(opts_, "alice", "key-1", "t-h1", response, t0 + 86'400'000));
  // Completed records stay past in_progress_until, until they expire.
  auto third =
      store->claim_idempotency(opts_, "alice", "key-1", in_progress("h1", t0), t0 + 70'000);
  ASSERT_TRUE(third.has_value());
  EXPECT_FALSE(third->claimed);
  ASSERT_TRUE(third->existing.has_value());
  EXPECT_EQ(third->existing->status, idempotency_record::state::completed);
  EXPECT_EQ(third->existing->response, response);
  EXPECT_EQ(third->existing->expires_at, t0 + 86'400'000);

  // Keys are scoped to the owner.
  auto other = store->claim_idempotency(opts_, "bob", "key-1", in_progress("h1", t0), t0);
  ASSERT_TRUE(other.has_value());
  EXPECT_TRUE(other->claimed);
}

TEST_F(SqliteStore, ClaimTakesOverAStaleInProgressRecord) {
  auto store = open();
  ASSERT_TRUE(store->claim_idempotency(opts_, "alice", "k", in_progress("h1", t0), t0)->claimed);
  auto early =
      store->claim_idempotency(opts_, "alice", "k", in_progress("h2", t0), t0 + 60'000 - 1);
  EXPECT_FALSE(early->claimed);
  auto late =
      store->claim_idempotency(opts_, "alice", "k", in_progress("h2", t0 + 60'000), t0 + 60'000);
  ASSERT_TRUE(late.has_value());
  EXPECT_TRUE(late->claimed);
  // The new claim is the record now.
  auto after = store->claim_idempotency(opts_, "alice", "k", in_progress("h3", t0), t0 + 60'001);
  ASSERT_TRUE(after->existing.has_value());
  EXPECT_EQ(after->existing->payload_hash, "h2");
}

TEST_F(SqliteStore, ClaimReplacesAnExpiredRecord) {
  auto store = open();
  ASSERT_TRUE(store->claim_idempotency(opts_, "alice", "k", in_progress("h1", t0), t0)->claimed);
  ASSERT_TRUE(store->complete_idempotency(opts_, "alice", "k", "t-h1", "resp", t0 + 1000));
  EXPECT_FALSE(
      store->claim_idempotency(opts_, "alice", "k", in_progress("h2", t0), t0 + 999)->claimed);
  auto taken = store->claim_idempotency(opts_, "alice", "k", in_progress("h2", t0), t0 + 1000);
  ASSERT_TRUE(taken.has_value());
  EXPECT_TRUE(taken->claimed);
}

TEST_F(SqliteStore, ConcurrentClaimsOfOneKeyLetExactlyOneWin) {
  auto store = open();
  std::atomic<int> claimed{0};
  std::atomic<int> blocked{0};
  std::vector<std::thread> threads;
  threads.reserve(32);
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] {
      auto r = store->claim_idempotency(opts_, "alice", "k", in_progress("h", t0), t0);
      if (r.has_value() && r->claimed) {
        ++claimed;
      } else if (r.has_value() && r->existing) {
        ++blocked;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(claimed.load(), 1);
  EXPECT_EQ(blocked.load(), 15);
}

TEST_F(SqliteStore, ReleaseLetsTheKeyBeClaimedAgain) {
  auto store = open();
  ASSERT_TRUE(store->claim_idempotency(opts_, "alice", "k", in_progress("h1", t0), t0)->claimed);
  ASSERT_TRUE(store->release_idempotency(opts_, "alice", "k", "t-h1"));
  EXPECT_TRUE(store->claim_idempotency(opts_, "alice", "k", in_progress("h2", t0), t0)->claimed);
  // Releasing what is not there is harmless.
  EXPECT_TRUE(store->release_idempotency(opts_, "alice", "never-claimed", "t-h1"));
}

TEST_F(SqliteStore, AStalledClaimCanNeitherCompleteNorReleaseTheClaimThatTookOver) {
  auto store = open();
  // A claims; A stalls past in_progress_until; B's retry takes the key over.
  ASSERT_TRUE(
      store->claim_idempotency(opts_, "alice", "k", in_progress("h", t0, "A"), t0)->claimed);
  const std::int64_t later = t0 + 60'000;
  ASSERT_TRUE(
      store->claim_idempotency(opts_, "alice", "k", in_progress("h", later, "B"), later)->claimed);

  // A wakes up: its completion and its release both find B's claim and leave it alone.
  auto completed = store->complete_idempotency(opts_, "alice", "k", "A", "A's response", later + 1);
  ASSERT_FALSE(completed.has_value());
  EXPECT_EQ(completed.error(), errc::condition_failed);
  auto released = store->release_idempotency(opts_, "alice", "k", "A");
  ASSERT_FALSE(released.has_value());
  EXPECT_EQ(released.error(), errc::condition_failed);
  auto blocked =
      store->claim_idempotency(opts_, "alice", "k", in_progress("h", later, "C"), later + 2);
  ASSERT_TRUE(blocked.has_value());
  EXPECT_FALSE(blocked->claimed);
  ASSERT_TRUE(blocked->existing.has_value());
  EXPECT_EQ(blocked->existing->status, idempotency_record::state::in_progress);
  EXPECT_EQ(blocked->existing->claim_token, "B");

  // B completes as usual, and a retry replays B's response.
  ASSERT_TRUE(
      store->complete_idempotency(opts_, "alice", "k", "B", "B's response", later + 86'400'000));
  auto replay =
      store->claim_idempotency(opts_, "alice", "k", in_progress("h", later, "D"), later + 3);
  ASSERT_TRUE(replay.has_value());
  ASSERT_TRUE(replay->existing.has_value());
  EXPECT_EQ(replay->existing->status, idempotency_record::state::completed);
  EXPECT_EQ(replay->existing->response, "B's response");
  // Completed, B's record still names B: A cannot release it either.
  EXPECT_EQ(store->release_idempotency(opts_, "alice", "k", "A").error(), errc::condition_failed);
}

TEST_F(SqliteStore, CompletingAnUnknownKeyIsNotFound) {
  auto store = open();
  auto r = store->complete_idempotency(opts_, "alice", "nope", "t-h1", "resp", t0);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error(), errc::not_found);
}

TEST_F(SqliteStore, PurgeRemovesExpiredIdempotencyRecords) {
  auto store = open();
  ASSERT_TRUE(store->claim_idempotency(opts_, "alice", "old", in_progress("h", t0), t0)->claimed);
  ASSERT_TRUE(store->complete_idempotency(opts_, "alice", "old", "t-h", "resp", t0 + 100));
  ASSERT_TRUE(store->claim_idempotency(opts_, "alice", "new", in_progress("h", t0), t0)->claimed);
  ASSERT_TRUE(store->complete_idempotency(opts_, "alice", "new", "t-h", "resp", t0 + 200));
  ASSERT_TRUE(store->purge_expired(t0 + 100));
  raw_db raw(db_path_);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM idempotency"), 1);
  EXPECT_EQ(raw.text("SELECT key FROM idempotency"), "new");
}

TEST_F(SqliteStore, CursorSecretIsCreatedOnceAndSurvivesReopen) {
  std::string secret;
  {
    auto store = open();
    auto s = store->cursor_secret();
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(*s, std::string(32, '\x5a'));
    secret = *s;
  }
  EXPECT_EQ(random_.calls(), 1);
  fixed_random other(0x11);
  auto reopened = open_sqlite_store(options(), other);
  ASSERT_TRUE(reopened.has_value()) << reopened.error();
  EXPECT_EQ((*reopened)->cursor_secret().value(), secret);
  EXPECT_EQ(other.calls(), 0);
}

TEST_F(SqliteStore, OpeningTwiceIsHarmlessAndKeepsData) {
  {
    auto store = open();
    ASSERT_TRUE(store->create_item(opts_, "alice", make_item("item_a")));
  }
  {
    auto store = open();
    ASSERT_TRUE(store);
    EXPECT_TRUE(store->get_item(opts_, "alice", "item_a").has_value());
  }
  raw_db raw(db_path_);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM schema_version"), sqlite_schema_latest_version());
  EXPECT_EQ(raw.scalar("SELECT max(version) FROM schema_version"), sqlite_schema_latest_version());
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM meta"), 1);
  EXPECT_EQ(raw.text("PRAGMA integrity_check"), "ok");
}

TEST_F(SqliteStore, WritesWhileAnotherWriterHoldsTheLockAreUnavailable) {
  auto store = open(options(std::chrono::milliseconds(20)));
  ASSERT_TRUE(store->create_item(opts_, "alice", make_item("item_a")));
  raw_db holder(db_path_);
  ASSERT_EQ(holder.exec("BEGIN IMMEDIATE"), SQLITE_OK);
  auto blocked = store->create_item(opts_, "alice", make_item("item_b"));
  ASSERT_FALSE(blocked.has_value());
  EXPECT_EQ(blocked.error(), errc::unavailable);
  // Readers are not held up by a writer (WAL).
  EXPECT_TRUE(store->get_item(opts_, "alice", "item_a").has_value());
  ASSERT_EQ(holder.exec("COMMIT"), SQLITE_OK);
  EXPECT_TRUE(store->create_item(opts_, "alice", make_item("item_b")));
  EXPECT_GE(concrete(*store).stats().failed_batches, 1U);
}

// Stalls the store's writer on a batch of one (its BEGIN IMMEDIATE waits for `holder`), so
// that whatever is submitted next queues up and goes into one later batch.
class stalled_writer {
 public:
  stalled_writer(item_store& store, const std::string& path) : holder_(path), store_(store) {
    EXPECT_EQ(holder_.exec("BEGIN IMMEDIATE"), SQLITE_OK);
    auto& s = dynamic_cast<sqlite_store&>(store);
    first_ =
        std::thread([this] { result_ = store_.create_item({}, "stall", make_item("item_stall")); });
    EXPECT_TRUE(eventually([&] { return s.stats().in_flight == 1; }));
  }
  ~stalled_writer() {
    if (first_.joinable()) {
      release();
    }
  }
  void release() {
    EXPECT_EQ(holder_.exec("COMMIT"), SQLITE_OK);
    first_.join();
    EXPECT_TRUE(result_.has_value());
  }

 private:
  raw_db holder_;
  item_store& store_;
  std::thread first_;
  result<void> result_;
};

TEST_F(SqliteStore, GroupCommitFoldsConcurrentWritesIntoOneCommit) {
  auto store = open();
  auto& s = concrete(*store);
  const auto before = s.stats();
  constexpr int writers = 32;
  std::vector<std::thread> threads;
  threads.reserve(32);
  std::atomic<int> ok{0};
  {
    stalled_writer stall(*store, db_path_);
    for (int i = 0; i < writers; ++i) {
      threads.emplace_back([&, i] {
        if (store->create_item(opts_, "alice", make_item("item_" + std::to_string(100 + i)))) {
          ++ok;
        }
      });
    }
    ASSERT_TRUE(eventually([&] { return s.stats().queued == writers; }));
    stall.release();
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(ok.load(), writers);
  const auto after = s.stats();
  EXPECT_EQ(after.writes - before.writes, writers + 1U);
  EXPECT_EQ(after.commits - before.commits, 2U);  // the stalled one, then all the others
  EXPECT_EQ(store->list_items(opts_, "alice", "", 100)->items.size(), std::size_t{writers});
}

TEST_F(SqliteStore, AFailedWriteInABatchDoesNotAffectTheOthers) {
  auto store = open();
  auto& s = concrete(*store);
  ASSERT_TRUE(store->create_item(opts_, "alice", make_item("item_x", "original")));
  const auto before = s.stats();

  result<void> created_a, duplicate, stale_replace, created_b, missing_delete;
  std::vector<std::thread> threads;
  threads.reserve(32);
  {
    stalled_writer stall(*store, db_path_);
    threads.emplace_back(
        [&] { created_a = store->create_item(opts_, "alice", make_item("item_a")); });
    threads.emplace_back(
        [&] { duplicate = store->create_item(opts_, "alice", make_item("item_x", "dup")); });
    threads.emplace_back([&] {
      stale_replace = store->replace_item(opts_, "alice", make_item("item_x", "stale", 9), 8);
    });
    threads.emplace_back(
        [&] { created_b = store->create_item(opts_, "alice", make_item("item_b")); });
    threads.emplace_back(
        [&] { missing_delete = store->delete_item(opts_, "alice", "item_missing", 1); });
    ASSERT_TRUE(eventually([&] { return s.stats().queued == 5; }));
    stall.release();
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(s.stats().commits - before.commits, 2U);  // the five shared one commit
  EXPECT_TRUE(created_a.has_value());
  EXPECT_TRUE(created_b.has_value());
  ASSERT_FALSE(duplicate.has_value());
  EXPECT_EQ(duplicate.error(), errc::already_exists);
  ASSERT_FALSE(stale_replace.has_value());
  EXPECT_EQ(stale_replace.error(), errc::condition_failed);
  ASSERT_FALSE(missing_delete.has_value());
  EXPECT_EQ(missing_delete.error(), errc::not_found);
  EXPECT_TRUE(store->get_item(opts_, "alice", "item_a").has_value());
  EXPECT_TRUE(store->get_item(opts_, "alice", "item_b").has_value());
  EXPECT_EQ(store->get_item(opts_, "alice", "item_x")->name, "original");
}

TEST_F(SqliteStore, ManyConcurrentWritersAndReadersStayConsistent) {
  auto store = open();
  constexpr int threads_n = 8;
  constexpr int per_thread = 100;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(32);
  for (int t = 0; t < threads_n; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        const std::string id = "item_" + std::to_string(t) + "_" + std::to_string(i);
        if (!store->create_item(opts_, "alice", make_item(id))) {
          ++failures;
        }
        auto got = store->get_item(opts_, "alice", id);
        if (!got || got->id != id) {
          ++failures;
        }
        if (!store->list_items(opts_, "alice", "", 5)) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(failures.load(), 0);
  std::size_t total = 0;
  std::string after;
  for (;;) {
    auto page = store->list_items(opts_, "alice", after, 100);
    ASSERT_TRUE(page.has_value());
    total += page->items.size();
    if (!page->last_id) {
      break;
    }
    after = *page->last_id;
  }
  EXPECT_EQ(total, std::size_t{threads_n} * per_thread);
  const auto stats = concrete(*store).stats();
  EXPECT_EQ(stats.writes, std::uint64_t{threads_n} * per_thread);
  // Eight writers keep the queue busy while each commit syncs: group commit must have folded
  // some of their writes together (the stalled-writer tests above pin down exactly how).
  EXPECT_LT(stats.commits, stats.writes);
}

TEST_F(SqliteStore, DestructionFinishesQueuedWrites) {
  {
    auto store = open();
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(store->create_item(opts_, "alice", make_item("item_" + std::to_string(i))));
    }
  }
  raw_db raw(db_path_);
  EXPECT_EQ(raw.scalar("SELECT count(*) FROM items"), 10);
  EXPECT_EQ(raw.text("PRAGMA integrity_check"), "ok");
}

TEST_F(SqliteStore, SynchronousNormalIsAnOption) {
  sqlite_options o = options();
  o.synchronous_full = false;
  o.max_batch = 1;
  o.read_connections = 1;
  auto store = open(o);
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->create_item(opts_, "alice", make_item("item_a")));
  ASSERT_TRUE(store->create_item(opts_, "alice", make_item("item_b")));
  EXPECT_EQ(store->list_items(opts_, "alice", "", 10)->items.size(), 2U);
}

TEST_F(SqliteStore, AReadSeesWhatAnotherConnectionCommittedSinceTheLastRead) {
  sqlite_options o = options();
  o.read_connections = 1;
  o.snapshot_idle_limit = std::chrono::hours(1);  // so that only the commit can end the snapshot
  auto store = open(o);
  ASSERT_TRUE(store->create_item(opts_, "alice", make_item("item_a", "before")));
  ASSERT_EQ(store->get_item(opts_, "alice", "item_a")->name, "before");
  // Another writer, as `crud-api import` in another process is: the store's writer never
  // hears of its commit.
  raw_db other(db_path_);
  ASSERT_EQ(other.exec("UPDATE items SET name = 'after'"), SQLITE_OK);
  EXPECT_EQ(store->get_item(opts_, "alice", "item_a")->name, "after");
  EXPECT_EQ(store->list_items(opts_, "alice", "", 10)->items.at(0).name, "after");
}

TEST_F(SqliteStore, EveryReadAfterAnAcknowledgedWriteSeesIt) {
  auto store = open();
  constexpr int threads_n = 4;
  constexpr std::int64_t updates = 150;
  std::atomic<int> stale{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < threads_n; ++t) {
    threads.emplace_back([&, t] {
      const std::string id = "item_" + std::to_string(t);
      if (!store->create_item(opts_, "alice", make_item(id))) {
        ++failures;
        return;
      }
      for (std::int64_t v = 1; v <= updates; ++v) {
        if (!store->replace_item(opts_, "alice", make_item(id, "n", v + 1), v)) {
          ++failures;
          return;
        }
        const auto got = store->get_item(opts_, "alice", id);
        if (!got || got->version != v + 1) {
          ++stale;
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(stale.load(), 0);
}

TEST_F(SqliteStore, AWriteEndsTheSnapshotsIdleReadersHold) {
  sqlite_options o = options();
  o.read_connections = 1;
  o.snapshot_idle_limit = std::chrono::hours(1);
  auto store = open(o);
  ASSERT_TRUE(store->create_item(opts_, "alice", make_item("item_a")));
  ASSERT_TRUE(store->get_item(opts_, "alice", "item_a"));  // its reader now holds a snapshot
  ASSERT_TRUE(store->create_item(opts_, "alice", make_item("item_b")));
  raw_db raw(db_path_);
  // The writer ends idle snapshots right after its callers hear back.
  EXPECT_TRUE(eventually([&] { return raw.passive_checkpoint().reached_the_end(); }));
}

TEST_F(SqliteStore, IdleReadersEndTheirSnapshotsWhileOnlyAnotherProcessWrites) {
  sqlite_options o = options();
  o.read_connections = 1;
  o.snapshot_idle_limit = std::chrono::milliseconds(20);
  auto store = open(o);
  ASSERT_TRUE(store->create_item(opts_, "alice", make_item("item_a")));
  ASSERT_TRUE(store->get_item(opts_, "alice", "item_a"));
  raw_db other(db_path_);
  ASSERT_EQ(other.exec("UPDATE items SET name = 'other'"), SQLITE_OK);
  EXPECT_TRUE(eventually([&] { return other.passive_checkpoint().reached_the_end(); }));
}

}  // namespace
}  // namespace crud::store

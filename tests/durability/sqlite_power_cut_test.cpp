// The SQLite store under a power cut: the store runs on a VFS that drops every write not yet
// synced when the power goes (tests/support/power_cut_vfs.hpp), and the file is then opened
// again through the ordinary VFS, as after a reboot. A SIGKILL (tests/e2e/crash_e2e_test.cpp)
// cannot tell a missing fsync from a present one; this can.

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite_store.hpp"
#include "support/power_cut_vfs.hpp"
#include "support/sqlite_test_support.hpp"

namespace crud::store {
namespace {

using test_support::power_cut_vfs;
using testing::fixed_random;
using testing::raw_db;
using testing::temp_dir;

core::item make_item(std::string id) {
  core::item it;
  it.id = std::move(id);
  it.name = "name";
  it.description = "a description long enough to span a few bytes of the page";
  it.created_at = 1'700'000'000'000;
  it.updated_at = it.created_at;
  it.version = 1;
  return it;
}

class SqlitePowerCut : public ::testing::Test {
 protected:
  std::unique_ptr<item_store> open(const std::string& path, const std::string& vfs,
                                   bool synchronous_full = true) {
    sqlite_options o;
    o.path = path;
    o.vfs = vfs;
    o.synchronous_full = synchronous_full;
    o.read_connections = 2;
    auto s = open_sqlite_store(o, random_);
    EXPECT_TRUE(s.has_value()) << (s.has_value() ? "" : s.error());
    return s.has_value() ? std::move(*s) : nullptr;
  }

  // Creates `count` items one after another, and returns the ids of those acknowledged.
  std::vector<std::string> write(item_store& store, const std::string& prefix, int count) {
    std::vector<std::string> acked;
    for (int i = 0; i < count; ++i) {
      const std::string id = "item_" + prefix + "_" + std::to_string(i);
      if (store.create_item(opts_, "alice", make_item(id)))
        acked.push_back(id);
    }
    return acked;
  }

  // After the reboot: the file passes integrity_check and holds the acknowledged items. Returns
  // how many of them are missing.
  std::size_t missing_after_reboot(const std::string& path, const std::vector<std::string>& acked) {
    {
      raw_db raw(path);
      EXPECT_EQ(raw.text("PRAGMA integrity_check"), "ok");
    }
    auto store = open(path, "");
    if (store == nullptr)
      return acked.size();
    std::size_t missing = 0;
    for (const auto& id : acked) {
      if (!store->get_item(opts_, "alice", id))
        ++missing;
    }
    return missing;
  }

  temp_dir dir_;
  fixed_random random_;
  call_options opts_;
};

TEST_F(SqlitePowerCut, EveryAcknowledgedWriteSurvivesACutAtAnySync) {
  // The cut lands on the n-th sync after opening: each commit syncs the WAL once, so each n
  // cuts a different commit short. Its write must then fail, never be acknowledged and lost.
  for (int n : {1, 2, 3, 5, 8}) {
    SCOPED_TRACE("cut at sync " + std::to_string(n));
    const std::string path = dir_.file("cut" + std::to_string(n) + ".db");
    std::vector<std::string> acked;
    {
      power_cut_vfs vfs("power-cut-at-" + std::to_string(n));
      auto store = open(path, vfs.name());
      ASSERT_NE(store, nullptr);
      ASSERT_TRUE(store->create_item(opts_, "alice", make_item("item_before")));
      acked.push_back("item_before");
      vfs.cut_at_sync(n);
      auto written = write(*store, "w", 12);
      acked.insert(acked.end(), written.begin(), written.end());
      EXPECT_TRUE(vfs.powered_off()) << "12 commits never reached sync " << n;
      if (!vfs.powered_off())
        vfs.cut_power();  // so that what was acknowledged is still put to the test below
      EXPECT_LT(written.size(), 12U) << "writes kept succeeding after the power went";
    }
    EXPECT_EQ(missing_after_reboot(path, acked), 0U);
  }
}

TEST_F(SqlitePowerCut, ConcurrentAcknowledgedWritesSurviveACut) {
  // Group commit folds these into shared commits; a cut in the middle of one must fail every
  // write of that batch.
  const std::string path = dir_.file("concurrent.db");
  std::vector<std::string> acked;
  {
    power_cut_vfs vfs("power-cut-concurrent");
    auto store = open(path, vfs.name());
    ASSERT_NE(store, nullptr);
    vfs.cut_at_sync(6);
    std::mutex mutex;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        auto mine = write(*store, "t" + std::to_string(t), 15);
        std::lock_guard lock(mutex);
        acked.insert(acked.end(), mine.begin(), mine.end());
      });
    }
    for (auto& th : threads)
      th.join();
    EXPECT_TRUE(vfs.powered_off());
    if (!vfs.powered_off())
      vfs.cut_power();
    EXPECT_LT(acked.size(), 60U);
  }
  EXPECT_EQ(missing_after_reboot(path, acked), 0U);
}

TEST_F(SqlitePowerCut, AHandCutAfterTheLastAcknowledgementLosesNothing) {
  // Nothing fails here: the power goes while the store is idle. Whatever the store has said
  // yes to must already be on disk, syncs or not.
  const std::string path = dir_.file("idle.db");
  std::vector<std::string> acked;
  {
    power_cut_vfs vfs("power-cut-idle");
    auto store = open(path, vfs.name());
    ASSERT_NE(store, nullptr);
    acked = write(*store, "idle", 10);
    ASSERT_EQ(acked.size(), 10U);
    vfs.cut_power();
  }
  EXPECT_EQ(missing_after_reboot(path, acked), 0U);
}

TEST_F(SqlitePowerCut, EveryCommitSyncsTheWal) {
  // What synchronous=FULL means in WAL mode, seen from below: a sync of the WAL per commit.
  power_cut_vfs vfs("power-cut-count");
  auto store = open(dir_.file("count.db"), vfs.name());
  ASSERT_NE(store, nullptr);
  const auto before = vfs.syncs("-wal");
  ASSERT_EQ(write(*store, "c", 3).size(), 3U);
  EXPECT_GE(vfs.syncs("-wal") - before, 3U);
}

TEST_F(SqlitePowerCut, TheHarnessLosesWritesThatWereNeverSynced) {
  // The control: with synchronous=NORMAL a commit does not sync the WAL, so a cut loses
  // acknowledged writes. If this stopped failing writes, the tests above would prove nothing.
  const std::string path = dir_.file("normal.db");
  std::vector<std::string> acked;
  {
    power_cut_vfs vfs("power-cut-normal");
    auto store = open(path, vfs.name(), /*synchronous_full=*/false);
    ASSERT_NE(store, nullptr);
    acked = write(*store, "n", 10);
    ASSERT_EQ(acked.size(), 10U);
    vfs.cut_power();
  }
  EXPECT_EQ(missing_after_reboot(path, acked), 10U);
}

}  // namespace
}  // namespace crud::store

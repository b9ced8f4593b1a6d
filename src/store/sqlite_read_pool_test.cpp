#include "store/sqlite_read_pool.hpp"

#include <gtest/gtest.h>

#include <sqlite3.h>

#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include "support/sqlite_test_support.hpp"

namespace crud::store {
namespace {

using testing::temp_dir;

// A database with one row in table t, written by a connection of its own.
std::string make_database(const temp_dir& dir) {
  std::string path = dir.file("r.db");
  auto conn = sqlite_connection::open(path, {});
  EXPECT_TRUE(conn.has_value());
  EXPECT_EQ((*conn)->exec("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (42)"), SQLITE_OK);
  return path;
}

std::int64_t read_value(sqlite_connection& db) {
  auto stmt = db.prepare("SELECT v FROM t");
  if (!stmt || stmt->step() != SQLITE_ROW)
    return -1;
  return stmt->column_int64(0);
}

TEST(SqliteReadPool, ABusyPoolOpensAnotherConnectionInsteadOfWaiting) {
  temp_dir dir;
  sqlite_read_pool pool(make_database(dir), {});
  ASSERT_TRUE(pool.open(1));
  auto held = pool.acquire();  // the only connection, out on loan for the whole test
  ASSERT_TRUE(held);

  // On another thread, so that a pool that waited would fail this test rather than hang it:
  // the held lease ends with the test, which lets such a waiter finish.
  auto other = std::async(std::launch::async, [&] {
    auto conn = pool.acquire();
    return conn ? read_value(**conn) : -1;
  });
  ASSERT_EQ(other.wait_for(std::chrono::seconds(5)), std::future_status::ready)
      << "acquire waited for the lent connection";
  EXPECT_EQ(other.get(), 42);
  EXPECT_EQ(pool.size(), 2u);
  EXPECT_EQ(read_value(**held), 42);
}

TEST(SqliteReadPool, KeepsWhatItOpenedAndReusesIt) {
  temp_dir dir;
  sqlite_read_pool pool(make_database(dir), {});
  ASSERT_TRUE(pool.open(2));
  {
    std::vector<sqlite_read_pool::lease> leases;
    for (int i = 0; i < 5; ++i) {
      auto conn = pool.acquire();
      ASSERT_TRUE(conn);
      leases.push_back(std::move(*conn));
    }
    EXPECT_EQ(pool.size(), 5u);
  }
  for (int i = 0; i < 20; ++i) {
    auto conn = pool.acquire();
    ASSERT_TRUE(conn);
    EXPECT_EQ(read_value(**conn), 42);
  }
  EXPECT_EQ(pool.size(), 5u);
}

TEST(SqliteReadPool, ConnectionsAreReadOnly) {
  temp_dir dir;
  sqlite_read_pool pool(make_database(dir), {});
  ASSERT_TRUE(pool.open(1));
  auto conn = pool.acquire();
  ASSERT_TRUE(conn);
  EXPECT_NE((*conn)->exec("INSERT INTO t VALUES (1)"), SQLITE_OK);
}

TEST(SqliteReadPool, ReportsAConnectionItCannotOpen) {
  temp_dir dir;
  sqlite_read_pool pool(dir.file("missing/dir/r.db"), {});
  const auto opened = pool.open(1);
  ASSERT_FALSE(opened);
  EXPECT_FALSE(opened.error().empty());
  EXPECT_FALSE(pool.acquire());
  EXPECT_EQ(pool.size(), 0u);
}

TEST(SqliteReadPool, AcquireRefreshesTheSnapshotAndEndIdleSnapshotsEndsOnlyIdleOnes) {
  temp_dir dir;
  const std::string path = make_database(dir);
  sqlite_read_pool pool(path, {});
  ASSERT_TRUE(pool.open(2));
  auto writer = sqlite_connection::open(path, {});
  ASSERT_TRUE(writer.has_value());
  {
    auto warm = pool.acquire();  // the snapshot it begins outlives the lease
    ASSERT_TRUE(warm);
    ASSERT_EQ(read_value(**warm), 42);
  }
  ASSERT_EQ((*writer)->exec("UPDATE t SET v = 43"), SQLITE_OK);
  auto busy = pool.acquire();
  ASSERT_TRUE(busy);
  EXPECT_EQ(read_value(**busy), 43) << "acquire must refresh a snapshot a commit made stale";
  auto idle = pool.acquire();
  ASSERT_TRUE(idle);
  ASSERT_EQ(read_value(**idle), 43);
  sqlite_connection* idle_conn = &**idle;
  { auto back = std::move(*idle); }  // back in the pool, still holding its snapshot
  ASSERT_TRUE(idle_conn->holds_snapshot());

  pool.end_idle_snapshots();
  EXPECT_FALSE(idle_conn->holds_snapshot());
  EXPECT_FALSE(idle_conn->in_transaction());
  EXPECT_TRUE((*busy)->holds_snapshot()) << "a lent connection is its borrower's alone";
}

}  // namespace
}  // namespace crud::store

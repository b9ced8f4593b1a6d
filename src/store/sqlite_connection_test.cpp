#include "store/sqlite_connection.hpp"

#include <gtest/gtest.h>

#include <sqlite3.h>

#include <fstream>
#include <memory>
#include <string>
#include <utility>

#include "store/store_error.hpp"
#include "support/sqlite_test_support.hpp"

namespace crud::store {
namespace {

using testing::raw_db;
using testing::temp_dir;

TEST(SqliteConnection, MapsBusyAndLockedToUnavailable) {
  EXPECT_EQ(map_sqlite_error(SQLITE_BUSY), errc::unavailable);
  EXPECT_EQ(map_sqlite_error(SQLITE_LOCKED), errc::unavailable);
  EXPECT_EQ(map_sqlite_error(SQLITE_BUSY_SNAPSHOT), errc::unavailable);
  EXPECT_EQ(map_sqlite_error(SQLITE_IOERR), errc::internal);
  EXPECT_EQ(map_sqlite_error(SQLITE_CONSTRAINT_PRIMARYKEY), errc::internal);
  EXPECT_EQ(map_sqlite_error(SQLITE_CORRUPT), errc::internal);
}

TEST(SqliteConnection, OpensInWalModeWithTheRequestedSync) {
  temp_dir dir;
  sqlite_connection::settings s;
  s.synchronous_full = false;
  auto conn = sqlite_connection::open(dir.file("c.db"), s);
  ASSERT_TRUE(conn.has_value()) << conn.error();
  EXPECT_EQ(raw_db(dir.file("c.db")).text("PRAGMA journal_mode"), "wal");
  auto sync = (*conn)->prepare("PRAGMA synchronous");
  ASSERT_TRUE(sync);
  ASSERT_EQ(sync->step(), SQLITE_ROW);
  EXPECT_EQ(sync->column_int64(0), 1);  // NORMAL
}

TEST(SqliteConnection, TextRoundTripsByteForByteAndEmptyIsNotNull) {
  temp_dir dir;
  auto conn = sqlite_connection::open(dir.file("c.db"), {});
  ASSERT_TRUE(conn.has_value());
  sqlite_connection& db = **conn;
  ASSERT_EQ(db.exec("CREATE TABLE t (k INTEGER, s TEXT NOT NULL, b BLOB NOT NULL, n INTEGER)"),
            SQLITE_OK);
  const std::string with_nul("a\0b\xc3\xa9", 5);
  const std::string binary("\x00\xff\x01", 3);
  auto insert = db.prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4)");
  ASSERT_TRUE(insert);
  EXPECT_EQ(insert->bind(1, std::int64_t{1})
                .bind(2, std::string_view(with_nul))
                .bind_blob(3, binary)
                .bind(4, std::optional<std::int64_t>{})
                .run(),
            SQLITE_OK);
  // An empty view with no data pointer is still an empty string, not NULL. (The first use of
  // the same SQL is still open: this one gets a statement of its own.)
  auto insert2 = db.prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4)");
  ASSERT_TRUE(insert2);
  EXPECT_EQ(insert2->bind(1, std::int64_t{2})
                .bind(2, std::string_view())
                .bind_blob(3, std::string_view())
                .bind(4, std::optional<std::int64_t>{7})
                .run(),
            SQLITE_OK);

  auto select = db.prepare("SELECT s, b, n FROM t ORDER BY k");
  ASSERT_TRUE(select);
  ASSERT_EQ(select->step(), SQLITE_ROW);
  EXPECT_EQ(select->column_text(0), with_nul);
  EXPECT_EQ(select->column_text(1), binary);
  EXPECT_TRUE(select->column_is_null(2));
  ASSERT_EQ(select->step(), SQLITE_ROW);
  EXPECT_EQ(select->column_text(0), "");
  EXPECT_EQ(select->column_text(1), "");
  EXPECT_EQ(select->column_int64(2), 7);
  EXPECT_EQ(select->step(), SQLITE_DONE);
}

TEST(SqliteConnection, AStatementIsReusableAfterAUseEnds) {
  temp_dir dir;
  auto conn = sqlite_connection::open(dir.file("c.db"), {});
  ASSERT_TRUE(conn.has_value());
  sqlite_connection& db = **conn;
  ASSERT_EQ(db.exec("CREATE TABLE t (v INTEGER PRIMARY KEY)"), SQLITE_OK);
  for (std::int64_t i = 0; i < 3; ++i) {
    auto stmt = db.prepare("INSERT INTO t (v) VALUES (?1)");
    ASSERT_TRUE(stmt);
    EXPECT_EQ(stmt->bind(1, i).run(), SQLITE_OK);
    EXPECT_EQ(db.changes(), 1);
  }
  // Left mid-iteration, a use still resets its statement for the next one.
  for (int round = 0; round < 2; ++round) {
    auto stmt = db.prepare("SELECT v FROM t ORDER BY v");
    ASSERT_TRUE(stmt);
    ASSERT_EQ(stmt->step(), SQLITE_ROW);
    EXPECT_EQ(stmt->column_int64(0), 0);
  }
  auto duplicate = db.prepare("INSERT INTO t (v) VALUES (?1)");
  EXPECT_EQ(duplicate->bind(1, std::int64_t{1}).run() & 0xff, SQLITE_CONSTRAINT);
}

TEST(SqliteConnection, ABadStatementReportsItsError) {
  temp_dir dir;
  auto conn = sqlite_connection::open(dir.file("c.db"), {});
  ASSERT_TRUE(conn.has_value());
  EXPECT_FALSE((*conn)->prepare("SELECT * FROM no_such_table"));
  EXPECT_EQ((*conn)->last_error(), SQLITE_ERROR);
  EXPECT_NE((*conn)->error_message().find("no_such_table"), std::string::npos);
  auto bad_bind = (*conn)->prepare("SELECT ?1");
  ASSERT_TRUE(bad_bind);
  EXPECT_EQ(bad_bind->bind(5, std::int64_t{1}).step(), SQLITE_RANGE);
}

TEST(SqliteConnection, RefusesAFileThatIsNotADatabase) {
  temp_dir dir;
  std::ofstream(dir.file("junk.db")) << std::string(2048, 'j');
  auto conn = sqlite_connection::open(dir.file("junk.db"), {});
  ASSERT_FALSE(conn.has_value());
  EXPECT_NE(conn.error().find("not a database"), std::string::npos) << conn.error();
}

TEST(SqliteConnection, ReadOnlyConnectionsRefuseWrites) {
  temp_dir dir;
  auto writer = sqlite_connection::open(dir.file("c.db"), {});
  ASSERT_TRUE(writer.has_value());
  ASSERT_EQ((*writer)->exec("CREATE TABLE t (v INTEGER)"), SQLITE_OK);
  sqlite_connection::settings s;
  s.read_only = true;
  auto reader = sqlite_connection::open(dir.file("c.db"), s);
  ASSERT_TRUE(reader.has_value()) << reader.error();
  EXPECT_NE((*reader)->exec("INSERT INTO t VALUES (1)"), SQLITE_OK);
  auto count = (*reader)->prepare("SELECT count(*) FROM t");
  ASSERT_TRUE(count);
  ASSERT_EQ(count->step(), SQLITE_ROW);
  EXPECT_EQ(count->column_int64(0), 0);
}

}  // namespace
}  // namespace crud::store

namespace crud::store {
namespace {

TEST(SqliteConnection, SyncsFullyByDefault) {
  // FULL (2) is what makes an acknowledged write survive a power cut in WAL mode; the store's
  // writer opens its connection with these defaults.
  temp_dir dir;
  auto conn = sqlite_connection::open(dir.file("full.db"), sqlite_connection::settings{});
  ASSERT_TRUE(conn.has_value()) << conn.error();
  auto sync = (*conn)->prepare("PRAGMA synchronous");
  ASSERT_TRUE(sync);
  ASSERT_EQ(sync->step(), SQLITE_ROW);
  EXPECT_EQ(sync->column_int64(0), 2);  // FULL
}

}  // namespace
}  // namespace crud::store

namespace crud::store {
namespace {

// A writer and a read-only reader on one database whose table t holds one row, v = 42.
class SqliteSnapshot : public ::testing::Test {
 protected:
  void SetUp() override {
    auto w = sqlite_connection::open(dir_.file("s.db"), {});
    ASSERT_TRUE(w.has_value()) << w.error();
    writer_ = std::move(*w);
    ASSERT_EQ(writer_->exec("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (42)"), SQLITE_OK);
    sqlite_connection::settings s;
    s.read_only = true;
    auto r = sqlite_connection::open(dir_.file("s.db"), s);
    ASSERT_TRUE(r.has_value()) << r.error();
    reader_ = std::move(*r);
  }

  static std::int64_t value(sqlite_connection& db) {
    auto stmt = db.prepare("SELECT v FROM t");
    return stmt && stmt->step() == SQLITE_ROW ? stmt->column_int64(0) : -1;
  }

  raw_db::checkpoint_result checkpoint() const {
    return raw_db(dir_.file("s.db")).passive_checkpoint();
  }

  temp_dir dir_;
  std::unique_ptr<sqlite_connection> writer_;
  std::unique_ptr<sqlite_connection> reader_;
};

TEST_F(SqliteSnapshot, IsKeptAcrossReadsWhileNothingCommits) {
  for (int i = 0; i < 5; ++i) {
    reader_->refresh_snapshot();
    EXPECT_EQ(value(*reader_), 42);
  }
  EXPECT_TRUE(reader_->holds_snapshot());
  EXPECT_TRUE(reader_->in_transaction());
  EXPECT_EQ(reader_->snapshots_begun(), 1u);
}

TEST_F(SqliteSnapshot, AnotherConnectionsCommitMakesTheNextRefreshSeeIt) {
  reader_->refresh_snapshot();
  ASSERT_EQ(value(*reader_), 42);
  ASSERT_EQ(writer_->exec("UPDATE t SET v = 43"), SQLITE_OK);
  // Held: without a refresh, the reader still sees what was there when its snapshot began.
  EXPECT_EQ(value(*reader_), 42);
  reader_->refresh_snapshot();
  EXPECT_EQ(value(*reader_), 43);
  EXPECT_EQ(reader_->snapshots_begun(), 2u);
  // A commit that wrote nothing leaves the snapshot alone.
  ASSERT_EQ(writer_->exec("BEGIN IMMEDIATE; COMMIT"), SQLITE_OK);
  reader_->refresh_snapshot();
  EXPECT_EQ(value(*reader_), 43);
  EXPECT_EQ(reader_->snapshots_begun(), 2u);
}

TEST_F(SqliteSnapshot, HeldItKeepsACheckpointFromTheWalsEndAndEndedItDoesNot) {
  reader_->refresh_snapshot();
  ASSERT_EQ(value(*reader_), 42);
  ASSERT_EQ(writer_->exec("UPDATE t SET v = 43"), SQLITE_OK);
  const auto held = checkpoint();
  ASSERT_GT(held.frames, 0);
  EXPECT_LT(held.copied, held.frames) << "the held snapshot should keep the newest frames";

  reader_->end_snapshot();
  EXPECT_FALSE(reader_->holds_snapshot());
  EXPECT_FALSE(reader_->in_transaction());
  EXPECT_TRUE(checkpoint().reached_the_end());
}

TEST_F(SqliteSnapshot, ASnapshotSqliteEndedAfterAFailureIsBegunAgain) {
  reader_->refresh_snapshot();
  ASSERT_EQ(value(*reader_), 42);
  // Ended behind the connection's back, as SQLite does after some failures; nothing committed
  // since, so only the connection's own state tells that the snapshot is gone.
  ASSERT_EQ(reader_->exec("ROLLBACK"), SQLITE_OK);
  reader_->refresh_snapshot();
  EXPECT_TRUE(reader_->in_transaction());
  EXPECT_EQ(value(*reader_), 42);
  ASSERT_EQ(writer_->exec("UPDATE t SET v = 44"), SQLITE_OK);
  EXPECT_EQ(value(*reader_), 42);  // held again
  EXPECT_EQ(reader_->snapshots_begun(), 2u);
}

}  // namespace
}  // namespace crud::store

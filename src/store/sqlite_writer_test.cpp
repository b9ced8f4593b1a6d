#include "store/sqlite_writer.hpp"

#include <gtest/gtest.h>

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite_connection.hpp"
#include "store/store_error.hpp"
#include "support/sqlite_test_support.hpp"

namespace crud::store {
namespace {

using testing::eventually;
using testing::raw_db;
using testing::temp_dir;

// An operation made of a function, for tests.
class fn_op final : public sqlite_write_op {
 public:
  explicit fn_op(std::function<boost::system::error_code(sqlite_connection&)> fn)
      : fn_(std::move(fn)) {}
  boost::system::error_code execute(sqlite_connection& db) override { return fn_(db); }

 private:
  std::function<boost::system::error_code(sqlite_connection&)> fn_;
};

// Inserts `value` into t, then fails with `outcome` (success when empty).
fn_op insert_op(std::string value, boost::system::error_code outcome = {}) {
  return fn_op([value = std::move(value), outcome](sqlite_connection& db) {
    auto stmt = db.prepare("INSERT INTO t (v) VALUES (?1)");
    if (!stmt || stmt->bind(1, std::string_view(value)).run() != SQLITE_OK) {
      return make_error_code(errc::internal);
    }
    return outcome;
  });
}

class SqliteWriter : public ::testing::Test {
 protected:
  void SetUp() override {
    auto conn = sqlite_connection::open(path_, {});
    ASSERT_TRUE(conn.has_value()) << conn.error();
    ASSERT_EQ((*conn)->exec("CREATE TABLE t (v TEXT PRIMARY KEY)"), SQLITE_OK);
    writer_ = std::make_unique<sqlite_writer>(std::move(*conn), 64);
  }

  long long rows() { return raw_db(path_).scalar("SELECT count(*) FROM t"); }

  // Runs a first operation that blocks inside the writer until `release` is set, so that the
  // next submissions queue up behind it.
  std::thread stall(std::atomic<bool>& release) {
    std::thread t([this, &release] {
      fn_op op([&](sqlite_connection&) {
        while (!release.load()) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        return boost::system::error_code{};
      });
      EXPECT_FALSE(writer_->submit(op));
    });
    EXPECT_TRUE(eventually([&] { return writer_->stats().in_flight == 1; }));
    return t;
  }

  temp_dir dir_;
  std::string path_ = dir_.file("w.db");
  std::unique_ptr<sqlite_writer> writer_;
};

TEST_F(SqliteWriter, AFailedOperationIsRolledBackAlone) {
  auto ok = insert_op("a");
  auto failing = insert_op("b", errc::condition_failed);
  EXPECT_FALSE(writer_->submit(ok));
  EXPECT_EQ(writer_->submit(failing), errc::condition_failed);
  EXPECT_EQ(rows(), 1);  // "b" was inserted, then rolled back with its operation
}

TEST_F(SqliteWriter, QueuedOperationsShareOneCommitAndKeepTheirOwnOutcomes) {
  std::atomic<bool> release{false};
  std::thread first = stall(release);
  const auto before = writer_->stats();
  std::vector<std::thread> threads;
  threads.reserve(16);
  std::vector<boost::system::error_code> outcomes(10);
  for (int i = 0; i < 10; ++i) {
    threads.emplace_back([&, i] {
      // Odd ones fail after writing; their rows must not survive.
      auto op = insert_op(
          std::string("v").append(std::to_string(i)),
          i % 2 == 1 ? make_error_code(errc::already_exists) : boost::system::error_code{});
      outcomes[static_cast<std::size_t>(i)] = writer_->submit(op);
    });
  }
  ASSERT_TRUE(eventually([&] { return writer_->stats().queued == 10; }));
  release = true;
  first.join();
  for (auto& t : threads) {
    t.join();
  }
  for (int i = 0; i < 10; ++i) {
    if (i % 2 == 1) {
      EXPECT_EQ(outcomes[static_cast<std::size_t>(i)], errc::already_exists) << i;
    } else {
      EXPECT_FALSE(outcomes[static_cast<std::size_t>(i)]) << i;
    }
  }
  EXPECT_EQ(writer_->stats().commits - before.commits, 2U);
  EXPECT_EQ(rows(), 5);
}

TEST_F(SqliteWriter, BatchesAreCappedAtMaxBatch) {
  auto conn = sqlite_connection::open(dir_.file("capped.db"), {});
  ASSERT_TRUE(conn.has_value());
  ASSERT_EQ((*conn)->exec("CREATE TABLE t (v TEXT PRIMARY KEY)"), SQLITE_OK);
  writer_ = std::make_unique<sqlite_writer>(std::move(*conn), 3);
  std::atomic<bool> release{false};
  std::thread first = stall(release);
  std::vector<std::thread> threads;
  threads.reserve(16);
  for (int i = 0; i < 7; ++i) {
    threads.emplace_back([&, i] {
      auto op = insert_op(std::string("v").append(std::to_string(i)));
      EXPECT_FALSE(writer_->submit(op));
    });
  }
  ASSERT_TRUE(eventually([&] { return writer_->stats().queued == 7; }));
  release = true;
  first.join();
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(writer_->stats().commits, 4U);  // 1, then 3 + 3 + 1
  EXPECT_EQ(writer_->stats().writes, 8U);
}

TEST_F(SqliteWriter, AnOperationThatThrowsFailsAsInternalAlone) {
  fn_op thrower(
      [](sqlite_connection&) -> boost::system::error_code { throw std::runtime_error("boom"); });
  EXPECT_EQ(writer_->submit(thrower), errc::internal);
  auto ok = insert_op("a");
  EXPECT_FALSE(writer_->submit(ok));
  EXPECT_EQ(rows(), 1);
}

TEST_F(SqliteWriter, LosingTheTransactionFailsTheWholeBatch) {
  std::atomic<bool> release{false};
  std::thread first = stall(release);
  boost::system::error_code good_outcome;
  boost::system::error_code bad_outcome;
  std::thread good([&] {
    auto op = insert_op("kept?");
    good_outcome = writer_->submit(op);
  });
  ASSERT_TRUE(eventually([&] { return writer_->stats().queued == 1; }));
  // Ends the whole transaction from inside, as SQLite itself does after some I/O errors.
  std::thread bad([&] {
    fn_op op([](sqlite_connection& db) {
      db.exec("ROLLBACK");
      return make_error_code(errc::internal);
    });
    bad_outcome = writer_->submit(op);
  });
  ASSERT_TRUE(eventually([&] { return writer_->stats().queued == 2; }));
  release = true;
  first.join();
  good.join();
  bad.join();
  EXPECT_TRUE(good_outcome.failed());
  EXPECT_TRUE(bad_outcome.failed());
  EXPECT_EQ(writer_->stats().failed_batches, 1U);
  EXPECT_EQ(rows(), 0);
  // The writer carries on.
  auto after = insert_op("after");
  EXPECT_FALSE(writer_->submit(after));
  EXPECT_EQ(rows(), 1);
}

TEST_F(SqliteWriter, DestructionWritesEverythingQueued) {
  std::atomic<bool> release{false};
  std::thread first = stall(release);
  std::vector<std::thread> threads;
  threads.reserve(16);
  std::atomic<int> ok{0};
  for (int i = 0; i < 5; ++i) {
    threads.emplace_back([&, i] {
      auto op = insert_op(std::string("v").append(std::to_string(i)));
      if (!writer_->submit(op)) {
        ++ok;
      }
    });
  }
  ASSERT_TRUE(eventually([&] { return writer_->stats().queued == 5; }));
  std::thread destroyer([&] { writer_.reset(); });
  release = true;
  destroyer.join();
  first.join();
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(ok.load(), 5);
  EXPECT_EQ(rows(), 5);
}

}  // namespace
}  // namespace crud::store

#include "store/sqlite_writer.hpp"

#include <gtest/gtest.h>

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <optional>
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
  explicit fn_op(std::function<boost::system::error_code(sqlite_connection&)> fn,
                 bool one_statement = false)
      : fn_(std::move(fn)), one_statement_(one_statement) {}
  boost::system::error_code execute(sqlite_connection& db) override { return fn_(db); }
  bool one_statement() const noexcept override { return one_statement_; }

 private:
  std::function<boost::system::error_code(sqlite_connection&)> fn_;
  bool one_statement_;
};

// Whether a savepoint is open on `db`: only then can one be rolled back to. The writer names
// its savepoints "op".
bool in_savepoint(sqlite_connection& db) {
  return db.exec("ROLLBACK TO op") == SQLITE_OK;
}

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

// Ends the whole transaction from inside, as SQLite itself does after some I/O errors, then
// reports `outcome`.
fn_op transaction_loser(boost::system::error_code outcome = make_error_code(errc::internal)) {
  return fn_op([outcome](sqlite_connection& db) {
    db.exec("ROLLBACK");
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

  struct batch_outcomes {
    boost::system::error_code insert;
    boost::system::error_code op;
  };

  // Queues an insert and then `op` behind a stalled batch, so that both go into the next batch
  // together; what each caller got.
  batch_outcomes batched_after_an_insert(sqlite_write_op& op) {
    std::atomic<bool> release{false};
    std::thread first = stall(release);
    batch_outcomes out;
    std::thread inserter([&] {
      auto insert = insert_op("kept?");
      out.insert = writer_->submit(insert);
    });
    EXPECT_TRUE(eventually([&] { return writer_->stats().queued == 1; }));
    std::thread other([&] { out.op = writer_->submit(op); });
    EXPECT_TRUE(eventually([&] { return writer_->stats().queued == 2; }));
    release = true;
    first.join();
    inserter.join();
    other.join();
    return out;
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

TEST_F(SqliteWriter, OnlyAnOperationOfSeveralStatementsRunsInASavepoint) {
  std::optional<bool> several;
  std::optional<bool> one;
  fn_op several_op([&](sqlite_connection& db) {
    several = in_savepoint(db);
    return boost::system::error_code{};
  });
  fn_op one_op(
      [&](sqlite_connection& db) {
        one = in_savepoint(db);
        return boost::system::error_code{};
      },
      /*one_statement=*/true);
  EXPECT_FALSE(writer_->submit(several_op));
  EXPECT_FALSE(writer_->submit(one_op));
  EXPECT_EQ(several, true);
  EXPECT_EQ(one, false) << "SQLite makes one statement atomic: a savepoint only costs";
}

TEST_F(SqliteWriter, AOneStatementOperationThatThrowsAfterWritingFailsItsWholeBatch) {
  // Without a savepoint its row cannot be undone alone, and must not commit.
  fn_op thrower(
      [](sqlite_connection& db) -> boost::system::error_code {
        (void)db.exec("INSERT INTO t (v) VALUES ('thrown')");
        throw std::runtime_error("boom");
      },
      /*one_statement=*/true);
  const auto outcomes = batched_after_an_insert(thrower);
  EXPECT_TRUE(outcomes.insert.failed());
  EXPECT_TRUE(outcomes.op.failed());
  EXPECT_EQ(writer_->stats().failed_batches, 1U);
  EXPECT_EQ(rows(), 0);
  auto after = insert_op("after");
  EXPECT_FALSE(writer_->submit(after));
  EXPECT_EQ(rows(), 1);
}

TEST_F(SqliteWriter, LosingTheTransactionFailsTheWholeBatch) {
  auto loser = transaction_loser();
  const auto outcomes = batched_after_an_insert(loser);
  EXPECT_TRUE(outcomes.insert.failed());
  EXPECT_TRUE(outcomes.op.failed());
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

// A job made of a function, for tests; `settled` is told the commit's outcome, after `on_settle`
// (if any) has run on the writer thread.
class fn_job final : public write_job {
 public:
  fn_job(std::function<void()> run, std::promise<boost::system::error_code>& settled,
         std::function<void()> on_settle = {})
      : run_(std::move(run)), settled_(settled), on_settle_(std::move(on_settle)) {}
  void run() noexcept override { run_(); }
  void settled(const boost::system::error_code& commit) noexcept override {
    if (on_settle_)
      on_settle_();
    settled_.set_value(commit);
  }

 private:
  std::function<void()> run_;
  std::promise<boost::system::error_code>& settled_;
  std::function<void()> on_settle_;
};

TEST_F(SqliteWriter, AJobsWritesRunInlineEachRolledBackAloneAndSettleOnceDurable) {
  EXPECT_EQ(writer_->inline_connection(), nullptr);  // not the writer thread
  std::promise<boost::system::error_code> settled;
  boost::system::error_code kept;
  boost::system::error_code undone;
  bool had_connection = false;
  long long rows_when_settled = -1;
  EXPECT_EQ(writer_->post(std::make_unique<fn_job>(
                [&] {
                  had_connection = writer_->inline_connection() != nullptr;
                  auto a = insert_op("a");
                  auto b = insert_op("b", errc::condition_failed);
                  kept = writer_->submit(a);  // on the writer thread: at once, or it would hang
                  undone = writer_->submit(b);
                },
                settled,
                // Counted from another connection as the job is settled: the commit is done.
                [&] { rows_when_settled = rows(); })),
            nullptr);
  auto outcome = settled.get_future();
  ASSERT_EQ(outcome.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_FALSE(outcome.get());
  EXPECT_TRUE(had_connection);
  EXPECT_FALSE(kept);
  EXPECT_EQ(undone, errc::condition_failed);
  EXPECT_EQ(rows_when_settled, 1);  // "a" committed; "b" rolled back alone
  EXPECT_EQ(writer_->stats().commits, 1U);
}

TEST_F(SqliteWriter, AJobRunsInNoSavepointOfItsOwn) {
  std::promise<boost::system::error_code> settled;
  std::optional<bool> job_in_savepoint;
  EXPECT_EQ(writer_->post(std::make_unique<fn_job>(
                [&] { job_in_savepoint = in_savepoint(*writer_->inline_connection()); }, settled)),
            nullptr);
  auto outcome = settled.get_future();
  ASSERT_EQ(outcome.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_FALSE(outcome.get());
  // Its store calls are each undone alone, and run() reports no failure of its own to undo.
  EXPECT_EQ(job_in_savepoint, false);
}

TEST_F(SqliteWriter, AJobInAFailedBatchIsSettledWithTheFailureAndLeavesNothing) {
  std::atomic<bool> release{false};
  std::thread first = stall(release);
  std::promise<boost::system::error_code> settled;
  boost::system::error_code inline_outcome;
  EXPECT_EQ(writer_->post(std::make_unique<fn_job>(
                [&] {
                  auto op = insert_op("job");
                  inline_outcome = writer_->submit(op);
                },
                settled)),
            nullptr);
  ASSERT_TRUE(eventually([&] { return writer_->stats().queued == 1; }));
  boost::system::error_code bad_outcome;
  std::thread bad([&] {
    auto op = transaction_loser();
    bad_outcome = writer_->submit(op);
  });
  ASSERT_TRUE(eventually([&] { return writer_->stats().queued == 2; }));
  release = true;
  first.join();
  bad.join();
  auto outcome = settled.get_future();
  ASSERT_EQ(outcome.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_FALSE(inline_outcome);         // its own write went in...
  EXPECT_TRUE(outcome.get().failed());  // ...and went with the batch
  EXPECT_TRUE(bad_outcome.failed());
  EXPECT_EQ(rows(), 0);
}

TEST_F(SqliteWriter, AJobAfterTheTransactionIsLostWritesNothingOutsideIt) {
  std::promise<boost::system::error_code> settled;
  boost::system::error_code after_loss;
  EXPECT_EQ(writer_->post(std::make_unique<fn_job>(
                [&] {
                  auto lose = transaction_loser({});
                  (void)writer_->submit(lose);
                  // Outside a transaction, this would commit on its own.
                  auto op = insert_op("stray");
                  after_loss = writer_->submit(op);
                },
                settled)),
            nullptr);
  auto outcome = settled.get_future();
  ASSERT_EQ(outcome.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_TRUE(after_loss.failed());
  EXPECT_TRUE(outcome.get().failed());
  EXPECT_EQ(rows(), 0);
}

TEST_F(SqliteWriter, AStoppingWriterGivesJobsBackAndSettlesThoseItTook) {
  std::atomic<bool> release{false};
  std::thread first = stall(release);
  // The destructor waits for the stalled batch, so the writer outlives the loop below.
  sqlite_writer* writer = writer_.get();
  std::thread destroyer([&] { writer_.reset(); });
  // Until the destructor has marked the writer stopping, jobs are taken (and settled below).
  std::vector<std::unique_ptr<std::promise<boost::system::error_code>>> taken;
  std::unique_ptr<write_job> given_back;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!given_back && std::chrono::steady_clock::now() < deadline) {
    auto promise = std::make_unique<std::promise<boost::system::error_code>>();
    given_back = writer->post(std::make_unique<fn_job>([] {}, *promise));
    if (!given_back)
      taken.push_back(std::move(promise));
  }
  EXPECT_NE(given_back, nullptr);
  release = true;
  destroyer.join();
  first.join();
  for (auto& p : taken) {
    auto f = p->get_future();
    ASSERT_EQ(f.wait_for(std::chrono::seconds(0)), std::future_status::ready);
    EXPECT_FALSE(f.get());
  }
}

// A writer of its own whose tidy counts its runs.
struct tidy_counter {
  explicit tidy_counter(const std::string& path, std::chrono::milliseconds every) {
    auto conn = sqlite_connection::open(path, {});
    EXPECT_TRUE(conn.has_value());
    writer = std::make_unique<sqlite_writer>(
        std::move(*conn), 64, [this] { ++runs; }, every);
  }
  std::atomic<int> runs{0};
  std::unique_ptr<sqlite_writer> writer;
};

TEST_F(SqliteWriter, TidyRunsAfterEachCommitOnceItsWritersHeardBack) {
  tidy_counter t(path_, std::chrono::hours(1));
  auto op = insert_op("a");
  ASSERT_FALSE(t.writer->submit(op));
  EXPECT_TRUE(eventually([&] { return t.runs.load() == 1; }));
  auto again = insert_op("b");
  ASSERT_FALSE(t.writer->submit(again));
  EXPECT_TRUE(eventually([&] { return t.runs.load() == 2; }));
}

TEST_F(SqliteWriter, TidyRunsWhileThereIsNothingToWriteAndNeverAfterStop) {
  tidy_counter t(path_, std::chrono::milliseconds(5));
  EXPECT_TRUE(eventually([&] { return t.runs.load() >= 3; }));
  t.writer->stop();
  const int after_stop = t.runs.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(t.runs.load(), after_stop);
  auto op = insert_op("late");
  EXPECT_EQ(t.writer->submit(op), errc::unavailable);
}

TEST_F(SqliteWriter, ANonPositiveTidyPeriodDoesNotSpin) {
  tidy_counter t(path_, std::chrono::milliseconds(0));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  // One run a millisecond at most: a writer that spun would have run it thousands of times.
  EXPECT_LE(t.runs.load(), 60);
}

}  // namespace
}  // namespace crud::store

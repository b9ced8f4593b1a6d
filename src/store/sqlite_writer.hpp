#pragma once
// Group commit for the SQLite store. SQLite allows one writer at a time and a durable commit
// costs an fsync, so every write goes to one writer thread. It drains its queue and folds every
// pending write (up to `max_batch`) into one BEGIN IMMEDIATE ... COMMIT transaction. A write that
// fails is undone alone and the others still commit: by SQLite's own atomicity when it is one
// statement, else by a SAVEPOINT of its own.
// Callers block until the commit holding their write is durable, so many concurrent writers
// share one fsync. Batches form by themselves: whatever queues up during one commit goes into
// the next, so a lone writer never waits for company.
//
// Because the writer thread is the only one that writes, a read-modify-write inside one
// operation is atomic without further locking.
//
// A caller that must not block posts a write_job instead: the writer runs it in the batch like
// any write, and tells it how the commit went once it is over. While a job runs, the store's
// calls on the writer thread run at once on the batch's transaction (inline_connection()).

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/system/error_code.hpp>

#include "store/item_store.hpp"
#include "store/sqlite_stats.hpp"

namespace crud::store {

class sqlite_connection;

// One write. execute() runs on the writer thread inside the batch's transaction; a failure it
// returns rolls back what it did and is what its caller gets.
class sqlite_write_op {
 public:
  virtual ~sqlite_write_op() = default;
  virtual boost::system::error_code execute(sqlite_connection& db) = 0;
  // True when execute() changes the database with at most one statement and fails only when
  // that statement changed nothing. SQLite makes each statement atomic, so such an op needs no
  // savepoint of its own, nor the page copies a savepoint costs (decision 29).
  virtual bool one_statement() const noexcept { return false; }
};

class sqlite_writer {
 public:
  // Takes the write connection; the thread starts at once. `tidy` runs on the writer thread
  // after each commit, once its writers have heard back, and after every `tidy_every` (1 ms at
  // the least) without a write. The store ends its readers' idle snapshots with it.
  sqlite_writer(std::unique_ptr<sqlite_connection> db, std::size_t max_batch,
                std::function<void()> tidy = {},
                std::chrono::milliseconds tidy_every = std::chrono::seconds(1));
  sqlite_writer(const sqlite_writer&) = delete;
  sqlite_writer& operator=(const sqlite_writer&) = delete;
  // Finishes every queued write, stops the thread and closes the connection.
  ~sqlite_writer();
  // Finishes every queued write and stops the thread, leaving the connection open until
  // destruction; later writes are refused. After it returns, `tidy` never runs again.
  void stop() noexcept;

  // Blocks until `op` has run and its batch is committed (then it is op's own outcome) or has
  // failed (then every operation of the batch gets the batch's failure).
  boost::system::error_code submit(sqlite_write_op& op);

  // Queues `job` and returns at once; the writer runs it in a batch and then settles it. Gives
  // the job back when the writer is stopping.
  std::unique_ptr<write_job> post(std::unique_ptr<write_job> job);

  // On the writer thread while it runs one of this writer's jobs: the connection, inside the
  // batch's transaction. Otherwise null.
  sqlite_connection* inline_connection() const noexcept;

  sqlite_write_stats stats() const;

 private:
  struct entry;
  struct ticket;
  struct posted_job;
  bool enqueue(std::shared_ptr<entry> e);
  static boost::system::error_code run_inline(sqlite_write_op& op, sqlite_connection& db);
  void run();
  void run_batch(const std::vector<std::shared_ptr<entry>>& batch);

  std::unique_ptr<sqlite_connection> db_;
  const std::size_t max_batch_;
  const std::function<void()> tidy_;
  const std::chrono::milliseconds tidy_every_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<entry>> queue_;
  bool stopping_ = false;
  sqlite_write_stats stats_;

  std::thread thread_;  // last: it starts once everything above exists
};

}  // namespace crud::store

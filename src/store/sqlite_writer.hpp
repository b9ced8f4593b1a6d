#pragma once
// Group commit for the SQLite store. SQLite allows one writer at a time and a durable commit
// costs an fsync, so every write goes to one writer thread. It drains its queue and folds every
// pending write (up to `max_batch`) into one BEGIN IMMEDIATE ... COMMIT transaction, each write
// inside its own SAVEPOINT: a write that fails is rolled back alone and the others still commit.
// Callers block until the commit holding their write is durable, so many concurrent writers
// share one fsync. Batches form by themselves: whatever queues up during one commit goes into
// the next, so a lone writer never waits for company.
//
// Because the writer thread is the only one that writes, a read-modify-write inside one
// operation is atomic without further locking.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/system/error_code.hpp>

#include "store/sqlite_stats.hpp"

namespace crud::store {

class sqlite_connection;

// One write. execute() runs on the writer thread inside the batch's transaction; a failure it
// returns rolls back what it did and is what its caller gets.
class sqlite_write_op {
 public:
  virtual ~sqlite_write_op() = default;
  virtual boost::system::error_code execute(sqlite_connection& db) = 0;
};

class sqlite_writer {
 public:
  // Takes the write connection; the thread starts at once.
  sqlite_writer(std::unique_ptr<sqlite_connection> db, std::size_t max_batch);
  sqlite_writer(const sqlite_writer&) = delete;
  sqlite_writer& operator=(const sqlite_writer&) = delete;
  // Finishes every queued write, stops the thread and closes the connection.
  ~sqlite_writer();

  // Blocks until `op` has run and its batch is committed (then it is op's own outcome) or has
  // failed (then every operation of the batch gets the batch's failure).
  boost::system::error_code submit(sqlite_write_op& op);

  sqlite_write_stats stats() const;

 private:
  struct ticket;
  void run();
  void run_batch(const std::vector<std::shared_ptr<ticket>>& batch);

  std::unique_ptr<sqlite_connection> db_;
  const std::size_t max_batch_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<ticket>> queue_;
  bool stopping_ = false;
  sqlite_write_stats stats_;

  std::thread thread_;  // last: it starts once everything above exists
};

}  // namespace crud::store

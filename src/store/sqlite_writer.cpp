#include "store/sqlite_writer.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <vector>

#include "store/sqlite_connection.hpp"
#include "store/store_error.hpp"

namespace crud::store {

// A caller's place in the queue. The caller and the writer share it, so the writer can still
// be inside notify_one() when the caller, already woken, returns: nothing is freed under it.
struct sqlite_writer::ticket {
  explicit ticket(sqlite_write_op& o) : op(&o) {}
  sqlite_write_op* op;
  boost::system::error_code outcome;  // the writer's until `done`, then the caller's
  std::mutex mutex;
  std::condition_variable ready;
  bool done = false;

  void finish(boost::system::error_code ec) {
    {
      std::lock_guard lock(mutex);
      outcome = ec;
      done = true;
    }
    ready.notify_one();
  }

  boost::system::error_code wait() {
    std::unique_lock lock(mutex);
    ready.wait(lock, [&] { return done; });
    return outcome;
  }
};

sqlite_writer::sqlite_writer(std::unique_ptr<sqlite_connection> db, std::size_t max_batch)
    : db_(std::move(db)),
      max_batch_(std::max<std::size_t>(max_batch, 1)),
      thread_([this] { run(); }) {}

sqlite_writer::~sqlite_writer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
  db_.reset();
}

boost::system::error_code sqlite_writer::submit(sqlite_write_op& op) {
  auto t = std::make_shared<ticket>(op);
  bool was_empty = false;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      return errc::unavailable;
    }
    was_empty = queue_.empty();
    queue_.push_back(t);
    ++stats_.queued;
  }
  // The writer sleeps only on an empty queue; otherwise it will look at the queue again anyway.
  if (was_empty) {
    wake_.notify_one();
  }
  return t->wait();
}

sqlite_write_stats sqlite_writer::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void sqlite_writer::run() {
  // Reserved once, so that taking a batch never allocates.
  std::vector<std::shared_ptr<ticket>> batch;
  batch.reserve(max_batch_);
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) {
        return;  // stopping, and everything queued has been written
      }
      const std::size_t n = std::min(queue_.size(), max_batch_);
      const auto end = queue_.begin() + static_cast<std::ptrdiff_t>(n);
      batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(end));
      queue_.erase(queue_.begin(), end);
      stats_.queued -= n;
      stats_.in_flight = n;
    }
    run_batch(batch);
    batch.clear();
    std::lock_guard lock(mutex_);
    stats_.in_flight = 0;
  }
}

void sqlite_writer::run_batch(const std::vector<std::shared_ptr<ticket>>& batch) {
  sqlite_connection& db = *db_;
  // Every ticket of a failed batch gets the same failure; nothing of the batch was written.
  auto fail_all = [&](int rc) {
    const boost::system::error_code ec = map_sqlite_error(rc);
    if (db.in_transaction()) {
      db.exec("ROLLBACK");
    }
    {
      std::lock_guard lock(mutex_);
      ++stats_.failed_batches;
    }
    for (const auto& t : batch) {
      t->finish(ec);
    }
  };
  // Runs one of the fixed transaction-control statements (cached like any other).
  auto control = [&](const char* sql) {
    auto stmt = db.prepare(sql);
    return stmt ? stmt->run() : db.last_error();
  };

  if (const int rc = control("BEGIN IMMEDIATE"); rc != SQLITE_OK) {
    fail_all(rc);
    return;
  }
  for (const auto& t : batch) {
    if (const int rc = control("SAVEPOINT op"); rc != SQLITE_OK) {
      fail_all(rc);
      return;
    }
    try {
      t->outcome = t->op->execute(db);
    } catch (...) {
      t->outcome = errc::internal;
    }
    if (!db.in_transaction()) {
      // Some failures (disk full, I/O errors) make SQLite roll the whole transaction back
      // itself, taking the batch's earlier writes with it.
      fail_all(SQLITE_IOERR);
      return;
    }
    int rc = SQLITE_OK;
    if (t->outcome) {
      rc = control("ROLLBACK TO op");
    }
    if (rc == SQLITE_OK) {
      rc = control("RELEASE op");
    }
    if (rc != SQLITE_OK) {
      fail_all(rc);
      return;
    }
  }
  if (const int rc = control("COMMIT"); rc != SQLITE_OK) {
    fail_all(rc);
    return;
  }
  {
    std::lock_guard lock(mutex_);
    ++stats_.commits;
    stats_.writes += batch.size();
  }
  for (const auto& t : batch) {
    t->finish(t->outcome);
  }
}

}  // namespace crud::store

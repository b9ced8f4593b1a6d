#include "store/sqlite_writer.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <vector>

#include "store/sqlite_connection.hpp"
#include "store/store_error.hpp"

namespace crud::store {

namespace {

// The writer whose job the current thread is running, if any (inline_connection()).
thread_local const sqlite_writer* running_job_of = nullptr;

// Runs one transaction-control statement (cached like any other).
int control(sqlite_connection& db, const char* sql) {
  auto stmt = db.prepare(sql);
  return stmt ? stmt->run() : db.last_error();
}

struct savepoint_outcome {
  boost::system::error_code outcome;  // the write's own
  int rc = SQLITE_OK;  // the savepoint's; SQLITE_IOERR when the transaction itself is gone
};

// Runs one write so that a write that fails is undone alone: in a savepoint of its own (nested
// in any already open), or, without `savepoint`, by SQLite's own statement atomicity. Some
// failures (disk full, I/O errors) make SQLite roll the whole transaction back itself, taking
// every earlier write with it: then rc says so.
template <class F>
savepoint_outcome run_undoably(sqlite_connection& db, bool savepoint, F execute) {
  savepoint_outcome out;
  if (savepoint) {
    if (out.rc = control(db, "SAVEPOINT op"); out.rc != SQLITE_OK) {
      return out;
    }
  }
  try {
    out.outcome = execute();
  } catch (...) {
    out.outcome = errc::internal;
    // With no savepoint, what it wrote before throwing cannot be undone alone: the whole
    // batch goes, so that a failure still means nothing was written.
    if (!savepoint && db.in_transaction()) {
      db.exec("ROLLBACK");
    }
  }
  if (!db.in_transaction()) {
    out.rc = SQLITE_IOERR;
    return out;
  }
  if (!savepoint) {
    return out;
  }
  if (out.outcome) {
    out.rc = control(db, "ROLLBACK TO op");
  }
  if (out.rc == SQLITE_OK) {
    out.rc = control(db, "RELEASE op");
  }
  return out;
}

}  // namespace

// One write in the queue: what to run inside the batch, and whom to tell how it went.
struct sqlite_writer::entry {
  virtual ~entry() = default;
  // On the writer thread, inside the batch's transaction, and in a savepoint of its own when it
  // needs one.
  virtual boost::system::error_code execute(sqlite_writer& writer, sqlite_connection& db) = 0;
  virtual bool needs_savepoint() const noexcept = 0;
  // Once the batch is over: op's own outcome when it committed, else the batch's failure.
  virtual void finish(boost::system::error_code ec) noexcept = 0;
  boost::system::error_code outcome;
};

// A blocked caller's place in the queue. The caller and the writer share it, so the writer can
// still be inside notify_one() when the caller, already woken, returns: nothing is freed under
// it.
struct sqlite_writer::ticket final : entry {
  explicit ticket(sqlite_write_op& o) : op(&o) {}
  sqlite_write_op* op;
  boost::system::error_code result;  // the writer's until `done`, then the caller's
  std::mutex mutex;
  std::condition_variable ready;
  bool done = false;

  boost::system::error_code execute(sqlite_writer&, sqlite_connection& db) override {
    return op->execute(db);
  }
  bool needs_savepoint() const noexcept override { return !op->one_statement(); }

  void finish(boost::system::error_code ec) noexcept override {
    {
      std::lock_guard lock(mutex);
      result = ec;
      done = true;
    }
    ready.notify_one();
  }

  boost::system::error_code wait() {
    std::unique_lock lock(mutex);
    ready.wait(lock, [&] { return done; });
    return result;
  }
};

// A job: its writes go through the store's calls, which run inline while it runs, each undone
// alone when it fails. Nothing of it fails as a whole but the batch (run() reports nothing), so
// it needs no savepoint around them all.
struct sqlite_writer::posted_job final : entry {
  explicit posted_job(std::unique_ptr<write_job> j) : job(std::move(j)) {}
  std::unique_ptr<write_job> job;

  boost::system::error_code execute(sqlite_writer& writer, sqlite_connection&) override {
    running_job_of = &writer;
    job->run();
    running_job_of = nullptr;
    return {};
  }
  bool needs_savepoint() const noexcept override { return false; }

  void finish(boost::system::error_code ec) noexcept override { job->settled(ec); }
};

sqlite_writer::sqlite_writer(std::unique_ptr<sqlite_connection> db, std::size_t max_batch,
                             std::function<void()> tidy, std::chrono::milliseconds tidy_every)
    : db_(std::move(db)),
      max_batch_(std::max<std::size_t>(max_batch, 1)),
      tidy_(std::move(tidy)),
      // At least a millisecond, so that an idle writer never spins.
      tidy_every_(std::max(tidy_every, std::chrono::milliseconds(1))),
      thread_([this] { run(); }) {}

sqlite_writer::~sqlite_writer() {
  stop();
  db_.reset();
}

void sqlite_writer::stop() noexcept {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) {
    thread_.join();
  }
}

bool sqlite_writer::enqueue(std::shared_ptr<entry> e) {
  bool was_empty = false;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      return false;
    }
    was_empty = queue_.empty();
    queue_.push_back(std::move(e));
    ++stats_.queued;
  }
  // The writer sleeps only on an empty queue; otherwise it will look at the queue again anyway.
  if (was_empty) {
    wake_.notify_one();
  }
  return true;
}

boost::system::error_code sqlite_writer::submit(sqlite_write_op& op) {
  // A store call made by a job on this thread: the batch's transaction is open right here, and
  // queueing would wait for the writer, which is this thread.
  if (sqlite_connection* db = inline_connection()) {
    return run_inline(op, *db);
  }
  auto t = std::make_shared<ticket>(op);
  if (!enqueue(t)) {
    return errc::unavailable;
  }
  return t->wait();
}

std::unique_ptr<write_job> sqlite_writer::post(std::unique_ptr<write_job> job) {
  std::shared_ptr<posted_job> e;
  try {
    e = std::make_shared<posted_job>(std::move(job));
  } catch (...) {
    return job;  // not moved from: make_shared failed before constructing
  }
  if (!enqueue(e)) {
    return std::move(e->job);
  }
  return nullptr;
}

sqlite_connection* sqlite_writer::inline_connection() const noexcept {
  return running_job_of == this ? db_.get() : nullptr;
}

// Like a write of the batch: a failure undoes this write alone.
boost::system::error_code sqlite_writer::run_inline(sqlite_write_op& op, sqlite_connection& db) {
  // A failure earlier in the job (an I/O error, say) may have ended the batch's transaction;
  // outside one, SAVEPOINT would begin a transaction of its own. The writer fails the batch.
  if (!db.in_transaction()) {
    return map_sqlite_error(SQLITE_IOERR);
  }
  const auto done = run_undoably(db, !op.one_statement(), [&] { return op.execute(db); });
  return done.rc == SQLITE_OK ? done.outcome : map_sqlite_error(done.rc);
}

sqlite_write_stats sqlite_writer::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void sqlite_writer::run() {
  // Reserved once, so that taking a batch never allocates.
  std::vector<std::shared_ptr<entry>> batch;
  batch.reserve(max_batch_);
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      const auto woken = [&] { return stopping_ || !queue_.empty(); };
      if (!tidy_) {
        wake_.wait(lock, woken);
      } else {
        while (!wake_.wait_for(lock, tidy_every_, woken)) {
          lock.unlock();
          tidy_();
          lock.lock();
        }
      }
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
    run_batch(batch);  // it also zeroes in_flight, before anyone hears back
    batch.clear();
  }
}

void sqlite_writer::run_batch(const std::vector<std::shared_ptr<entry>>& batch) {
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
      stats_.in_flight = 0;
    }
    for (const auto& t : batch) {
      t->finish(ec);
    }
  };
  auto control = [&](const char* sql) { return store::control(db, sql); };

  if (const int rc = control("BEGIN IMMEDIATE"); rc != SQLITE_OK) {
    fail_all(rc);
    return;
  }
  for (const auto& t : batch) {
    const auto done = run_undoably(db, t->needs_savepoint(), [&] { return t->execute(*this, db); });
    t->outcome = done.outcome;
    if (done.rc != SQLITE_OK) {
      fail_all(done.rc);
      return;
    }
  }
  if (const int rc = control("COMMIT"); rc != SQLITE_OK) {
    fail_all(rc);
    return;
  }
  {
    // Before the callers hear back, so that what stats() says once a write has returned
    // counts that write's commit.
    std::lock_guard lock(mutex_);
    ++stats_.commits;
    stats_.writes += batch.size();
    stats_.in_flight = 0;
  }
  for (const auto& t : batch) {
    t->finish(t->outcome);
  }
  if (tidy_) {
    tidy_();
  }
}

}  // namespace crud::store

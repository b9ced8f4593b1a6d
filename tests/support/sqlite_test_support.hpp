#pragma once
// Helpers for the SQLite store's tests: a temporary folder removed afterwards, a deterministic
// random_source, a bounded wait for a condition another thread brings about, and a second
// connection that holds the database's write lock to stall the store's writer.

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <span>
#include <string>
#include <thread>

#include "core/random_source.hpp"
#include "support/temp_dir.hpp"

namespace crud::store::testing {

// The shared one; the store's tests name it from here.
using test_support::temp_dir;

// Fills every request with `byte` and counts the requests.
class fixed_random final : public core::random_source {
 public:
  explicit fixed_random(unsigned char byte = 0x5a) : byte_(byte) {}
  void fill(std::span<std::byte> out) override {
    std::fill(out.begin(), out.end(), static_cast<std::byte>(byte_));
    ++calls_;
  }
  int calls() const { return calls_; }

 private:
  unsigned char byte_;
  std::atomic<int> calls_{0};
};

// Polls `done` until it holds; false after a generous bound, so a broken test fails instead
// of hanging.
template <class F>
bool eventually(F done) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// A raw connection to the same file, for holding the write lock and for looking behind the
// store's back.
class raw_db {
 public:
  explicit raw_db(const std::string& path) { sqlite3_open(path.c_str(), &db_); }
  raw_db(const raw_db&) = delete;
  raw_db& operator=(const raw_db&) = delete;
  ~raw_db() { sqlite3_close(db_); }

  int exec(const char* sql) { return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr); }
  // The first column of the first row, as an integer (-1 when there is no row or on error).
  long long scalar(const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    long long value = -1;
    if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      value = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    return value;
  }
  // A passive checkpoint: the frames in the WAL, and how many of them it copied back into the
  // database. It copies them all only when no reader holds a snapshot older than the last
  // commit.
  struct checkpoint_result {
    long long frames = -1;
    long long copied = -1;
    bool reached_the_end() const { return frames > 0 && copied == frames; }
  };
  checkpoint_result passive_checkpoint() {
    sqlite3_stmt* stmt = nullptr;
    checkpoint_result r;
    if (sqlite3_prepare_v2(db_, "PRAGMA wal_checkpoint(PASSIVE)", -1, &stmt, nullptr) ==
            SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_int64(stmt, 0) == 0) {
      r.frames = sqlite3_column_int64(stmt, 1);
      r.copied = sqlite3_column_int64(stmt, 2);
    }
    sqlite3_finalize(stmt);
    return r;
  }
  std::string text(const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    std::string value;
    if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      const auto* p = sqlite3_column_text(stmt, 0);
      value = p != nullptr ? reinterpret_cast<const char*>(p) : "";
    }
    sqlite3_finalize(stmt);
    return value;
  }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace crud::store::testing

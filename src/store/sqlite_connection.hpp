#pragma once
// One SQLite connection and its cache of prepared statements, for the SQLite store's own use.
// A connection belongs to one thread at a time (the writer thread, or a reader that leased it
// from the pool), so it is opened without SQLite's per-connection mutex. Statements are prepared
// once per connection and reused: data is only ever bound, never spliced into SQL text.
//
// Failures are SQLite result codes here; `map_sqlite_error` turns them into store errors, and
// `error_message` keeps the detail for whoever logs it.

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

// SQLite's own handles, forward-declared so that this header does not pull in sqlite3.h.
struct sqlite3;
struct sqlite3_stmt;

namespace crud::store {

// Busy or locked (after the busy timeout) is worth retrying later: `unavailable`. Anything else
// is `internal`.
boost::system::error_code map_sqlite_error(int rc) noexcept;

// A use of a cached statement: bind parameters (1-based), step, read columns (0-based). It is
// reset and its bindings cleared when the use ends, so the statement is ready for the next one.
// Text and blobs are bound without copying: they must outlive the use.
class sqlite_statement {
 public:
  sqlite_statement(sqlite_statement&& other) noexcept;
  sqlite_statement& operator=(sqlite_statement&&) = delete;
  sqlite_statement(const sqlite_statement&) = delete;
  sqlite_statement& operator=(const sqlite_statement&) = delete;
  ~sqlite_statement();

  sqlite_statement& bind(int index, std::int64_t value) noexcept;
  sqlite_statement& bind(int index, std::optional<std::int64_t> value) noexcept;
  sqlite_statement& bind(int index, std::string_view text) noexcept;
  sqlite_statement& bind_blob(int index, std::string_view bytes) noexcept;

  // SQLITE_ROW, SQLITE_DONE, or the failure (including the first failed bind).
  int step() noexcept;
  // Steps to the end of a statement that returns no rows: SQLITE_OK or the failure.
  int run() noexcept;

  bool column_is_null(int index) const noexcept;
  std::int64_t column_int64(int index) const noexcept;
  std::string column_text(int index) const;  // text or blob, byte for byte

 private:
  friend class sqlite_connection;
  // `in_use` is the cache's flag for this statement, cleared when the use ends; without one
  // the statement is this use's own and is finalized at the end.
  sqlite_statement(sqlite3_stmt* stmt, bool* in_use) noexcept : stmt_(stmt), in_use_(in_use) {}
  void record(int rc) noexcept;

  sqlite3_stmt* stmt_;
  bool* in_use_;
  int bind_error_ = 0;
};

class sqlite_connection {
 public:
  struct settings {
    bool synchronous_full = true;
    int busy_timeout_ms = 5000;
    bool read_only = false;  // refuses writes (PRAGMA query_only)
    std::string vfs;         // a registered SQLite VFS by name; empty for the default
  };

  // Opens (creating the file if needed), switches to WAL and applies `s`. The error is
  // SQLite's message.
  static boost::system::result<std::unique_ptr<sqlite_connection>, std::string> open(
      const std::string& path, const settings& s);

  sqlite_connection(const sqlite_connection&) = delete;
  sqlite_connection& operator=(const sqlite_connection&) = delete;
  ~sqlite_connection();

  // The cached statement for `sql` (prepared on first use). `sql` must be one statement.
  // While one use of it is open, another gets a statement of its own. Returns nullopt on
  // failure (see last_error/error_message).
  std::optional<sqlite_statement> prepare(std::string_view sql);
  // The SQLite code of the last failed prepare, or of the connection's last failure.
  int last_error() const noexcept { return last_error_; }

  // Runs SQL text without parameters (schema, pragmas), possibly several statements.
  int exec(const char* sql) noexcept;

  // Rows changed by the last INSERT, UPDATE or DELETE on this connection.
  std::int64_t changes() const noexcept;
  // Whether a transaction is open (SQLite may roll one back by itself after some failures).
  bool in_transaction() const noexcept;
  std::string error_message() const;

  // A read connection's snapshot, held across reads (decision 30). Beginning and ending a read
  // transaction each take a lock on the WAL index, a system call under a process-wide mutex, and
  // that was the largest cost of a GET. So a reader keeps its transaction open for as long as
  // no commit has happened since it began, by any connection in any process: the WAL index's
  // header, which every commit rewrites, tells. Call before each read: it keeps the snapshot
  // when the header is unchanged, and otherwise ends it and begins one that sees every commit
  // made so far. Without a WAL index to read (a VFS without shared memory), every statement
  // runs in its own transaction, as SQLite does by default.
  void refresh_snapshot() noexcept;
  // Ends a held snapshot, so that it no longer keeps checkpoints from the WAL's newer frames.
  void end_snapshot() noexcept;
  bool holds_snapshot() const noexcept { return holding_; }
  // Snapshots begun so far, for tests.
  std::uint64_t snapshots_begun() const noexcept { return snapshots_begun_; }

 private:
  explicit sqlite_connection(sqlite3* db) noexcept : db_(db) {}

  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };

  sqlite3* db_;
  struct cached {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };
  // Node-based, so the `in_use` flags that uses point at never move.
  std::unordered_map<std::string, cached, string_hash, std::equal_to<>> statements_;
  int last_error_ = 0;

  // The WAL index's first header copy, mapped by SQLite (null until mapped or without one),
  // and its words when the held snapshot began.
  static constexpr std::size_t wal_header_words = 12;
  const volatile std::uint32_t* wal_index_ = nullptr;
  std::array<std::uint32_t, wal_header_words> snapshot_header_{};
  bool holding_ = false;
  std::uint64_t snapshots_begun_ = 0;
};

}  // namespace crud::store

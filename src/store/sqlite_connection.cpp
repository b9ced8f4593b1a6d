#include "store/sqlite_connection.hpp"

#include <sqlite3.h>

#include <atomic>
#include <mutex>
#include <utility>

#include "store/store_error.hpp"

namespace crud::store {

boost::system::error_code map_sqlite_error(int rc) noexcept {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return errc::unavailable;
    default:
      return errc::internal;
  }
}

namespace {
// SQLite binds NULL for a null pointer, but an empty string_view may have one: an empty value
// must stay an empty value.
const char* non_null(std::string_view s) noexcept {
  return s.data() != nullptr ? s.data() : "";
}
}  // namespace

sqlite_statement::sqlite_statement(sqlite_statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      in_use_(std::exchange(other.in_use_, nullptr)),
      bind_error_(other.bind_error_) {}

sqlite_statement::~sqlite_statement() {
  if (stmt_ == nullptr) {
    return;
  }
  if (in_use_ == nullptr) {
    sqlite3_finalize(stmt_);
    return;
  }
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  *in_use_ = false;
}

void sqlite_statement::record(int rc) noexcept {
  if (rc != SQLITE_OK && bind_error_ == 0) {
    bind_error_ = rc;
  }
}

sqlite_statement& sqlite_statement::bind(int index, std::int64_t value) noexcept {
  record(sqlite3_bind_int64(stmt_, index, value));
  return *this;
}

sqlite_statement& sqlite_statement::bind(int index, std::optional<std::int64_t> value) noexcept {
  if (value) {
    return bind(index, *value);
  }
  record(sqlite3_bind_null(stmt_, index));
  return *this;
}

sqlite_statement& sqlite_statement::bind(int index, std::string_view text) noexcept {
  record(
      sqlite3_bind_text64(stmt_, index, non_null(text), text.size(), SQLITE_STATIC, SQLITE_UTF8));
  return *this;
}

sqlite_statement& sqlite_statement::bind_blob(int index, std::string_view bytes) noexcept {
  record(sqlite3_bind_blob64(stmt_, index, non_null(bytes), bytes.size(), SQLITE_STATIC));
  return *this;
}

int sqlite_statement::step() noexcept {
  if (bind_error_ != 0) {
    return bind_error_;
  }
  return sqlite3_step(stmt_);
}

int sqlite_statement::run() noexcept {
  int rc = step();
  while (rc == SQLITE_ROW) {
    rc = sqlite3_step(stmt_);
  }
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

bool sqlite_statement::column_is_null(int index) const noexcept {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

std::int64_t sqlite_statement::column_int64(int index) const noexcept {
  return sqlite3_column_int64(stmt_, index);
}

std::string sqlite_statement::column_text(int index) const {
  // The blob accessor hands back text unconverted too; it must be called before the size.
  const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt_, index));
  const int size = sqlite3_column_bytes(stmt_, index);
  if (data == nullptr || size <= 0) {
    return {};
  }
  return {data, static_cast<std::size_t>(size)};
}

namespace {

// SQLite counts every allocation and free under one process-wide mutex unless told not to
// (SQLITE_CONFIG_MEMSTATUS), and the server's I/O threads then queue on it several times per
// read: it was a third of the futex calls a GET made. Nothing here reads those counts. The
// setting must come before SQLite initializes, which the first open (or a VFS registration)
// does; said later, SQLite refuses it and nothing changes. Like every sqlite3_config call, it
// must not race other SQLite calls: the first open of a process comes before any other thread
// uses SQLite.
void configure_sqlite_once() {
  static std::once_flag once;
  std::call_once(once, [] { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

}  // namespace

boost::system::result<std::unique_ptr<sqlite_connection>, std::string> sqlite_connection::open(
    const std::string& path, const settings& s) {
  configure_sqlite_once();
  sqlite3* raw = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, flags, s.vfs.empty() ? nullptr : s.vfs.c_str());
  if (raw == nullptr) {
    return std::string(sqlite3_errstr(rc));
  }
  std::unique_ptr<sqlite_connection> conn(new sqlite_connection(raw));
  if (rc != SQLITE_OK) {
    return conn->error_message();
  }
  sqlite3_busy_timeout(raw, s.busy_timeout_ms);
  sqlite3_extended_result_codes(raw, 1);

  // The journal mode is a property of the file: setting it once is enough, but reading it back
  // is the only way to learn that WAL took (it cannot on some file systems).
  {
    auto stmt = conn->prepare("PRAGMA journal_mode=WAL");
    if (!stmt) {
      return conn->error_message();
    }
    const int step_rc = stmt->step();
    if (step_rc != SQLITE_ROW) {
      return conn->error_message();
    }
    if (stmt->column_text(0) != "wal") {
      return "cannot switch to WAL journal mode (journal mode is " + stmt->column_text(0) + ")";
    }
  }
  // FULL syncs the WAL on every commit, so an acknowledged write survives power loss; NORMAL
  // survives a process crash only.
  const char* pragmas =
      s.synchronous_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL";
  if (conn->exec(pragmas) != SQLITE_OK) {
    return conn->error_message();
  }
  if (s.read_only && conn->exec("PRAGMA query_only=1") != SQLITE_OK) {
    return conn->error_message();
  }
  return conn;
}

sqlite_connection::~sqlite_connection() {
  end_snapshot();
  for (auto& [sql, entry] : statements_) {
    sqlite3_finalize(entry.stmt);
  }
  statements_.clear();
  sqlite3_close(db_);
}

std::optional<sqlite_statement> sqlite_connection::prepare(std::string_view sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end() && !it->second.in_use) {
    it->second.in_use = true;
    return sqlite_statement(it->second.stmt, &it->second.in_use);
  }
  // Only the first preparation of a text is kept: it is the one every later use finds.
  const bool keep = it == statements_.end();
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    keep ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
  if (rc != SQLITE_OK || stmt == nullptr) {
    last_error_ = rc != SQLITE_OK ? rc : SQLITE_MISUSE;
    return std::nullopt;
  }
  if (!keep) {
    return sqlite_statement(stmt, nullptr);
  }
  try {
    it = statements_.emplace(std::string(sql), cached{stmt, true}).first;
  } catch (...) {
    sqlite3_finalize(stmt);
    throw;
  }
  return sqlite_statement(stmt, &it->second.in_use);
}

int sqlite_connection::exec(const char* sql) noexcept {
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    last_error_ = rc;
  }
  return rc;
}

std::int64_t sqlite_connection::changes() const noexcept {
  return sqlite3_changes64(db_);
}

bool sqlite_connection::in_transaction() const noexcept {
  return sqlite3_get_autocommit(db_) == 0;
}

std::string sqlite_connection::error_message() const {
  return sqlite3_errmsg(db_);
}

namespace {

// The first region of the connection's WAL index, as SQLite maps it, or null. Every commit
// rewrites the index's header, in both of its copies, at the start of that region
// (https://www.sqlite.org/walformat.html, "The WAL-Index Header"): its change counter goes up
// by one and the last valid frame moves. This is the shared format that lets every SQLite
// version open a WAL database at once, so its layout holds. SQLite keeps the region mapped
// until the connection closes.
const volatile std::uint32_t* map_wal_index(sqlite3* db) noexcept {
  sqlite3_file* file = nullptr;
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK ||
      file == nullptr || file->pMethods == nullptr || file->pMethods->iVersion < 2 ||
      file->pMethods->xShmMap == nullptr) {
    return nullptr;
  }
  constexpr int region_size = 32768;  // SQLite's wal-index page size, fixed by the format
  void volatile* region = nullptr;
  if (file->pMethods->xShmMap(file, 0, region_size, 0, &region) != SQLITE_OK) {
    return nullptr;
  }
  return static_cast<const volatile std::uint32_t*>(region);
}

}  // namespace

void sqlite_connection::refresh_snapshot() noexcept {
  if (holding_ && sqlite3_get_autocommit(db_) != 0) {
    holding_ = false;  // SQLite rolled it back by itself after a failure
  }
  if (wal_index_ == nullptr && (wal_index_ = map_wal_index(db_)) == nullptr) {
    return;
  }
  // Read before the transaction begins, so the snapshot holds at least what this header says;
  // a header torn by a commit in progress differs from any whole one and only costs a refresh.
  std::array<std::uint32_t, wal_header_words> now{};
  for (std::size_t i = 0; i < wal_header_words; ++i) {
    now[i] = wal_index_[i];
  }
  // Keeps those loads before SQLite's own reads of the index (a weakly ordered CPU could
  // otherwise take them after the snapshot began, and keep a snapshot older than it thinks).
  std::atomic_thread_fence(std::memory_order_acquire);
  if (holding_ && now == snapshot_header_) {
    return;
  }
  end_snapshot();
  try {
    // Deferred: the read transaction starts with the read's first step, after the header read.
    auto begin = prepare("BEGIN");
    if (!begin || begin->run() != SQLITE_OK) {
      return;
    }
  } catch (...) {
    return;  // out of memory caching the statement: this read runs in its own transaction
  }
  snapshot_header_ = now;
  holding_ = true;
  ++snapshots_begun_;
}

void sqlite_connection::end_snapshot() noexcept {
  if (!holding_) {
    return;
  }
  holding_ = false;
  if (sqlite3_get_autocommit(db_) != 0) {
    return;
  }
  try {
    if (auto commit = prepare("COMMIT")) {
      (void)commit->run();
      return;
    }
  } catch (...) {
  }
  (void)exec("COMMIT");  // uncached, but it still ends the transaction
}

}  // namespace crud::store

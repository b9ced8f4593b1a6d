#include "support/sqlite_file.hpp"

#include <sqlite3.h>

namespace crud::e2e {

std::string sqlite_scalar(const std::filesystem::path& db, const std::string& sql) {
  sqlite3* conn = nullptr;
  // Read-write, never create: recovering a crashed WAL needs write access, and a missing
  // file is an error rather than a new empty database.
  if (sqlite3_open_v2(db.c_str(), &conn, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    std::string err = "error: open: " + std::string(sqlite3_errmsg(conn));
    sqlite3_close(conn);
    return err;
  }
  sqlite3_busy_timeout(conn, 5000);
  sqlite3_stmt* stmt = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(conn, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    out = "error: prepare: " + std::string(sqlite3_errmsg(conn));
  } else if (const int rc = sqlite3_step(stmt); rc == SQLITE_ROW) {
    const auto* text = sqlite3_column_text(stmt, 0);
    out = text != nullptr ? reinterpret_cast<const char*>(text) : "";
  } else {
    out = "error: step: " + std::string(sqlite3_errmsg(conn));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(conn);
  return out;
}

}  // namespace crud::e2e

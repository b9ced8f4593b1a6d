#include "store/sqlite_schema.hpp"

#include <sqlite3.h>

#include <array>
#include <cstddef>
#include <span>

#include "store/sqlite_connection.hpp"

namespace crud::store {
namespace {

constexpr std::size_t cursor_secret_size = 32;

// Value and error are both strings here, so each side is named explicitly.
using outcome = boost::system::result<std::string, std::string>;
outcome failure(std::string reason) {
  return {boost::system::in_place_error, std::move(reason)};
}
outcome success(std::string secret) {
  return {boost::system::in_place_value, std::move(secret)};
}

// Append-only: a shipped migration never changes; a new one goes at the end.
constexpr std::array migrations = {
    // 1: items, idempotency records and the meta table.
    R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY NOT NULL,
  value BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE items (
  owner       TEXT NOT NULL,
  id          TEXT NOT NULL,
  name        TEXT NOT NULL,
  description TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  version     INTEGER NOT NULL,
  deleted_at  INTEGER,
  expires_at  INTEGER,
  PRIMARY KEY (owner, id)
) WITHOUT ROWID;

CREATE INDEX items_by_expiry ON items (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE idempotency (
  owner             TEXT NOT NULL,
  key               TEXT NOT NULL,
  status            TEXT NOT NULL CHECK (status IN ('in_progress', 'completed')),
  payload_hash      TEXT NOT NULL,
  response          BLOB NOT NULL,
  expires_at        INTEGER NOT NULL,
  in_progress_until INTEGER NOT NULL,
  PRIMARY KEY (owner, key)
) WITHOUT ROWID;

CREATE INDEX idempotency_by_expiry ON idempotency (expires_at);
)sql",
    // 2: the token of the claim that holds an idempotency key (completing or releasing names
    // it). A record written before has none, so no request of this version can complete it.
    R"sql(
ALTER TABLE idempotency ADD COLUMN claim_token TEXT NOT NULL DEFAULT '';
)sql",
};

// Runs `apply` inside BEGIN IMMEDIATE ... COMMIT, rolling back on failure.
template <class F>
outcome in_transaction(sqlite_connection& db, F apply) {
  if (db.exec("BEGIN IMMEDIATE") != SQLITE_OK) {
    return failure(db.error_message());
  }
  auto out = apply();
  if (out.has_value() && db.exec("COMMIT") != SQLITE_OK) {
    out = failure(db.error_message());
  }
  if (!out.has_value() && db.in_transaction()) {
    db.exec("ROLLBACK");
  }
  return out;
}

outcome migrate(sqlite_connection& db, core::random_source& random) {
  if (db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY NOT NULL)") !=
      SQLITE_OK) {
    return failure(db.error_message());
  }
  int current = 0;
  {
    auto stmt = db.prepare("SELECT coalesce(max(version), 0) FROM schema_version");
    if (!stmt || stmt->step() != SQLITE_ROW) {
      return failure(db.error_message());
    }
    current = static_cast<int>(stmt->column_int64(0));
  }
  if (current > sqlite_schema_latest_version()) {
    return failure("schema version " + std::to_string(current) +
                   " is newer than this build supports (" +
                   std::to_string(sqlite_schema_latest_version()) + ")");
  }
  for (int version = current + 1; version <= sqlite_schema_latest_version(); ++version) {
    if (db.exec(migrations[static_cast<std::size_t>(version - 1)]) != SQLITE_OK) {
      return failure("migration " + std::to_string(version) + " failed: " + db.error_message());
    }
    auto stmt = db.prepare("INSERT INTO schema_version (version) VALUES (?1)");
    if (!stmt || stmt->bind(1, std::int64_t{version}).run() != SQLITE_OK) {
      return failure(db.error_message());
    }
  }

  {
    auto stmt = db.prepare("SELECT value FROM meta WHERE key = 'cursor_secret'");
    if (!stmt) {
      return failure(db.error_message());
    }
    const int rc = stmt->step();
    if (rc == SQLITE_ROW) {
      std::string secret = stmt->column_text(0);
      if (secret.size() < 16) {
        return failure("the stored cursor secret is too short");
      }
      return success(std::move(secret));
    }
    if (rc != SQLITE_DONE) {
      return failure(db.error_message());
    }
  }
  std::string secret(cursor_secret_size, '\0');
  random.fill(std::as_writable_bytes(std::span(secret)));
  auto stmt = db.prepare("INSERT INTO meta (key, value) VALUES ('cursor_secret', ?1)");
  if (!stmt || stmt->bind_blob(1, secret).run() != SQLITE_OK) {
    return failure(db.error_message());
  }
  return success(std::move(secret));
}

}  // namespace

int sqlite_schema_latest_version() noexcept {
  return static_cast<int>(migrations.size());
}

boost::system::result<std::string, std::string> migrate_sqlite_schema(sqlite_connection& db,
                                                                      core::random_source& random) {
  return in_transaction(db, [&] { return migrate(db, random); });
}

}  // namespace crud::store

#pragma once
// The SQLite store's schema and how a database reaches it. Migrations are numbered and applied
// in order, each once, all inside one BEGIN IMMEDIATE transaction recorded in `schema_version`;
// so opening a database again (what `crud-api init` does) changes nothing, and two processes
// opening a new file at once cannot both migrate it. The same transaction creates the cursor
// secret in `meta` the first time, so every process using the file signs cursors alike.

#include <string>

#include <boost/system/result.hpp>

#include "core/random_source.hpp"

namespace crud::store {

class sqlite_connection;

// The newest schema version this build knows.
int sqlite_schema_latest_version() noexcept;

// Migrates the database behind `db` and returns the cursor secret (raw bytes), creating it from
// `random` when the database has none. A database from a newer build is refused. The error is
// a human reason (without the path).
boost::system::result<std::string, std::string> migrate_sqlite_schema(sqlite_connection& db,
                                                                      core::random_source& random);

}  // namespace crud::store

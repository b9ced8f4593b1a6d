#include "store/sqlite_store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <exception>
#include <filesystem>
#include <limits>
#include <mutex>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

#include "store/sqlite_connection.hpp"
#include "store/sqlite_read_pool.hpp"
#include "store/sqlite_schema.hpp"
#include "store/sqlite_writer.hpp"

// About call_options::deadline_ms: this store ignores it. Every call is local and bounded: a
// read is one indexed statement, and a write waits at most for the batches queued ahead of it
// plus the busy timeout. Nor can a write be withdrawn once queued without breaking its batch,
// and whether the deadline has passed can only be told with a clock, which this store does
// not have (only `main` reads the clock).

namespace crud::store {
namespace {

using boost::system::error_code;

error_code sqlite_failure(int rc) {
  return map_sqlite_error(rc);
}

// Turns an exception (in practice std::bad_alloc) into `internal`, so none leaves the store.
template <class F>
auto guarded(F&& f) noexcept -> decltype(f()) {
  try {
    return f();
  } catch (...) {
    return make_error_code(errc::internal);
  }
}

std::optional<std::int64_t> expiry_of(const core::item& item) {
  if (!item.deleted_at) {
    return std::nullopt;
  }
  constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max();
  const std::int64_t at = *item.deleted_at;
  return at > max - core::soft_delete_retention_ms ? max : at + core::soft_delete_retention_ms;
}

// Reads a row of "id, name, description, created_at, updated_at, version, deleted_at".

core::item read_item(const sqlite_statement& row) {
  core::item item;
  item.id = row.column_text(0);
  item.name = row.column_text(1);
  item.description = row.column_text(2);
  item.created_at = row.column_int64(3);
  item.updated_at = row.column_int64(4);
  item.version = row.column_int64(5);
  if (!row.column_is_null(6)) {
    item.deleted_at = row.column_int64(6);
  }
  return item;
}

// Whether the row `select` (bound to owner and key) finds exists: condition_failed when it does
// (the conditional write lost), not_found when not.
error_code held_or_absent(sqlite_connection& db, const char* select, std::string_view owner,
                          std::string_view key) {
  auto stmt = db.prepare(select);
  if (!stmt) {
    return sqlite_failure(db.last_error());
  }
  switch (const int rc = stmt->bind(1, owner).bind(2, key).step()) {
    case SQLITE_ROW:
      return errc::condition_failed;
    case SQLITE_DONE:
      return errc::not_found;
    default:
      return sqlite_failure(rc);
  }
}

// After a conditional write matched no row: was the item missing, or at another version?
error_code missing_or_stale(sqlite_connection& db, std::string_view owner, std::string_view id) {
  return held_or_absent(db, "SELECT 1 FROM items WHERE owner = ?1 AND id = ?2", owner, id);
}

// After a fenced idempotency write matched no row: was the key free, or held by another claim?
error_code idempotency_not_held(sqlite_connection& db, std::string_view owner,
                                std::string_view key) {
  return held_or_absent(db, "SELECT 1 FROM idempotency WHERE owner = ?1 AND key = ?2", owner, key);
}

const char* status_text(idempotency_record::state s) {
  return s == idempotency_record::state::completed ? "completed" : "in_progress";
}

// Runs `body(db)` as one write of a group-committed batch and returns its result once durable.
// A body that fails is undone alone, in a savepoint of its own.
template <class T, bool OneStatement = false, class F>
result<T> write(sqlite_writer& writer, F body) {
  struct op final : sqlite_write_op {
    explicit op(F& b) : body(b) {}
    error_code execute(sqlite_connection& db) override {
      out.emplace(body(db));
      return out->has_value() ? error_code{} : out->error();
    }
    bool one_statement() const noexcept override { return OneStatement; }
    F& body;
    std::optional<result<T>> out;
  } o(body);
  if (const error_code ec = writer.submit(o)) {
    return ec;
  }
  if (!o.out) {
    return make_error_code(errc::internal);
  }
  return std::move(*o.out);
}

// Like write(), for a body that changes the database with one statement and fails only when
// that statement changed nothing (sqlite_write_op::one_statement()): SQLite makes the statement
// atomic, so the write needs no savepoint.
template <class T, class F>
result<T> atomic_write(sqlite_writer& writer, F body) {
  return write<T, true>(writer, std::move(body));
}

}  // namespace

struct sqlite_store::impl {
  std::string secret;
  // Declared first so that it is destroyed last: it drains its queue, then closes the write
  // connection after the readers, and the last connection to close checkpoints the WAL.
  std::unique_ptr<sqlite_writer> writer;
  std::unique_ptr<sqlite_read_pool> readers;

  // The writer's thread ends the readers' idle snapshots, so it stops before they close.
  ~impl() {
    if (writer) {
      writer->stop();
    }
  }
};

namespace {

// Runs `body` on a connection to read from: the writer's own while a job runs on the writer
// thread (its reads then see the job's writes, and take no connection from the pool), otherwise
// one of the pool's.
template <class F>
auto read(sqlite_store::impl& store, F body) -> decltype(body(std::declval<sqlite_connection&>())) {
  if (sqlite_connection* db = store.writer->inline_connection()) {
    return body(*db);
  }
  auto conn = store.readers->acquire();
  if (!conn) {
    return make_error_code(errc::unavailable);
  }
  return body(**conn);
}

}  // namespace

sqlite_store::sqlite_store(std::unique_ptr<impl> impl) noexcept : impl_(std::move(impl)) {}

std::unique_ptr<write_job> sqlite_store::post_write_job(std::unique_ptr<write_job> job) {
  return impl_->writer->post(std::move(job));
}

sqlite_store::~sqlite_store() = default;

result<void> sqlite_store::create_item(const call_options&, std::string_view owner,
                                       const core::item& item) {
  return guarded([&] {
    return atomic_write<void>(*impl_->writer, [&](sqlite_connection& db) -> result<void> {
      auto stmt = db.prepare(
          "INSERT INTO items (owner, id, name, description, created_at, updated_at, version, "
          "deleted_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
          "ON CONFLICT (owner, id) DO NOTHING");
      if (!stmt) {
        return sqlite_failure(db.last_error());
      }
      const int rc = stmt->bind(1, owner)
                         .bind(2, item.id)
                         .bind(3, item.name)
                         .bind(4, item.description)
                         .bind(5, item.created_at)
                         .bind(6, item.updated_at)
                         .bind(7, item.version)
                         .bind(8, item.deleted_at)
                         .bind(9, expiry_of(item))
                         .run();
      if (rc != SQLITE_OK) {
        return sqlite_failure(rc);
      }
      if (db.changes() == 0) {
        return errc::already_exists;
      }
      return {};
    });
  });
}

result<core::item> sqlite_store::get_item(const call_options&, std::string_view owner,
                                          std::string_view id) {
  return guarded([&]() -> result<core::item> {
    return read(*impl_, [&](sqlite_connection& db) -> result<core::item> {
      auto stmt = db.prepare(
          "SELECT id, name, description, created_at, updated_at, version, deleted_at "
          "FROM items WHERE owner = ?1 AND id = ?2");
      if (!stmt) {
        return sqlite_failure(db.last_error());
      }
      switch (const int rc = stmt->bind(1, owner).bind(2, id).step()) {
        case SQLITE_ROW:
          return read_item(*stmt);
        case SQLITE_DONE:
          return errc::not_found;
        default:
          return sqlite_failure(rc);
      }
    });
  });
}

result<item_page> sqlite_store::list_items(const call_options&, std::string_view owner,
                                           std::string_view after_id, std::size_t limit) {
  return guarded([&]() -> result<item_page> {
    // One row beyond the page tells whether more follow.
    constexpr auto max_limit = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
    const auto fetch = static_cast<std::int64_t>(limit >= max_limit ? max_limit : limit + 1);
    return read(*impl_, [&](sqlite_connection& db) -> result<item_page> {
      auto stmt = db.prepare(
          "SELECT id, name, description, created_at, updated_at, version, deleted_at "
          "FROM items WHERE owner = ?1 AND id > ?2 AND deleted_at IS NULL ORDER BY id LIMIT ?3");
      if (!stmt) {
        return sqlite_failure(db.last_error());
      }
      stmt->bind(1, owner).bind(2, after_id).bind(3, fetch);
      item_page page;
      bool more = false;
      for (;;) {
        const int rc = stmt->step();
        if (rc == SQLITE_DONE) {
          break;
        }
        if (rc != SQLITE_ROW) {
          return sqlite_failure(rc);
        }
        if (page.items.size() == limit) {
          more = true;
          break;
        }
        page.items.push_back(read_item(*stmt));
      }
      if (more) {
        page.last_id = page.items.empty() ? std::string(after_id) : page.items.back().id;
      }
      return page;
    });
  });
}

result<void> sqlite_store::replace_item(const call_options&, std::string_view owner,
                                        const core::item& item, std::int64_t expected_version) {
  return guarded([&] {
    return atomic_write<void>(*impl_->writer, [&](sqlite_connection& db) -> result<void> {
      auto stmt = db.prepare(
          "UPDATE items SET name = ?3, description = ?4, created_at = ?5, updated_at = ?6, "
          "version = ?7, deleted_at = ?8, expires_at = ?9 "
          "WHERE owner = ?1 AND id = ?2 AND version = ?10");
      if (!stmt) {
        return sqlite_failure(db.last_error());
      }
      const int rc = stmt->bind(1, owner)
                         .bind(2, item.id)
                         .bind(3, item.name)
                         .bind(4, item.description)
                         .bind(5, item.created_at)
                         .bind(6, item.updated_at)
                         .bind(7, item.version)
                         .bind(8, item.deleted_at)
                         .bind(9, expiry_of(item))
                         .bind(10, expected_version)
                         .run();
      if (rc != SQLITE_OK) {
        return sqlite_failure(rc);
      }
      if (db.changes() == 0) {
        return missing_or_stale(db, owner, item.id);
      }
      return {};
    });
  });
}

result<void> sqlite_store::delete_item(const call_options&, std::string_view owner,
                                       std::string_view id, std::int64_t expected_version) {
  return guarded([&] {
    return atomic_write<void>(*impl_->writer, [&](sqlite_connection& db) -> result<void> {
      auto stmt = db.prepare("DELETE FROM items WHERE owner = ?1 AND id = ?2 AND version = ?3");
      if (!stmt) {
        return sqlite_failure(db.last_error());
      }
      const int rc = stmt->bind(1, owner).bind(2, id).bind(3, expected_version).run();
      if (rc != SQLITE_OK) {
        return sqlite_failure(rc);
      }
      if (db.changes() == 0) {
        return missing_or_stale(db, owner, id);
      }
      return {};
    });
  });
}

result<claim_outcome> sqlite_store::claim_idempotency(const call_options&, std::string_view owner,
                                                      std::string_view key,
                                                      const idempotency_record& record,
                                                      std::int64_t now_ms) {
  return guarded([&] {
    return atomic_write<claim_outcome>(
        *impl_->writer, [&](sqlite_connection& db) -> result<claim_outcome> {
          // Read and (maybe) write in one operation: the writer thread is the only writer, so no
          // other claim can slip in between.
          {
            auto stmt = db.prepare(
                "SELECT status, payload_hash, response, expires_at, in_progress_until, "
                "claim_token FROM idempotency WHERE owner = ?1 AND key = ?2");
            if (!stmt) {
              return sqlite_failure(db.last_error());
            }
            const int rc = stmt->bind(1, owner).bind(2, key).step();
            if (rc == SQLITE_ROW) {
              idempotency_record existing;
              const std::string status = stmt->column_text(0);
              if (status == "completed") {
                existing.status = idempotency_record::state::completed;
              } else if (status != "in_progress") {
                return errc::internal;
              }
              existing.payload_hash = stmt->column_text(1);
              existing.response = stmt->column_text(2);
              existing.expires_at = stmt->column_int64(3);
              existing.in_progress_until = stmt->column_int64(4);
              existing.claim_token = stmt->column_text(5);
              const bool expired = existing.expires_at <= now_ms;
              const bool stale = existing.status == idempotency_record::state::in_progress &&
                                 existing.in_progress_until <= now_ms;
              if (!expired && !stale) {
                return claim_outcome{.claimed = false, .existing = std::move(existing)};
              }
            } else if (rc != SQLITE_DONE) {
              return sqlite_failure(rc);
            }
          }
          auto stmt = db.prepare(
              "INSERT INTO idempotency (owner, key, status, payload_hash, response, expires_at, "
              "in_progress_until, claim_token) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
              "ON CONFLICT (owner, key) DO UPDATE SET status = excluded.status, "
              "payload_hash = excluded.payload_hash, response = excluded.response, "
              "expires_at = excluded.expires_at, in_progress_until = excluded.in_progress_until, "
              "claim_token = excluded.claim_token");
          if (!stmt) {
            return sqlite_failure(db.last_error());
          }
          const int rc = stmt->bind(1, owner)
                             .bind(2, key)
                             .bind(3, std::string_view(status_text(record.status)))
                             .bind(4, record.payload_hash)
                             .bind_blob(5, record.response)
                             .bind(6, record.expires_at)
                             .bind(7, record.in_progress_until)
                             .bind(8, record.claim_token)
                             .run();
          if (rc != SQLITE_OK) {
            return sqlite_failure(rc);
          }
          return claim_outcome{.claimed = true, .existing = std::nullopt};
        });
  });
}

result<void> sqlite_store::complete_idempotency(const call_options&, std::string_view owner,
                                                std::string_view key, std::string_view claim_token,
                                                std::string_view response,
                                                std::int64_t expires_at) {
  return guarded([&] {
    return atomic_write<void>(*impl_->writer, [&](sqlite_connection& db) -> result<void> {
      auto stmt = db.prepare(
          "UPDATE idempotency SET status = 'completed', response = ?4, expires_at = ?5 "
          "WHERE owner = ?1 AND key = ?2 AND claim_token = ?3");
      if (!stmt) {
        return sqlite_failure(db.last_error());
      }
      const int rc = stmt->bind(1, owner)
                         .bind(2, key)
                         .bind(3, claim_token)
                         .bind_blob(4, response)
                         .bind(5, expires_at)
                         .run();
      if (rc != SQLITE_OK) {
        return sqlite_failure(rc);
      }
      if (db.changes() == 0) {
        return idempotency_not_held(db, owner, key);
      }
      return {};
    });
  });
}

result<void> sqlite_store::release_idempotency(const call_options&, std::string_view owner,
                                               std::string_view key, std::string_view claim_token) {
  return guarded([&] {
    return atomic_write<void>(*impl_->writer, [&](sqlite_connection& db) -> result<void> {
      auto stmt =
          db.prepare("DELETE FROM idempotency WHERE owner = ?1 AND key = ?2 AND claim_token = ?3");
      if (!stmt) {
        return sqlite_failure(db.last_error());
      }
      const int rc = stmt->bind(1, owner).bind(2, key).bind(3, claim_token).run();
      if (rc != SQLITE_OK) {
        return sqlite_failure(rc);
      }
      if (db.changes() == 0) {
        // Releasing a key that is already gone is not an error: the caller wanted it gone.
        const error_code held = idempotency_not_held(db, owner, key);
        if (held == errc::not_found)
          return {};
        return held;
      }
      return {};
    });
  });
}

result<void> sqlite_store::purge_expired(std::int64_t now_ms) {
  return guarded([&] {
    return write<void>(*impl_->writer, [&](sqlite_connection& db) -> result<void> {
      for (const char* sql : {"DELETE FROM items WHERE expires_at <= ?1",
                              "DELETE FROM idempotency WHERE expires_at <= ?1"}) {
        auto stmt = db.prepare(sql);
        if (!stmt) {
          return sqlite_failure(db.last_error());
        }
        if (const int rc = stmt->bind(1, now_ms).run(); rc != SQLITE_OK) {
          return sqlite_failure(rc);
        }
      }
      return {};
    });
  });
}

result<std::string> sqlite_store::cursor_secret() {
  return guarded([&]() -> result<std::string> { return impl_->secret; });
}

sqlite_store_stats sqlite_store::stats() const {
  return impl_->writer->stats();
}

boost::system::result<std::unique_ptr<item_store>, std::string> open_sqlite_store(
    const sqlite_options& options, core::random_source& random) {
  const std::string& path = options.path;
  const std::string prefix = "cannot open database " + path + ": ";
  if (path.empty()) {
    return std::string("cannot open database: no path given");
  }
  try {
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(parent, ec);
      if (ec) {
        return prefix + "cannot create folder " + parent.string() + ": " + ec.message();
      }
    }

    sqlite_connection::settings settings;
    settings.synchronous_full = options.synchronous_full;
    settings.vfs = options.vfs;
    settings.busy_timeout_ms = static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(
        options.busy_timeout.count(), 0, std::numeric_limits<int>::max()));

    auto write_conn = sqlite_connection::open(path, settings);
    if (!write_conn) {
      return prefix + write_conn.error();
    }
    auto secret = migrate_sqlite_schema(**write_conn, random);
    if (!secret) {
      return "cannot migrate database " + path + ": " + secret.error();
    }

    auto state = std::make_unique<sqlite_store::impl>();
    state->secret = std::move(*secret);
    state->readers = std::make_unique<sqlite_read_pool>(path, settings);
    if (auto opened = state->readers->open(std::max<std::size_t>(options.read_connections, 1));
        !opened) {
      return prefix + opened.error();
    }
    // Every commit makes the readers' held snapshots stale: the idle ones end theirs at once,
    // and at least every `snapshot_idle_limit` while the writer has nothing to do (another
    // process may be committing), so that none keeps the WAL from being checkpointed while
    // nobody reads.
    state->writer = std::make_unique<sqlite_writer>(
        std::move(*write_conn), options.max_batch,
        [readers = state->readers.get()] { readers->end_idle_snapshots(); },
        options.snapshot_idle_limit);
    return std::unique_ptr<item_store>(std::make_unique<sqlite_store>(std::move(state)));
  } catch (const std::exception& e) {
    return prefix + e.what();
  }
}

}  // namespace crud::store

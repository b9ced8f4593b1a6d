#include "store/sqlite_transfer.hpp"

#include <sqlite3.h>

#include <exception>
#include <filesystem>
#include <limits>
#include <system_error>

#include "store/sqlite_connection.hpp"
#include "store/sqlite_schema.hpp"

namespace crud::store {
namespace {

using boost::system::in_place_error;

transfer_result<void> failure(std::string reason) {
  return {in_place_error, std::move(reason)};
}

// The expiry the embedded store keeps (ms): the record's, else the one the store would give a
// soft-deleted item (as sqlite_store does), else none.
std::optional<std::int64_t> expiry_ms(const core::item_record& r) {
  if (!r.stored.deleted_at)
    return std::nullopt;
  constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max();
  if (r.expires_at)
    return *r.expires_at > max / 1000 ? max : *r.expires_at * 1000;
  const std::int64_t at = *r.stored.deleted_at;
  return at > max - core::soft_delete_retention_ms ? max : at + core::soft_delete_retention_ms;
}

class sqlite_transfer final : public item_transfer {
 public:
  sqlite_transfer(std::unique_ptr<sqlite_connection> db, std::string path, std::size_t batch)
      : db_(std::move(db)), path_(std::move(path)), batch_(batch) {}

  transfer_result<void> export_items(const record_sink& sink, const bad_record_sink& bad) override {
    // One read transaction: every row comes from the same snapshot.
    if (db_->exec("BEGIN") != SQLITE_OK)
      return failure(reason("cannot read"));
    auto out = export_rows(sink, bad);
    if (db_->in_transaction())
      db_->exec(out ? "COMMIT" : "ROLLBACK");
    return out;
  }

  transfer_result<std::vector<import_outcome>> import_items(
      std::span<const core::item_record> records, bool overwrite) override {
    if (db_->exec("BEGIN IMMEDIATE") != SQLITE_OK)
      return {in_place_error, reason("cannot write")};
    auto out = insert_rows(records, overwrite);
    if (out && db_->exec("COMMIT") != SQLITE_OK)
      out = {in_place_error, reason("cannot commit")};
    if (!out && db_->in_transaction())
      db_->exec("ROLLBACK");
    return out;
  }

  std::size_t import_batch_size() const noexcept override { return batch_; }

 private:
  std::string reason(std::string_view what) const {
    return std::string(what) + " " + path_ + ": " + db_->error_message();
  }

  transfer_result<void> export_rows(const record_sink& sink, const bad_record_sink& bad) {
    auto stmt = db_->prepare(
        "SELECT owner, id, name, description, created_at, updated_at, version, deleted_at, "
        "expires_at FROM items ORDER BY owner, id");
    if (!stmt)
      return failure(reason("cannot read"));
    core::item_record r;
    for (;;) {
      const int rc = stmt->step();
      if (rc == SQLITE_DONE)
        return {};
      if (rc != SQLITE_ROW)
        return failure(reason("cannot read"));
      r.owner = stmt->column_text(0);
      r.stored.id = stmt->column_text(1);
      r.stored.name = stmt->column_text(2);
      r.stored.description = stmt->column_text(3);
      r.stored.created_at = stmt->column_int64(4);
      r.stored.updated_at = stmt->column_int64(5);
      r.stored.version = stmt->column_int64(6);
      r.stored.deleted_at.reset();
      r.expires_at.reset();
      if (!stmt->column_is_null(7))
        r.stored.deleted_at = stmt->column_int64(7);
      if (!stmt->column_is_null(8)) {
        if (!r.stored.deleted_at) {
          bad(r.owner + "/" + r.stored.id, "an expiry on an item that is not soft-deleted");
          continue;
        }
        r.expires_at = core::ttl_seconds(stmt->column_int64(8));
      }
      if (auto sent = sink(r); !sent)
        return sent;
    }
  }

  transfer_result<std::vector<import_outcome>> insert_rows(
      std::span<const core::item_record> records, bool overwrite) {
    // Every column is the record's: nothing is derived from what the row held before.
    const char* sql =
        overwrite ? "INSERT INTO items (owner, id, name, description, created_at, updated_at, "
                    "version, deleted_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
                    "ON CONFLICT (owner, id) DO UPDATE SET name = excluded.name, "
                    "description = excluded.description, created_at = excluded.created_at, "
                    "updated_at = excluded.updated_at, version = excluded.version, "
                    "deleted_at = excluded.deleted_at, expires_at = excluded.expires_at"
                  : "INSERT INTO items (owner, id, name, description, created_at, updated_at, "
                    "version, deleted_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
                    "ON CONFLICT (owner, id) DO NOTHING";
    std::vector<import_outcome> out;
    out.reserve(records.size());
    for (const auto& r : records) {
      // The connection's cached statement, one use per row (a use resets it when it ends).
      auto stmt = db_->prepare(sql);
      if (!stmt)
        return {in_place_error, reason("cannot write")};
      const int rc = stmt->bind(1, r.owner)
                         .bind(2, r.stored.id)
                         .bind(3, r.stored.name)
                         .bind(4, r.stored.description)
                         .bind(5, r.stored.created_at)
                         .bind(6, r.stored.updated_at)
                         .bind(7, r.stored.version)
                         .bind(8, r.stored.deleted_at)
                         .bind(9, expiry_ms(r))
                         .run();
      if (rc != SQLITE_OK)
        return {in_place_error, reason("cannot write")};
      out.push_back(db_->changes() > 0 ? import_outcome::written : import_outcome::skipped);
    }
    return out;
  }

  std::unique_ptr<sqlite_connection> db_;
  std::string path_;
  std::size_t batch_;
};

}  // namespace

transfer_result<std::unique_ptr<item_transfer>> open_sqlite_transfer(
    const sqlite_transfer_options& options, core::random_source& random) {
  const std::string& path = options.path;
  const std::string prefix = "cannot open database " + path + ": ";
  try {
    std::error_code ec;
    if (!options.create && !std::filesystem::exists(path, ec))
      return {in_place_error, prefix + "no such file"};
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    if (options.create && !parent.empty()) {
      std::filesystem::create_directories(parent, ec);
      if (ec)
        return {in_place_error,
                prefix + "cannot create folder " + parent.string() + ": " + ec.message()};
    }
    sqlite_connection::settings settings;
    auto db = sqlite_connection::open(path, settings);
    if (!db)
      return {in_place_error, prefix + db.error()};
    // The schema as `serve` would leave it: an import into a new file needs the tables, and an
    // export reads the current layout.
    if (auto migrated = migrate_sqlite_schema(**db, random); !migrated)
      return {in_place_error, "cannot migrate database " + path + ": " + migrated.error()};
    return std::unique_ptr<item_transfer>(std::make_unique<sqlite_transfer>(
        std::move(*db), path, options.batch == 0 ? 1 : options.batch));
  } catch (const std::exception& e) {
    return {in_place_error, prefix + e.what()};
  }
}

}  // namespace crud::store

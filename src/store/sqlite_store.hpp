#pragma once
// The embedded store: item_store on one SQLite file, for `serve`, `invoke` and `init`. The file
// runs in WAL mode with synchronous=FULL by default, so an acknowledged write survives a crash
// or power loss. Writes go through one writer thread that folds concurrent writes into one
// durable commit (group commit, see sqlite_writer.hpp); reads use a pool of connections that
// run alongside the writer and never make a reader wait (sqlite_read_pool.hpp). Opening
// migrates the schema, and opening again is harmless.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include <boost/system/result.hpp>

#include "core/random_source.hpp"
#include "store/item_store.hpp"
#include "store/sqlite_stats.hpp"

namespace crud::store {

struct sqlite_options {
  std::string path;  // database file; parent folders are created (like mkdir -p)
  // PRAGMA synchronous=FULL (an acknowledged write survives power loss); false = NORMAL (it
  // survives a crash of the process only).
  bool synchronous_full = true;
  std::chrono::milliseconds busy_timeout{5000};
  std::size_t max_batch = 512;       // most writes folded into one commit
  std::size_t read_connections = 8;  // readers opened up front; the pool opens more when busy
  // The longest a pooled reader that nobody uses keeps its read snapshot (decision 30) while
  // the writer has nothing to write; a commit of ours ends idle snapshots at once.
  std::chrono::milliseconds snapshot_idle_limit{1000};
  // A registered SQLite VFS by name, for every connection; empty for the default. Tests use it
  // to open the store on a fault-injecting one (tests/support/power_cut_vfs.hpp).
  std::string vfs;
};

// How group commit is doing, for tests and metrics.
using sqlite_store_stats = sqlite_write_stats;

class sqlite_store final : public item_store {
 public:
  struct impl;

  sqlite_store(const sqlite_store&) = delete;
  sqlite_store& operator=(const sqlite_store&) = delete;
  // Finishes every queued write, stops the writer and closes the database.
  ~sqlite_store() override;

  // `opts.deadline_ms` is ignored: see sqlite_store.cpp.
  result<void> create_item(const call_options& opts, std::string_view owner,
                           const core::item& item) override;
  result<core::item> get_item(const call_options& opts, std::string_view owner,
                              std::string_view id) override;
  result<item_page> list_items(const call_options& opts, std::string_view owner,
                               std::string_view after_id, std::size_t limit) override;
  result<void> replace_item(const call_options& opts, std::string_view owner,
                            const core::item& item, std::int64_t expected_version) override;
  result<void> delete_item(const call_options& opts, std::string_view owner, std::string_view id,
                           std::int64_t expected_version) override;
  result<claim_outcome> claim_idempotency(const call_options& opts, std::string_view owner,
                                          std::string_view key, const idempotency_record& record,
                                          std::int64_t now_ms) override;
  result<void> complete_idempotency(const call_options& opts, std::string_view owner,
                                    std::string_view key, std::string_view claim_token,
                                    std::string_view response, std::int64_t expires_at) override;
  result<void> release_idempotency(const call_options& opts, std::string_view owner,
                                   std::string_view key, std::string_view claim_token) override;
  result<void> purge_expired(std::int64_t now_ms) override;
  result<std::string> cursor_secret() override;
  // Runs on the group-commit writer thread: see write_job.
  std::unique_ptr<write_job> post_write_job(std::unique_ptr<write_job> job) override;

  sqlite_store_stats stats() const;

  explicit sqlite_store(std::unique_ptr<impl> impl) noexcept;

 private:
  std::unique_ptr<impl> impl_;
};

// Opens (creating if needed) and migrates the database. `random` is used only to create the
// cursor secret the first time; the secret is kept in the database. The error is a one-line
// human reason naming the path, e.g. "cannot open database ./data/items.db: unable to open
// database file".
boost::system::result<std::unique_ptr<item_store>, std::string> open_sqlite_store(
    const sqlite_options& options, core::random_source& random);

}  // namespace crud::store

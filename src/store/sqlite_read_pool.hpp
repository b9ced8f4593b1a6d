#pragma once
// The SQLite store's read connections, lent to one caller at a time (WAL lets them read while
// the writer writes). A caller never waits for one: when every connection is out, the pool
// opens another. Reads run inline on the server's I/O threads, and a read that waited for a
// connection would stall every other connection on its event loop. The pool keeps whatever it
// has opened, so it grows to the most reads ever in flight at once, which the threads that can
// call the store bound (the I/O threads plus the handler pool).
//
// A connection keeps its read snapshot between leases for as long as nothing commits
// (sqlite_connection::refresh_snapshot, decision 30): acquire() refreshes it, so a lease
// always reads at least every commit made before it began.

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/system/result.hpp>

#include "store/sqlite_connection.hpp"

namespace crud::store {

class sqlite_read_pool {
 public:
  // A connection on loan; it goes back to the pool when the lease ends.
  class lease {
   public:
    lease(sqlite_read_pool& pool, std::unique_ptr<sqlite_connection> conn) noexcept
        : pool_(&pool), conn_(std::move(conn)) {}
    lease(lease&& other) noexcept = default;
    lease& operator=(lease&&) = delete;
    lease(const lease&) = delete;
    lease& operator=(const lease&) = delete;
    ~lease() {
      if (conn_)
        pool_->give_back(std::move(conn_));
    }
    sqlite_connection& operator*() const noexcept { return *conn_; }
    sqlite_connection* operator->() const noexcept { return conn_.get(); }

   private:
    sqlite_read_pool* pool_;
    std::unique_ptr<sqlite_connection> conn_;
  };

  // Connections open `path` with `s` (read_only is forced on).
  sqlite_read_pool(std::string path, sqlite_connection::settings s);

  // Opens `count` connections up front, so that the usual load finds them ready; the error is
  // SQLite's message.
  boost::system::result<void, std::string> open(std::size_t count);

  // An idle connection, or a new one when none is idle, with a fresh snapshot; never waits
  // for another caller. The error is SQLite's message when a new connection cannot be opened
  // (out of descriptors, say).
  boost::system::result<lease, std::string> acquire();

  // Connections opened so far, idle or lent.
  std::size_t size() const;

  // Ends the snapshots idle connections hold (sqlite_connection::refresh_snapshot), so that
  // none keeps a checkpoint from the WAL's newer frames while nobody reads: the writer calls it
  // after each commit, which made every held snapshot stale anyway.
  void end_idle_snapshots() noexcept;

 private:
  void give_back(std::unique_ptr<sqlite_connection> conn) noexcept;

  const std::string path_;
  const sqlite_connection::settings settings_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<sqlite_connection>> idle_;
  std::size_t opened_ = 0;
};

}  // namespace crud::store

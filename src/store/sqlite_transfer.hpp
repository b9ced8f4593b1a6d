#pragma once
// item_transfer on the SQLite file of the embedded store, on a connection of its own. Export
// reads the items table in its primary-key order (owner, id) inside one read transaction, so
// the file is one consistent snapshot even while `serve` writes beside it (WAL). Import writes
// a batch of records per transaction: one fsync per batch rather than per item is what makes it
// fast, and a batch either lands whole or not at all.

#include <cstddef>
#include <memory>
#include <string>

#include "core/random_source.hpp"
#include "store/item_transfer.hpp"

namespace crud::store {

struct sqlite_transfer_options {
  std::string path;
  // Import: create the file and its schema when missing, as `serve` would. Export: a missing
  // file is an error, not an empty export.
  bool create = true;
  std::size_t batch = 2000;  // records per transaction on import
};

// `random` makes the cursor secret when the schema is created here.
transfer_result<std::unique_ptr<item_transfer>> open_sqlite_transfer(
    const sqlite_transfer_options& options, core::random_source& random);

}  // namespace crud::store

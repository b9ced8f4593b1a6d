#pragma once
// What the SQLite writer has done and is doing, as counters: the writer keeps them, and the
// store hands the same struct to its callers (tests, and whoever reports on group commit).

#include <cstddef>
#include <cstdint>

namespace crud::store {

struct sqlite_write_stats {
  std::uint64_t writes = 0;   // write operations in committed transactions (successful or not)
  std::uint64_t commits = 0;  // committed transactions
  std::uint64_t failed_batches = 0;
  std::size_t queued = 0;     // write operations waiting for the writer thread right now
  std::size_t in_flight = 0;  // write operations in the batch being written right now
};

}  // namespace crud::store

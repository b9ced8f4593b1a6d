#pragma once
// A SQLite VFS that can lose power. It sits over the default VFS and passes everything through,
// but remembers, for every file opened through it, what the file held when it was last synced:
// the bytes under every block written since, and the size. Losing power puts every file back to
// that state (what a disk with a volatile write cache may do when the power goes), and from then
// on every read, write, sync and delete fails, as if the machine were gone. The database is then
// opened again through the ordinary VFS, as it would be after a reboot.
//
// The -shm file is passed through untouched: SQLite treats it as a cache of the WAL that the
// first connection after a restart rebuilds, whatever it holds. Deleting a file counts as
// durable at once, the kind view of a power cut: a test of what SQLite does with a resurrected
// WAL would need a harsher model. Files without a name (temporary files) are not tracked.
//
// Registered by name and never as the default, so only connections opened with that name use
// it; the object unregisters it when it goes away, and must outlive those connections.

#include <cstdint>
#include <memory>
#include <string>

namespace crud::test_support {

class power_cut_vfs {
 public:
  // Registers the VFS as `name`. Throws std::runtime_error when SQLite refuses.
  explicit power_cut_vfs(std::string name);
  ~power_cut_vfs();
  power_cut_vfs(const power_cut_vfs&) = delete;
  power_cut_vfs& operator=(const power_cut_vfs&) = delete;

  const std::string& name() const noexcept;

  // Drops every write not yet synced and fails all I/O from now on.
  void cut_power();
  // Cuts the power when the `n`-th sync from now (1 = the next) is asked for, instead of
  // syncing: the sync fails, and what it would have made durable is lost.
  void cut_at_sync(int n);
  bool powered_off() const;

  // Syncs done so far on files whose name ends in `suffix` ("" for every file).
  std::uint64_t syncs(const std::string& suffix = "") const;

  struct state;

 private:
  std::unique_ptr<state> state_;
};

}  // namespace crud::test_support

#include "support/power_cut_vfs.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>

namespace crud::test_support {

namespace {

// What is remembered of a file's unsynced writes: the bytes each touched block held at the last
// sync. Blocks are a unit of bookkeeping only; SQLite's writes need not be aligned to them.
constexpr std::int64_t block_bytes = 512;

struct tracked_file {
  std::int64_t synced_size = 0;
  std::map<std::int64_t, std::string> before;  // block index -> its bytes at the last sync
};

}  // namespace

struct power_cut_vfs::state {
  std::string name;
  sqlite3_vfs vfs{};
  sqlite3_vfs* base = nullptr;
  sqlite3_io_methods methods{};

  mutable std::mutex mutex;
  std::atomic<bool> off{false};
  int cut_countdown = 0;  // 0: not armed
  std::map<std::string, tracked_file> files;
  std::map<std::string, std::uint64_t> sync_counts;

  // Puts every tracked file back as it was at its last sync. Holds `mutex`.
  void cut() {
    off = true;
    for (const auto& [path, file] : files) {
      const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
      if (fd < 0)
        continue;  // never created on disk
      for (const auto& [block, bytes] : file.before) {
        const auto written = ::pwrite(fd, bytes.data(), bytes.size(), block * block_bytes);
        (void)written;
      }
      const int truncated = ::ftruncate(fd, file.synced_size);
      (void)truncated;
      ::close(fd);
    }
    files.clear();
  }
};

namespace {

using state = power_cut_vfs::state;

struct shim_file {
  sqlite3_file base;  // first, so SQLite's pointer is ours
  state* st;
  const char* path;  // SQLite keeps the name alive until xClose; null when untracked
  sqlite3_file* real;
};

state& state_of(sqlite3_vfs* vfs) {
  return *static_cast<state*>(vfs->pAppData);
}
shim_file& shim(sqlite3_file* f) {
  return *reinterpret_cast<shim_file*>(f);
}
sqlite3_file* real(sqlite3_file* f) {
  return shim(f).real;
}

std::int64_t real_size(sqlite3_file* r) {
  sqlite3_int64 size = 0;
  return r->pMethods->xFileSize(r, &size) == SQLITE_OK ? size : 0;
}

// Saves what the blocks under [from, to) held at the last sync, for those not saved yet. Holds
// the state's mutex.
void remember(shim_file& f, std::int64_t from, std::int64_t to) {
  if (f.path == nullptr)
    return;
  auto it = f.st->files.find(f.path);
  if (it == f.st->files.end())
    return;
  tracked_file& t = it->second;
  to = std::min(to, t.synced_size);
  for (std::int64_t block = from / block_bytes; block * block_bytes < to; ++block) {
    if (t.before.contains(block))
      continue;
    const std::int64_t start = block * block_bytes;
    const std::int64_t len = std::min(block_bytes, t.synced_size - start);
    std::string bytes(static_cast<std::size_t>(len), '\0');
    // A short read leaves zeros, which is what the file held past its end.
    f.real->pMethods->xRead(f.real, bytes.data(), static_cast<int>(len), start);
    t.before.emplace(block, std::move(bytes));
  }
}

int x_close(sqlite3_file* f) {
  return real(f)->pMethods->xClose(real(f));
}

int x_read(sqlite3_file* f, void* out, int amount, sqlite3_int64 offset) {
  if (shim(f).st->off)
    return SQLITE_IOERR_READ;
  return real(f)->pMethods->xRead(real(f), out, amount, offset);
}

int x_write(sqlite3_file* f, const void* data, int amount, sqlite3_int64 offset) {
  shim_file& s = shim(f);
  std::lock_guard lock(s.st->mutex);
  if (s.st->off)
    return SQLITE_IOERR_WRITE;
  remember(s, offset, offset + amount);
  return s.real->pMethods->xWrite(s.real, data, amount, offset);
}

int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
  shim_file& s = shim(f);
  std::lock_guard lock(s.st->mutex);
  if (s.st->off)
    return SQLITE_IOERR_TRUNCATE;
  remember(s, size, real_size(s.real));
  return s.real->pMethods->xTruncate(s.real, size);
}

int x_sync(sqlite3_file* f, int flags) {
  shim_file& s = shim(f);
  std::lock_guard lock(s.st->mutex);
  if (s.st->off)
    return SQLITE_IOERR_FSYNC;
  if (s.st->cut_countdown > 0 && --s.st->cut_countdown == 0) {
    s.st->cut();
    return SQLITE_IOERR_FSYNC;
  }
  const int rc = s.real->pMethods->xSync(s.real, flags);
  if (rc != SQLITE_OK || s.path == nullptr)
    return rc;
  ++s.st->sync_counts[s.path];
  if (auto it = s.st->files.find(s.path); it != s.st->files.end()) {
    it->second.before.clear();
    it->second.synced_size = real_size(s.real);
  }
  return rc;
}

int x_file_size(sqlite3_file* f, sqlite3_int64* size) {
  if (shim(f).st->off)
    return SQLITE_IOERR_FSTAT;
  return real(f)->pMethods->xFileSize(real(f), size);
}

// Locks pass through even after the cut, so that connections can still close cleanly.
int x_lock(sqlite3_file* f, int level) {
  return real(f)->pMethods->xLock(real(f), level);
}
int x_unlock(sqlite3_file* f, int level) {
  return real(f)->pMethods->xUnlock(real(f), level);
}
int x_check_reserved_lock(sqlite3_file* f, int* out) {
  return real(f)->pMethods->xCheckReservedLock(real(f), out);
}
int x_file_control(sqlite3_file* f, int op, void* arg) {
  return real(f)->pMethods->xFileControl(real(f), op, arg);
}
int x_sector_size(sqlite3_file* f) {
  return real(f)->pMethods->xSectorSize(real(f));
}
int x_device_characteristics(sqlite3_file* f) {
  return real(f)->pMethods->xDeviceCharacteristics(real(f));
}
int x_shm_map(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  return real(f)->pMethods->xShmMap(real(f), region, size, extend, out);
}
int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return real(f)->pMethods->xShmLock(real(f), offset, n, flags);
}
void x_shm_barrier(sqlite3_file* f) {
  real(f)->pMethods->xShmBarrier(real(f));
}
int x_shm_unmap(sqlite3_file* f, int delete_flag) {
  return real(f)->pMethods->xShmUnmap(real(f), delete_flag);
}

int x_open(sqlite3_vfs* vfs, const char* name, sqlite3_file* f, int flags, int* out_flags) {
  state& st = state_of(vfs);
  shim_file& s = shim(f);
  s.base.pMethods = nullptr;
  s.st = &st;
  s.path = nullptr;
  s.real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f) + sizeof(shim_file));
  if (st.off)
    return SQLITE_CANTOPEN;
  const int rc = st.base->xOpen(st.base, name, s.real, flags, out_flags);
  if (rc != SQLITE_OK) {
    // SQLite calls xClose only when pMethods is set; the real file cleans up after itself.
    return rc;
  }
  s.base.pMethods = &st.methods;
  if (name != nullptr) {
    s.path = name;
    std::lock_guard lock(st.mutex);
    // What is on disk when a file is first opened counts as synced: it was there before.
    if (!st.files.contains(name))
      st.files[name].synced_size = real_size(s.real);
  }
  return SQLITE_OK;
}

int x_delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  state& st = state_of(vfs);
  std::lock_guard lock(st.mutex);
  if (st.off)
    return SQLITE_IOERR_DELETE;
  const int rc = st.base->xDelete(st.base, name, sync_dir);
  if (rc == SQLITE_OK)
    st.files.erase(name);
  return rc;
}

int x_access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return state_of(vfs).base->xAccess(state_of(vfs).base, name, flags, out);
}
int x_full_pathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
  return state_of(vfs).base->xFullPathname(state_of(vfs).base, name, n, out);
}
void* x_dl_open(sqlite3_vfs* vfs, const char* name) {
  return state_of(vfs).base->xDlOpen(state_of(vfs).base, name);
}
void x_dl_error(sqlite3_vfs* vfs, int n, char* out) {
  state_of(vfs).base->xDlError(state_of(vfs).base, n, out);
}
void (*x_dl_sym(sqlite3_vfs* vfs, void* handle, const char* symbol))(void) {
  return state_of(vfs).base->xDlSym(state_of(vfs).base, handle, symbol);
}
void x_dl_close(sqlite3_vfs* vfs, void* handle) {
  state_of(vfs).base->xDlClose(state_of(vfs).base, handle);
}
int x_randomness(sqlite3_vfs* vfs, int n, char* out) {
  return state_of(vfs).base->xRandomness(state_of(vfs).base, n, out);
}
int x_sleep(sqlite3_vfs* vfs, int micros) {
  return state_of(vfs).base->xSleep(state_of(vfs).base, micros);
}
int x_current_time(sqlite3_vfs* vfs, double* out) {
  return state_of(vfs).base->xCurrentTime(state_of(vfs).base, out);
}
int x_get_last_error(sqlite3_vfs* vfs, int n, char* out) {
  return state_of(vfs).base->xGetLastError(state_of(vfs).base, n, out);
}
int x_current_time_int64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  return state_of(vfs).base->xCurrentTimeInt64(state_of(vfs).base, out);
}

}  // namespace

power_cut_vfs::power_cut_vfs(std::string name) : state_(std::make_unique<state>()) {
  state& st = *state_;
  st.name = std::move(name);
  st.base = sqlite3_vfs_find(nullptr);
  if (st.base == nullptr)
    throw std::runtime_error("no default SQLite VFS");

  // Version 2: the shared-memory methods of WAL, and no memory-mapped reads, which would
  // bypass xRead.
  st.methods.iVersion = 2;
  st.methods.xClose = x_close;
  st.methods.xRead = x_read;
  st.methods.xWrite = x_write;
  st.methods.xTruncate = x_truncate;
  st.methods.xSync = x_sync;
  st.methods.xFileSize = x_file_size;
  st.methods.xLock = x_lock;
  st.methods.xUnlock = x_unlock;
  st.methods.xCheckReservedLock = x_check_reserved_lock;
  st.methods.xFileControl = x_file_control;
  st.methods.xSectorSize = x_sector_size;
  st.methods.xDeviceCharacteristics = x_device_characteristics;
  st.methods.xShmMap = x_shm_map;
  st.methods.xShmLock = x_shm_lock;
  st.methods.xShmBarrier = x_shm_barrier;
  st.methods.xShmUnmap = x_shm_unmap;

  st.vfs.iVersion = 2;
  st.vfs.szOsFile = static_cast<int>(sizeof(shim_file)) + st.base->szOsFile;
  st.vfs.mxPathname = st.base->mxPathname;
  st.vfs.zName = st.name.c_str();
  st.vfs.pAppData = &st;
  st.vfs.xOpen = x_open;
  st.vfs.xDelete = x_delete;
  st.vfs.xAccess = x_access;
  st.vfs.xFullPathname = x_full_pathname;
  st.vfs.xDlOpen = x_dl_open;
  st.vfs.xDlError = x_dl_error;
  st.vfs.xDlSym = x_dl_sym;
  st.vfs.xDlClose = x_dl_close;
  st.vfs.xRandomness = x_randomness;
  st.vfs.xSleep = x_sleep;
  st.vfs.xCurrentTime = x_current_time;
  st.vfs.xGetLastError = x_get_last_error;
  st.vfs.xCurrentTimeInt64 = x_current_time_int64;
  if (sqlite3_vfs_register(&st.vfs, 0) != SQLITE_OK)
    throw std::runtime_error("cannot register the SQLite VFS " + st.name);
}

power_cut_vfs::~power_cut_vfs() {
  sqlite3_vfs_unregister(&state_->vfs);
}

const std::string& power_cut_vfs::name() const noexcept {
  return state_->name;
}

void power_cut_vfs::cut_power() {
  std::lock_guard lock(state_->mutex);
  state_->cut();
}

void power_cut_vfs::cut_at_sync(int n) {
  std::lock_guard lock(state_->mutex);
  state_->cut_countdown = std::max(n, 0);
}

bool power_cut_vfs::powered_off() const {
  return state_->off;
}

std::uint64_t power_cut_vfs::syncs(const std::string& suffix) const {
  std::lock_guard lock(state_->mutex);
  std::uint64_t n = 0;
  for (const auto& [path, count] : state_->sync_counts) {
    if (path.ends_with(suffix))
      n += count;
  }
  return n;
}

}  // namespace crud::test_support

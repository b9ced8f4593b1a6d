#include "store/sqlite_read_pool.hpp"

#include <utility>

namespace crud::store {

namespace {

sqlite_connection::settings read_only(sqlite_connection::settings s) {
  s.read_only = true;
  return s;
}

}  // namespace

sqlite_read_pool::sqlite_read_pool(std::string path, sqlite_connection::settings s)
    : path_(std::move(path)), settings_(read_only(std::move(s))) {}

boost::system::result<void, std::string> sqlite_read_pool::open(std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    auto conn = sqlite_connection::open(path_, settings_);
    if (!conn)
      return std::move(conn).error();
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(*conn));
    ++opened_;
  }
  return {};
}

boost::system::result<sqlite_read_pool::lease, std::string> sqlite_read_pool::acquire() {
  std::unique_lock lock(mutex_);
  if (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    lock.unlock();
    conn->refresh_snapshot();
    return lease(*this, std::move(conn));
  }
  // Reserved now, so that give_back's push_back can never need to allocate.
  idle_.reserve(opened_ + 1);
  ++opened_;
  lock.unlock();
  // Opened outside the lock: it reads the file, and other readers need not wait for that.
  auto conn = sqlite_connection::open(path_, settings_);
  if (!conn) {
    lock.lock();
    --opened_;
    return std::move(conn).error();
  }
  (*conn)->refresh_snapshot();
  return lease(*this, std::move(*conn));
}

std::size_t sqlite_read_pool::size() const {
  std::lock_guard lock(mutex_);
  return opened_;
}

void sqlite_read_pool::end_idle_snapshots() noexcept {
  std::lock_guard lock(mutex_);
  for (auto& conn : idle_) {
    conn->end_snapshot();
  }
}

void sqlite_read_pool::give_back(std::unique_ptr<sqlite_connection> conn) noexcept {
  std::lock_guard lock(mutex_);
  // Cannot throw: the capacity already holds every connection opened.
  idle_.push_back(std::move(conn));
}

}  // namespace crud::store

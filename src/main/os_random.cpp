#include "main/os_random.hpp"

#include <openssl/crypto.h>
#include <pthread.h>
#include <sys/random.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace crud::main {
namespace {

// Bumped in a forked child: every block drawn before the fork is stale there.
std::atomic<unsigned> fork_generation{0};

void kernel_fill(std::span<std::byte> out) {
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::getrandom(out.data() + done, out.size() - done, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      std::abort();  // no randomness at all: ids and secrets would be predictable
    }
    done += static_cast<std::size_t>(n);
  }
}

struct block {
  static constexpr std::size_t size = 512;
  std::array<std::byte, size> bytes{};
  std::size_t used = size;  // empty until first drawn
  unsigned generation = 0;

  ~block() { OPENSSL_cleanse(bytes.data(), bytes.size()); }

  void take(std::span<std::byte> out) {
    const unsigned now = fork_generation.load(std::memory_order_relaxed);
    if (generation != now) {
      used = size;
      generation = now;
    }
    std::size_t done = 0;
    while (done < out.size()) {
      if (used == size) {
        kernel_fill(bytes);
        used = 0;
      }
      const std::size_t n = std::min(out.size() - done, size - used);
      std::memcpy(out.data() + done, bytes.data() + used, n);
      // Handed-out bytes must not stay readable in the block.
      OPENSSL_cleanse(bytes.data() + used, n);
      used += n;
      done += n;
    }
  }
};

}  // namespace

os_random::os_random() {
  static std::once_flag registered;
  std::call_once(registered, [] {
    ::pthread_atfork(nullptr, nullptr,
                     [] { fork_generation.fetch_add(1, std::memory_order_relaxed); });
  });
}

void os_random::fill(std::span<std::byte> out) {
  // Large requests (secrets, tests) gain nothing from the block.
  if (out.size() > block::size / 4) {
    kernel_fill(out);
    return;
  }
  thread_local block b;
  b.take(out);
}

}  // namespace crud::main

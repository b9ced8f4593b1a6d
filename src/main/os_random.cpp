#include "main/os_random.hpp"

#include <openssl/rand.h>
#include <sys/random.h>

#include <cerrno>
#include <cstdlib>

namespace crud::main {

void os_random::fill(std::span<std::byte> out) {
  if (out.empty())
    return;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size())) == 1) {
    return;
  }
  // OpenSSL's generator failed (it should not): ask the kernel directly.
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::getrandom(out.data() + done, out.size() - done, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      std::abort();  // no randomness at all: ids and secrets would be predictable
    }
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace crud::main

#pragma once
// The process's CSPRNG (OpenSSL's DRBG, seeded by the kernel), used for ids and secrets.
// Each thread draws from the DRBG in blocks and hands out bytes from its block: one
// RAND_bytes call costs about as much as a whole GET on the embedded store (it takes the
// DRBG's lock and goes through the provider), while ids need 10 to 16 bytes each. A fork
// discards the blocks, so a child never repeats its parent's bytes.

#include "core/random_source.hpp"

namespace crud::main {

class os_random final : public core::random_source {
 public:
  os_random();
  void fill(std::span<std::byte> out) override;
};

}  // namespace crud::main

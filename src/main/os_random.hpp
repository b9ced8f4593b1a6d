#pragma once
// The process's CSPRNG, used for ids and secrets: the kernel's (getrandom). Each thread draws
// it in blocks and hands out bytes from its block, since ids need 10 to 16 bytes each and a
// system call per id would cost more than the id. OpenSSL's DRBG is not used: its first call
// builds the generator through the provider machinery (an AES-CTR fetch, and OpenSSL's table
// of algorithm names), about a millisecond of every cold start (decision 24). A fork discards
// the blocks, so a child never repeats its parent's bytes.

#include "core/random_source.hpp"

namespace crud::main {

class os_random final : public core::random_source {
 public:
  os_random();
  void fill(std::span<std::byte> out) override;
};

}  // namespace crud::main

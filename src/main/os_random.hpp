#pragma once
// The process's CSPRNG (OpenSSL's DRBG, seeded by the kernel), used for ids and secrets.

#include "core/random_source.hpp"

namespace crud::main {

class os_random final : public core::random_source {
 public:
  void fill(std::span<std::byte> out) override;
};

}  // namespace crud::main

#pragma once
// The few cryptographic primitives core needs (SHA-256, HMAC-SHA-256, constant-time compare)
// and the text encodings that carry their output (hex, unpadded base64url). OpenSSL does the
// work; none of its types appear here.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crud::core {

using digest = std::array<std::uint8_t, 32>;

// Initialises OpenSSL before anything else uses it. Without `load_config`, openssl.cnf is never
// read: it configures nothing this program relies on, and parsing it is start-up time that a
// cold Lambda or a one-shot `invoke` pays for nothing. `main` passes whether OPENSSL_CONF is
// set, so an operator who names a configuration still gets it. Returns false when OpenSSL
// could not be initialised.
bool init_crypto(bool load_config) noexcept;

digest sha256(std::string_view data);
digest hmac_sha256(std::string_view key, std::string_view data);

// Equal-length comparison whose time does not depend on where the inputs differ.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

std::string to_hex(std::string_view bytes);
std::string base64url_encode(std::string_view bytes);
// Strict: rejects padding, characters outside the URL-safe alphabet and non-canonical tails.
std::optional<std::string> base64url_decode(std::string_view text);

inline std::string_view as_view(const digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

}  // namespace crud::core

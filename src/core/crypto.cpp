#include "core/crypto.hpp"

#include "core/hex.hpp"

#include <algorithm>

// SHA-256's own functions (SHA256_Init, _Update, _Final) are deprecated in OpenSSL 3 in favour
// of EVP, but they are still its fast implementation, and they need no provider: see below.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>

namespace crud::core {
namespace {

// Hashing goes straight to OpenSSL's SHA-256 functions, and HMAC is built on them here
// (RFC 2104: two hashes around the padded key), not through EVP. A process's first EVP fetch
// fills OpenSSL's table of algorithm names from its legacy object database, and its first HMAC
// loads every error string OpenSSL has. Together that was a fifth of the CPU of a one-shot
// `invoke` on DynamoDB, spent before its first signature (decision 25). Through EVP, each call
// also costs a fetch and a context, or per-thread contexts to avoid them.
constexpr std::size_t block_size = 64;

class sha256_hasher {
 public:
  sha256_hasher() { SHA256_Init(&ctx_); }
  sha256_hasher(const sha256_hasher&) = delete;
  sha256_hasher& operator=(const sha256_hasher&) = delete;
  ~sha256_hasher() { OPENSSL_cleanse(&ctx_, sizeof ctx_); }

  void update(const void* data, std::size_t size) { SHA256_Update(&ctx_, data, size); }
  digest finish() {
    digest out{};
    SHA256_Final(out.data(), &ctx_);
    return out;
  }

 private:
  SHA256_CTX ctx_{};
};

}  // namespace

digest sha256(std::string_view data) {
  sha256_hasher h;
  h.update(data.data(), data.size());
  return h.finish();
}

digest hmac_sha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, block_size> pad{};
  if (key.size() > block_size) {
    const digest short_key = sha256(key);
    std::copy(short_key.begin(), short_key.end(), pad.begin());
  } else {
    std::copy(key.begin(), key.end(), pad.begin());
  }
  for (auto& b : pad)
    b ^= 0x36;  // ipad
  sha256_hasher inner;
  inner.update(pad.data(), pad.size());
  inner.update(data.data(), data.size());
  const digest inner_digest = inner.finish();
  for (auto& b : pad)
    b ^= 0x36 ^ 0x5c;  // from ipad to opad
  sha256_hasher outer;
  outer.update(pad.data(), pad.size());
  outer.update(inner_digest.data(), inner_digest.size());
  OPENSSL_cleanse(pad.data(), pad.size());
  return outer.finish();
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size())
    return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool init_crypto(bool load_config) noexcept {
  const std::uint64_t config = load_config ? OPENSSL_INIT_LOAD_CONFIG : OPENSSL_INIT_NO_LOAD_CONFIG;
  return OPENSSL_init_crypto(config, nullptr) == 1;
}

std::string to_hex(std::string_view bytes) {
  // Sized once and written in place: push_back's capacity check per digit was most of its cost.
  std::string out(bytes.size() * 2, '\0');
  char* p = out.data();
  for (char c : bytes) {
    const auto b = static_cast<std::uint8_t>(c);
    *p++ = hex_lower[b >> 4];
    *p++ = hex_lower[b & 0xF];
  }
  return out;
}

namespace {
constexpr char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int b64url_value(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '-')
    return 62;
  if (c == '_')
    return 63;
  return -1;
}
}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto at = [&](std::size_t k) {
    return static_cast<unsigned>(static_cast<unsigned char>(bytes[k]));
  };
  for (; i + 3 <= bytes.size(); i += 3) {
    unsigned v = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
    out.push_back(b64url[v >> 18 & 63]);
    out.push_back(b64url[v >> 12 & 63]);
    out.push_back(b64url[v >> 6 & 63]);
    out.push_back(b64url[v & 63]);
  }
  std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    unsigned v = at(i) << 16;
    out.push_back(b64url[v >> 18 & 63]);
    out.push_back(b64url[v >> 12 & 63]);
  } else if (rest == 2) {
    unsigned v = at(i) << 16 | at(i + 1) << 8;
    out.push_back(b64url[v >> 18 & 63]);
    out.push_back(b64url[v >> 12 & 63]);
    out.push_back(b64url[v >> 6 & 63]);
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1)
    return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  unsigned acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = b64url_value(c);
    if (v < 0)
      return std::nullopt;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  // Leftover bits must be zero, so that each byte string has exactly one encoding.
  if ((acc & ((1U << bits) - 1)) != 0)
    return std::nullopt;
  return out;
}

}  // namespace crud::core

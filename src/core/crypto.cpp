#include "core/crypto.hpp"

#include "core/hex.hpp"

#include <memory>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/sha.h>

namespace crud::core {
namespace {

// OpenSSL 3's one-shot SHA256() and HMAC() look the algorithm up in the provider store and
// allocate a context on every call: about 1 µs each, most of what hashing the short strings of
// a SigV4 signature or a cursor costs. Here the algorithms are fetched once and each thread
// keeps its contexts; the one-shots remain the fallback should any step fail.
const EVP_MD* fetched_sha256() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

EVP_MAC* fetched_hmac() {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

struct md_ctx_free {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};
struct mac_ctx_free {
  void operator()(EVP_MAC_CTX* c) const noexcept { EVP_MAC_CTX_free(c); }
};

EVP_MD_CTX* thread_md_ctx() {
  thread_local const std::unique_ptr<EVP_MD_CTX, md_ctx_free> ctx(EVP_MD_CTX_new());
  return ctx.get();
}

// An HMAC context with its digest set once; each use only sets the key.
EVP_MAC_CTX* thread_hmac_ctx() {
  thread_local const std::unique_ptr<EVP_MAC_CTX, mac_ctx_free> ctx([]() -> EVP_MAC_CTX* {
    EVP_MAC* mac = fetched_hmac();
    EVP_MAC_CTX* c = mac ? EVP_MAC_CTX_new(mac) : nullptr;
    char digest_name[] = "SHA256";
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
        OSSL_PARAM_construct_end()};
    if (c && EVP_MAC_CTX_set_params(c, params) != 1) {
      EVP_MAC_CTX_free(c);
      c = nullptr;
    }
    return c;
  }());
  return ctx.get();
}

}  // namespace

digest sha256(std::string_view data) {
  digest out{};
  const EVP_MD* md = fetched_sha256();
  EVP_MD_CTX* ctx = thread_md_ctx();
  unsigned int len = 0;
  if (md && ctx && EVP_DigestInit_ex2(ctx, md, nullptr) == 1 &&
      EVP_DigestUpdate(ctx, data.data(), data.size()) == 1 &&
      EVP_DigestFinal_ex(ctx, out.data(), &len) == 1 && len == out.size()) {
    return out;
  }
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data());
  return out;
}

digest hmac_sha256(std::string_view key, std::string_view data) {
  digest out{};
  // A null key would tell EVP_MAC_init to keep the previous call's key: an empty key must
  // still be a (zero-length) key.
  static constexpr unsigned char no_key[1] = {0};
  const auto* key_bytes = key.empty() ? no_key : reinterpret_cast<const unsigned char*>(key.data());
  EVP_MAC_CTX* ctx = thread_hmac_ctx();
  std::size_t len = 0;
  if (ctx && EVP_MAC_init(ctx, key_bytes, key.size(), nullptr) == 1 &&
      EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1 &&
      EVP_MAC_final(ctx, out.data(), &len, out.size()) == 1 && len == out.size()) {
    return out;
  }
  unsigned int one_shot_len = 0;
  HMAC(EVP_sha256(), key_bytes, static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &one_shot_len);
  return out;
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

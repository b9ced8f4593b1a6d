// Bearer tokens: parsed and verified before anything else about a request is trusted. The raw
// input is verified as a token against an HS256 secret and an RSA public key; then it is also
// signed as a header and claims set, so that claim parsing is reached past the signature check.
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/crypto.hpp"
#include "core/jwt.hpp"

namespace {

using namespace crud::core;

constexpr std::int64_t now = 1'800'000'000;
constexpr std::string_view secret = "fuzz-secret-that-is-long-enough-for-hs256";

std::string rsa_public_pem() {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_RSA_gen(2048), &EVP_PKEY_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!key || !bio || PEM_write_bio_PUBKEY(bio.get(), key.get()) != 1)
    std::abort();
  char* pem = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &pem);
  return {pem, static_cast<std::size_t>(n)};
}

struct verifiers {
  jwt_verifier hs;
  jwt_verifier rs;
};

const verifiers& get() {
  static const verifiers v = [] {
    jwt_settings hs;
    hs.hs256_secret = std::string(secret);
    hs.issuer = "https://issuer.example";
    hs.audience = "crud-api";
    jwt_settings rs;
    rs.rs256_key_pem = rsa_public_pem();
    auto h = jwt_verifier::make(hs);
    auto r = jwt_verifier::make(rs);
    if (!h || !r)
      std::abort();
    return verifiers{*h, *r};
  }();
  return v;
}

void check(const crud::core::jwt_verifier& v, std::string_view token) {
  if (auto sub = v.verify(token, now); sub && sub->empty())
    std::abort();  // an accepted token always names its owner
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const verifiers& v = get();
  check(v.hs, text);
  check(v.rs, text);

  // "header\nclaims", or claims alone under a plain HS256 header, signed with the secret.
  std::string_view header = R"({"alg":"HS256","typ":"JWT"})";
  std::string_view claims = text;
  if (auto nl = text.find('\n'); nl != std::string_view::npos) {
    header = text.substr(0, nl);
    claims = text.substr(nl + 1);
  }
  const std::string signed_part = base64url_encode(header) + "." + base64url_encode(claims);
  const std::string token =
      signed_part + "." + base64url_encode(as_view(hmac_sha256(secret, signed_part)));
  check(v.hs, token);
  check(v.rs, token);
  return 0;
}

// Bearer tokens: parsed and verified before anything else about a request is trusted. The raw
// input is verified as a token against an HS256 secret and an RSA public key; then it is also
// signed as a header and claims set, so that claim parsing is reached past the signature check.
// The input is also verified against a JWK set (ES256: the R || S to DER conversion) and parsed
// as a JWK set itself, since a set comes from the network.
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
#include "core/jwks.hpp"
#include "core/jwks_cache.hpp"
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

// One P-256 public key, made for this fuzzer.
constexpr std::string_view key_set = R"({"keys":[{"kid":"ec","kty":"EC","crv":"P-256","use":"sig",)"
                                     R"("x":"M24TBA8-pcE_j6kCrksWOST_7v3EjgRLeA02qIwQaNY",)"
                                     R"("y":"Ih_nQkiRa63kZLbrcHiteOnK3dOZU5AbvghK3Y876DE"}]})";

struct verifiers {
  jwt_verifier hs;
  jwt_verifier rs;
  jwt_verifier jwks;
};

const verifiers& get() {
  static const verifiers v = [] {
    jwt_settings hs;
    hs.hs256_secret = std::string(secret);
    hs.issuer = "https://issuer.example";
    hs.audience = "crud-api";
    jwt_settings rs;
    rs.rs256_key_pem = rsa_public_pem();
    jwt_settings ks;
    ks.jwks = std::make_shared<jwks_cache>(
        [](std::int64_t) -> boost::system::result<std::string, std::string> {
          return {boost::system::in_place_value, std::string(key_set)};
        });
    auto h = jwt_verifier::make(hs);
    auto r = jwt_verifier::make(rs);
    if (!ks.jwks->load() || !h || !r)
      std::abort();
    auto k = jwt_verifier::make(ks);
    if (!k)
      std::abort();
    return verifiers{*h, *r, *k};
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
  check(v.jwks, text);
  if (auto set = jwk_set::parse(text); set && set->keys().empty())
    std::abort();  // a parsed set always has a usable key

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

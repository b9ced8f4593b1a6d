#include "core/jwt.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "core/crypto.hpp"
#include "core/jwks_cache.hpp"

namespace crud::core {
namespace json = boost::json;

namespace {

constexpr std::size_t max_subject_bytes = 256;

struct pkey_free {
  void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;

struct md_ctx_free {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};

bool rs256_valid(EVP_PKEY* key, std::string_view signed_part, std::string_view signature) {
  std::unique_ptr<EVP_MD_CTX, md_ctx_free> ctx(EVP_MD_CTX_new());
  if (!ctx)
    return false;
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1)
    return false;
  return EVP_DigestVerify(
             ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
             reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size()) == 1;
}

// A NumericDate claim as whole seconds; nullopt when absent, error when not a number.
boost::system::result<std::optional<std::int64_t>, std::string> numeric_date(
    const json::object& claims, std::string_view name) {
  const json::value* v = claims.if_contains(name);
  if (v == nullptr)
    return std::optional<std::int64_t>{};
  if (v->is_int64())
    return std::optional<std::int64_t>{v->get_int64()};
  if (v->is_uint64() &&
      v->get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return std::optional<std::int64_t>{static_cast<std::int64_t>(v->get_uint64())};
  if (v->is_double() && std::isfinite(v->get_double()) && std::abs(v->get_double()) < 1e15)
    return std::optional<std::int64_t>{static_cast<std::int64_t>(std::floor(v->get_double()))};
  return "claim " + std::string(name) + " is not a number";
}

// The claims are the token's to choose, so any int64 can arrive: these compare without ever
// computing a sum or difference that could overflow (undefined behaviour, and in practice a
// token with exp = INT64_MIN that never expires). `leeway` is never negative (make checks).
bool expired(std::int64_t exp, std::int64_t now_s, std::int64_t leeway) noexcept {
  // Expired when now_s > exp + leeway; exp + leeway only exists below INT64_MAX - leeway.
  if (exp > std::numeric_limits<std::int64_t>::max() - leeway)
    return false;
  return now_s > exp + leeway;
}

bool not_yet_valid(std::int64_t nbf, std::int64_t now_s, std::int64_t leeway) noexcept {
  // Not valid yet when nbf > now_s + leeway; past INT64_MAX nothing is later.
  if (now_s > std::numeric_limits<std::int64_t>::max() - leeway)
    return false;
  return nbf > now_s + leeway;
}

bool has_audience(const json::value& aud, std::string_view wanted) {
  if (aud.is_string())
    return aud.get_string() == wanted;
  if (aud.is_array()) {
    for (const json::value& a : aud.get_array()) {
      if (a.is_string() && a.get_string() == wanted)
        return true;
    }
  }
  return false;
}

}  // namespace

struct jwt_verifier::impl {
  jwt_settings settings;
  pkey_ptr rsa_key;  // set for RS256
};

boost::system::result<jwt_verifier, std::string> jwt_verifier::make(jwt_settings settings) {
  const bool hs = !settings.hs256_secret.empty();
  const bool rs = !settings.rs256_key_pem.empty();
  const bool jwks = settings.jwks != nullptr;
  if (static_cast<int>(hs) + static_cast<int>(rs) + static_cast<int>(jwks) != 1)
    return std::string("give one of an HS256 secret, an RS256 public key or a JWK set");
  // A short HMAC secret can be guessed offline from any token it signed (RFC 7518 §3.2).
  if (hs && settings.hs256_secret.size() < 32)
    return std::string("the HS256 secret must be at least 32 bytes long");
  if (settings.leeway_s < 0)
    return std::string("the leeway must not be negative");
  auto state = std::make_shared<impl>();
  if (rs) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(settings.rs256_key_pem.data(),
                        static_cast<int>(settings.rs256_key_pem.size())),
        &BIO_free);
    if (!bio)
      return std::string("out of memory reading the public key");
    state->rsa_key.reset(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    if (!state->rsa_key)
      return std::string("the public key is not a PEM \"PUBLIC KEY\"");
    if (EVP_PKEY_get_base_id(state->rsa_key.get()) != EVP_PKEY_RSA)
      return std::string("the public key is not an RSA key (RS256 needs one)");
    if (EVP_PKEY_get_bits(state->rsa_key.get()) < 2048)
      return std::string("the RSA key is shorter than 2048 bits");
  }
  state->settings = std::move(settings);
  return jwt_verifier(std::move(state));
}

boost::system::result<std::string, jwt_rejection> jwt_verifier::verify(std::string_view token,
                                                                       std::int64_t now_s) const {
  using rejected = jwt_rejection;
  const std::size_t dot1 = token.find('.');
  const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return rejected{"not a JWT (three dot-separated parts)"};
  const std::string_view signed_part = token.substr(0, dot2);
  auto header_text = base64url_decode(token.substr(0, dot1));
  auto payload_text = base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  auto signature = base64url_decode(token.substr(dot2 + 1));
  if (!header_text || !payload_text || !signature)
    return rejected{"a part is not base64url"};

  boost::system::error_code ec;
  const json::value header = json::parse(*header_text, ec);
  if (ec || !header.is_object())
    return rejected{"the header is not a JSON object"};
  const json::value* alg = header.get_object().if_contains("alg");
  if (alg == nullptr || !alg->is_string())
    return rejected{"the header has no alg"};
  const bool hs = !impl_->settings.hs256_secret.empty();
  if (impl_->settings.jwks) {
    // The key set holds public keys only, each for one algorithm: a token's alg picks among
    // RS256 and ES256, and the key its kid names must be for that very algorithm.
    auto jws = parse_jws_alg(alg->get_string());
    if (!jws)
      return rejected{"alg " + std::string(alg->get_string()) +
                      " where RS256 or ES256 is expected"};
    std::string_view kid;
    if (const json::value* k = header.get_object().if_contains("kid")) {
      if (!k->is_string())
        return rejected{"the header's kid is not a string"};
      kid = k->get_string();
    }
    auto key = impl_->settings.jwks->find(kid, *jws, now_s);
    if (!key)
      return rejected{key.error()};
    if (!key->verifies(signed_part, *signature))
      return rejected{"bad signature"};
  } else {
    // The algorithm is the key's, whatever the token asks for: a token cannot pick `none`, nor
    // HS256 with the RSA public key as its "secret".
    const std::string_view expected = hs ? "HS256" : "RS256";
    if (alg->get_string() != expected)
      return rejected{"alg " + std::string(alg->get_string()) + " where " + std::string(expected) +
                      " is expected"};
    if (hs) {
      const digest mac = hmac_sha256(impl_->settings.hs256_secret, signed_part);
      if (!constant_time_equal(as_view(mac), *signature))
        return rejected{"bad signature"};
    } else if (!rs256_valid(impl_->rsa_key.get(), signed_part, *signature)) {
      return rejected{"bad signature"};
    }
  }

  const json::value payload = json::parse(*payload_text, ec);
  if (ec || !payload.is_object())
    return rejected{"the claims are not a JSON object"};
  const json::object& claims = payload.get_object();
  const std::int64_t leeway = impl_->settings.leeway_s;
  auto exp = numeric_date(claims, "exp");
  if (!exp)
    return rejected{exp.error()};
  if (!*exp)
    return rejected{"no exp claim"};
  if (expired(**exp, now_s, leeway))
    return rejected{"expired"};
  auto nbf = numeric_date(claims, "nbf");
  if (!nbf)
    return rejected{nbf.error()};
  if (*nbf && not_yet_valid(**nbf, now_s, leeway))
    return rejected{"not valid yet (nbf)"};
  if (!impl_->settings.issuer.empty()) {
    const json::value* iss = claims.if_contains("iss");
    if (iss == nullptr || !iss->is_string() || iss->get_string() != impl_->settings.issuer)
      return rejected{"wrong or missing iss"};
  }
  if (!impl_->settings.audience.empty()) {
    const json::value* aud = claims.if_contains("aud");
    if (aud == nullptr || !has_audience(*aud, impl_->settings.audience))
      return rejected{"wrong or missing aud"};
  }
  const json::value* sub = claims.if_contains("sub");
  if (sub == nullptr || !sub->is_string() || sub->get_string().empty())
    return rejected{"no sub claim"};
  // The owner becomes part of stored keys and log lines: keep it short and printable.
  const std::string_view owner = sub->get_string();
  if (owner.size() > max_subject_bytes || std::any_of(owner.begin(), owner.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7F;
      }))
    return rejected{"the sub claim is too long or has control characters"};
  return {boost::system::in_place_value, std::string(owner)};
}

}  // namespace crud::core

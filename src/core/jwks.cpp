#include "core/jwks.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <array>
#include <utility>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "core/crypto.hpp"

namespace crud::core {
namespace json = boost::json;

namespace {

constexpr int min_rsa_bits = 2048;
constexpr std::size_t p256_coordinate_bytes = 32;

struct pkey_free {
  void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_free>;
struct pkey_ctx_free {
  void operator()(EVP_PKEY_CTX* c) const noexcept { EVP_PKEY_CTX_free(c); }
};
using pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, pkey_ctx_free>;
struct md_ctx_free {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};
struct bn_free {
  void operator()(BIGNUM* b) const noexcept { BN_free(b); }
};
using bn_ptr = std::unique_ptr<BIGNUM, bn_free>;
struct param_bld_free {
  void operator()(OSSL_PARAM_BLD* b) const noexcept { OSSL_PARAM_BLD_free(b); }
};
struct params_free {
  void operator()(OSSL_PARAM* p) const noexcept { OSSL_PARAM_free(p); }
};
struct ecdsa_sig_free {
  void operator()(ECDSA_SIG* s) const noexcept { ECDSA_SIG_free(s); }
};

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

bn_ptr to_bn(std::string_view big_endian) {
  return bn_ptr(BN_bin2bn(bytes(big_endian), static_cast<int>(big_endian.size()), nullptr));
}

// A public key from OSSL parameters, as `type` ("RSA" or "EC"); null when they do not make one.
pkey_ptr key_from(const char* type, OSSL_PARAM_BLD* bld) {
  std::unique_ptr<OSSL_PARAM, params_free> params(OSSL_PARAM_BLD_to_param(bld));
  pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1)
    return nullptr;
  EVP_PKEY* made = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &made, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    return nullptr;
  pkey_ptr key(made);
  // For EC: the point is on the curve and not the identity (an invalid-curve key would let a
  // signature leak nothing, but such a key is a broken provider, not one to trust).
  pkey_ctx_ptr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1)
    return nullptr;
  return key;
}

const json::string* string_member(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  return v != nullptr && v->is_string() ? &v->get_string() : nullptr;
}

// A base64url member's bytes; nullopt when absent or not base64url.
std::optional<std::string> b64_member(const json::object& o, std::string_view name) {
  const json::string* s = string_member(o, name);
  if (s == nullptr)
    return std::nullopt;
  return base64url_decode(std::string_view(*s));
}

using key_outcome = boost::system::result<pkey_ptr, std::string>;

key_outcome rsa_key(const json::object& o) {
  auto n = b64_member(o, "n");
  auto e = b64_member(o, "e");
  if (!n || !e)
    return std::string("RSA key without base64url n and e");
  bn_ptr bn_n = to_bn(*n);
  bn_ptr bn_e = to_bn(*e);
  if (!bn_n || !bn_e)
    return std::string("out of memory");
  if (BN_num_bits(bn_n.get()) < min_rsa_bits)
    return std::string("RSA key shorter than 2048 bits");
  // A public exponent is odd and small (65537 in practice); anything else is a broken key.
  if (!BN_is_odd(bn_e.get()) || BN_num_bits(bn_e.get()) < 2 || BN_num_bits(bn_e.get()) > 64)
    return std::string("RSA key with an implausible exponent");
  std::unique_ptr<OSSL_PARAM_BLD, param_bld_free> bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1)
    return std::string("out of memory");
  pkey_ptr key = key_from("RSA", bld.get());
  if (!key)
    return std::string("RSA key OpenSSL refuses");
  return key;
}

key_outcome p256_key(const json::object& o) {
  const json::string* crv = string_member(o, "crv");
  if (crv == nullptr || *crv != "P-256")
    return std::string("EC key not on P-256");
  auto x = b64_member(o, "x");
  auto y = b64_member(o, "y");
  // RFC 7518 §6.2.1.2: each coordinate is the full 32 bytes, leading zeros included.
  if (!x || !y || x->size() != p256_coordinate_bytes || y->size() != p256_coordinate_bytes)
    return std::string("EC key whose x and y are not 32 bytes of base64url each");
  std::string point(1, '\x04');  // uncompressed (SEC 1 §2.3.3)
  point += *x;
  point += *y;
  std::unique_ptr<OSSL_PARAM_BLD, param_bld_free> bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1)
    return std::string("out of memory");
  pkey_ptr key = key_from("EC", bld.get());
  if (!key)
    return std::string("EC key whose point is not on P-256");
  return key;
}

bool digest_verify(EVP_PKEY* key, std::string_view signed_part, std::string_view signature) {
  std::unique_ptr<EVP_MD_CTX, md_ctx_free> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1)
    return false;
  return EVP_DigestVerify(ctx.get(), bytes(signature), signature.size(), bytes(signed_part),
                          signed_part.size()) == 1;
}

// JOSE carries an ECDSA signature as R || S, each 32 bytes (RFC 7518 §3.4); OpenSSL verifies
// the DER SEQUENCE of two INTEGERs. Any other length is refused before conversion.
std::optional<std::string> es256_to_der(std::string_view jose) {
  if (jose.size() != 2 * p256_coordinate_bytes)
    return std::nullopt;
  std::unique_ptr<ECDSA_SIG, ecdsa_sig_free> sig(ECDSA_SIG_new());
  bn_ptr r = to_bn(jose.substr(0, p256_coordinate_bytes));
  bn_ptr s = to_bn(jose.substr(p256_coordinate_bytes));
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1)
    return std::nullopt;
  (void)r.release();  // owned by sig now
  (void)s.release();
  const int size = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (size <= 0)
    return std::nullopt;
  std::string der(static_cast<std::size_t>(size), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &out) != size)
    return std::nullopt;
  return der;
}

// Whether the members that say how a key may be used allow signature checks under `alg`.
std::optional<std::string> usage_problem(const json::object& o, jws_alg alg) {
  if (const json::value* a = o.if_contains("alg")) {
    if (!a->is_string() || a->get_string() != jws_alg_name(alg))
      return std::string("alg is not ") + std::string(jws_alg_name(alg));
  }
  if (const json::value* use = o.if_contains("use")) {
    if (!use->is_string() || use->get_string() != "sig")
      return std::string("use is not sig");
  }
  if (const json::value* ops = o.if_contains("key_ops")) {
    const bool verify =
        ops->is_array() &&
        std::any_of(ops->get_array().begin(), ops->get_array().end(), [](const json::value& op) {
          return op.is_string() && op.get_string() == "verify";
        });
    if (!verify)
      return std::string("key_ops does not allow verify");
  }
  return std::nullopt;
}

}  // namespace

std::optional<jws_alg> parse_jws_alg(std::string_view name) noexcept {
  if (name == "RS256")
    return jws_alg::rs256;
  if (name == "ES256")
    return jws_alg::es256;
  return std::nullopt;
}

std::string_view jws_alg_name(jws_alg alg) noexcept {
  return alg == jws_alg::rs256 ? "RS256" : "ES256";
}

struct jwk::impl {
  std::string kid;
  jws_alg alg = jws_alg::rs256;
  pkey_ptr key;
};

const std::string& jwk::kid() const noexcept {
  return impl_->kid;
}

jws_alg jwk::alg() const noexcept {
  return impl_->alg;
}

bool jwk::verifies(std::string_view signed_part, std::string_view signature) const {
  if (impl_->alg == jws_alg::rs256)
    return digest_verify(impl_->key.get(), signed_part, signature);
  auto der = es256_to_der(signature);
  return der && digest_verify(impl_->key.get(), signed_part, *der);
}

boost::system::result<jwk_set, std::string> jwk_set::parse(std::string_view document) {
  boost::system::error_code ec;
  const json::value doc = json::parse(document, ec);
  const json::value* keys = !ec && doc.is_object() ? doc.get_object().if_contains("keys") : nullptr;
  if (keys == nullptr || !keys->is_array())
    return std::string("not a JWK set (a JSON object with a keys array)");
  jwk_set set;
  for (const json::value& k : keys->get_array()) {
    if (!k.is_object())
      return std::string("not a JWK set (a key is not a JSON object)");
    const json::object& o = k.get_object();
    std::string kid;
    if (const json::value* v = o.if_contains("kid")) {
      if (!v->is_string()) {
        set.skipped_.emplace_back("a key whose kid is not a string");
        continue;
      }
      kid = std::string(v->get_string());
    }
    auto skip = [&](std::string_view why) {
      set.skipped_.push_back("kid \"" + kid + "\": " + std::string(why));
    };
    const json::string* kty = string_member(o, "kty");
    jws_alg alg{};
    key_outcome key;
    if (kty != nullptr && *kty == "RSA") {
      alg = jws_alg::rs256;
      if (auto problem = usage_problem(o, alg)) {
        skip(*problem);
        continue;
      }
      key = rsa_key(o);
    } else if (kty != nullptr && *kty == "EC") {
      alg = jws_alg::es256;
      if (auto problem = usage_problem(o, alg)) {
        skip(*problem);
        continue;
      }
      key = p256_key(o);
    } else {
      skip("kty is neither RSA nor EC");
      continue;
    }
    if (!key) {
      skip(key.error());
      continue;
    }
    if (set.find(kid, alg) != nullptr)
      return "two " + std::string(jws_alg_name(alg)) + " keys with kid \"" + kid + "\"";
    auto state = std::make_shared<jwk::impl>();
    state->kid = std::move(kid);
    state->alg = alg;
    state->key = std::move(*key);
    set.keys_.push_back(jwk(std::move(state)));
  }
  if (set.keys_.empty()) {
    std::string why = "the JWK set has no RS256 or ES256 signing key";
    if (!set.skipped_.empty())
      why += " (" + set.skipped_.front() + ")";
    return why;
  }
  return set;
}

const jwk* jwk_set::find(std::string_view kid, jws_alg alg) const noexcept {
  for (const jwk& k : keys_) {
    if (k.alg() == alg && k.kid() == kid)
      return &k;
  }
  return nullptr;
}

}  // namespace crud::core

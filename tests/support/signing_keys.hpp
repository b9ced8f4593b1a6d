#pragma once
// Test support: signing keys made by the test (RSA 2048 for RS256, P-256 for ES256), their
// public halves as JWKs (RFC 7517), and tokens they sign, with the signature in the form JOSE
// carries it (R || S for ES256). Header-only, on OpenSSL directly, so that the core unit tests
// and the e2e tests share it without another library.

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/crypto.hpp"

namespace crud::test_support {

class signing_key {
 public:
  static signing_key rs256(unsigned bits = 2048) { return signing_key(EVP_RSA_gen(bits), false); }
  static signing_key es256() { return signing_key(EVP_EC_gen("P-256"), true); }

  bool is_ec() const { return ec_; }
  std::string_view alg() const { return ec_ ? "ES256" : "RS256"; }

  // The public key as a JWK object, with `kid` and any further members (`"use":"sig"` ...).
  std::string jwk(std::string_view kid, std::string_view extra_members = "") const {
    std::string out = R"({"kid":")" + std::string(kid) + R"(",)";
    if (ec_) {
      out += R"("kty":"EC","crv":"P-256","x":")" + coordinate(OSSL_PKEY_PARAM_EC_PUB_X) +
             R"(","y":")" + coordinate(OSSL_PKEY_PARAM_EC_PUB_Y) + '"';
    } else {
      out += R"("kty":"RSA","n":")" + big(OSSL_PKEY_PARAM_RSA_N) + R"(","e":")" +
             big(OSSL_PKEY_PARAM_RSA_E) + '"';
    }
    if (!extra_members.empty())
      out.append(",").append(extra_members);
    return out + "}";
  }

  // The signature of `data` as a JWS carries it.
  std::string sign(std::string_view data) const {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get());
    std::size_t len = 0;
    const auto* in = reinterpret_cast<const unsigned char*>(data.data());
    EVP_DigestSign(ctx.get(), nullptr, &len, in, data.size());
    std::string sig(len, '\0');
    EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in, data.size());
    sig.resize(len);
    if (!ec_)
      return sig;
    // DER SEQUENCE { r, s } to the fixed-width R || S of RFC 7518 §3.4.
    const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> es(
        d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())), &ECDSA_SIG_free);
    std::string raw(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(es.get()), reinterpret_cast<unsigned char*>(raw.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(es.get()), reinterpret_cast<unsigned char*>(raw.data() + 32), 32);
    return raw;
  }

  // A token with header {"alg":alg(),"kid":kid} (or `header` when given) and `claims`.
  std::string token(std::string_view kid, const std::string& claims,
                    const std::string& header = "") const {
    const std::string h = header.empty()
                              ? R"({"alg":")" + std::string(alg()) + R"(","typ":"JWT","kid":")" +
                                    std::string(kid) + R"("})"
                              : header;
    const std::string signed_part =
        core::base64url_encode(h) + "." + core::base64url_encode(claims);
    return signed_part + "." + core::base64url_encode(sign(signed_part));
  }

 private:
  signing_key(EVP_PKEY* key, bool ec) : key_(key, &EVP_PKEY_free), ec_(ec) {}

  std::string big(const char* param) const {
    BIGNUM* bn = nullptr;
    EVP_PKEY_get_bn_param(key_.get(), param, &bn);
    std::string bytes(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
    BN_free(bn);
    return core::base64url_encode(bytes);
  }

  std::string coordinate(const char* param) const {
    BIGNUM* bn = nullptr;
    EVP_PKEY_get_bn_param(key_.get(), param, &bn);
    std::string bytes(32, '\0');
    BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(bytes.data()), 32);
    BN_free(bn);
    return core::base64url_encode(bytes);
  }

  std::shared_ptr<EVP_PKEY> key_;
  bool ec_;
};

}  // namespace crud::test_support

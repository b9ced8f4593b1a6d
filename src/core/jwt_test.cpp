#include "core/jwt.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <limits>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "core/crypto.hpp"

namespace crud::core {
namespace {

constexpr std::int64_t now = 1'800'000'000;
constexpr std::string_view secret = "a-test-secret-that-is-forty-bytes-long!!";

std::string b64(std::string_view s) {
  return base64url_encode(s);
}

std::string hs256_token(const std::string& header, const std::string& claims,
                        std::string_view key = secret) {
  const std::string signed_part = b64(header) + "." + b64(claims);
  return signed_part + "." + b64(as_view(hmac_sha256(key, signed_part)));
}

std::string claims_for(std::string_view sub, std::int64_t exp = now + 300) {
  return R"({"sub":")" + std::string(sub) + R"(","exp":)" + std::to_string(exp) + "}";
}

jwt_verifier hs_verifier(jwt_settings extra = {}) {
  extra.hs256_secret = std::string(secret);
  auto v = jwt_verifier::make(std::move(extra));
  EXPECT_TRUE(v.has_value()) << (v ? "" : v.error());
  return *v;
}

// An RSA key pair made for the test, with the public half as PEM and a signer.
struct rsa_pair {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{EVP_RSA_gen(2048), &EVP_PKEY_free};

  std::string public_pem() const {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    PEM_write_bio_PUBKEY(bio.get(), key.get());
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return {data, static_cast<std::size_t>(n)};
  }

  std::string sign(std::string_view data) const {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get());
    std::size_t len = 0;
    EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()),
                   data.size());
    std::string sig(len, '\0');
    EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                   reinterpret_cast<const unsigned char*>(data.data()), data.size());
    sig.resize(len);
    return sig;
  }

  std::string token(const std::string& claims,
                    const std::string& header = R"({"alg":"RS256","typ":"JWT"})") const {
    const std::string signed_part = b64(header) + "." + b64(claims);
    return signed_part + "." + b64(sign(signed_part));
  }
};

TEST(Jwt, AcceptsAValidHs256TokenAndGivesItsSubject) {
  const auto v = hs_verifier();
  auto sub = v.verify(hs256_token(R"({"alg":"HS256","typ":"JWT"})", claims_for("alice")), now);
  ASSERT_TRUE(sub.has_value()) << sub.error().reason;
  EXPECT_EQ(*sub, "alice");
}

TEST(Jwt, RejectsABadSignatureOrAnotherSecret) {
  const auto v = hs_verifier();
  std::string token = hs256_token(R"({"alg":"HS256"})", claims_for("alice"));
  token.back() = token.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(v.verify(token, now).has_value());
  EXPECT_FALSE(
      v.verify(hs256_token(R"({"alg":"HS256"})", claims_for("alice"), std::string(40, 'x')), now)
          .has_value());
  // The claims changed after signing.
  const std::string good = hs256_token(R"({"alg":"HS256"})", claims_for("alice"));
  const std::string forged = good.substr(0, good.find('.') + 1) + b64(claims_for("mallory")) +
                             good.substr(good.rfind('.'));
  EXPECT_FALSE(v.verify(forged, now).has_value());
}

TEST(Jwt, NeverLetsTheTokenChooseTheAlgorithm) {
  const auto v = hs_verifier();
  const std::string unsigned_token =
      b64(R"({"alg":"none"})") + "." + b64(claims_for("alice")) + ".";
  EXPECT_FALSE(v.verify(unsigned_token, now).has_value());
  EXPECT_FALSE(v.verify(hs256_token(R"({"alg":"HS512"})", claims_for("alice")), now).has_value());
  EXPECT_FALSE(v.verify(hs256_token(R"({"typ":"JWT"})", claims_for("alice")), now).has_value());

  // HS256 "signed" with the RSA public key's PEM text must not pass an RS256 verifier.
  rsa_pair rsa;
  auto rs = jwt_verifier::make({.rs256_key_pem = rsa.public_pem()});
  ASSERT_TRUE(rs.has_value()) << rs.error();
  EXPECT_FALSE(
      rs->verify(hs256_token(R"({"alg":"HS256"})", claims_for("alice"), rsa.public_pem()), now)
          .has_value());
}

TEST(Jwt, AcceptsAValidRs256Token) {
  rsa_pair rsa;
  auto v = jwt_verifier::make({.rs256_key_pem = rsa.public_pem()});
  ASSERT_TRUE(v.has_value()) << v.error();
  auto sub = v->verify(rsa.token(claims_for("us-east-1:abc-123")), now);
  ASSERT_TRUE(sub.has_value()) << sub.error().reason;
  EXPECT_EQ(*sub, "us-east-1:abc-123");

  rsa_pair other;
  EXPECT_FALSE(v->verify(other.token(claims_for("alice")), now).has_value());
}

TEST(Jwt, EnforcesExpiryAndNotBeforeWithLeeway) {
  const auto v = hs_verifier({.leeway_s = 60});
  const std::string h = R"({"alg":"HS256"})";
  EXPECT_TRUE(v.verify(hs256_token(h, claims_for("a", now - 30)), now).has_value());
  EXPECT_FALSE(v.verify(hs256_token(h, claims_for("a", now - 61)), now).has_value());
  EXPECT_FALSE(v.verify(hs256_token(h, R"({"sub":"a"})"), now).has_value()) << "exp is required";
  EXPECT_FALSE(v.verify(hs256_token(h, R"({"sub":"a","exp":"soon"})"), now).has_value());
  const std::string later = R"({"sub":"a","exp":)" + std::to_string(now + 600) + R"(,"nbf":)";
  EXPECT_TRUE(v.verify(hs256_token(h, later + std::to_string(now + 30) + "}"), now).has_value());
  EXPECT_FALSE(v.verify(hs256_token(h, later + std::to_string(now + 120) + "}"), now).has_value());
}

TEST(Jwt, HandlesExtremeExpAndNbfWithoutOverflow) {
  // Claims are the sender's choice: the comparisons must hold at the int64 limits (and stay
  // free of signed overflow, which UBSan would abort on).
  constexpr std::int64_t lo = std::numeric_limits<std::int64_t>::min();
  constexpr std::int64_t hi = std::numeric_limits<std::int64_t>::max();
  const auto v = hs_verifier({.leeway_s = 60});
  const std::string h = R"({"alg":"HS256"})";
  EXPECT_FALSE(v.verify(hs256_token(h, claims_for("a", lo)), now).has_value())
      << "exp at INT64_MIN is long expired";
  EXPECT_TRUE(v.verify(hs256_token(h, claims_for("a", hi)), now).has_value());
  const std::string with_nbf = R"({"sub":"a","exp":)" + std::to_string(now + 600) + R"(,"nbf":)";
  EXPECT_TRUE(v.verify(hs256_token(h, with_nbf + std::to_string(lo) + "}"), now).has_value());
  EXPECT_FALSE(v.verify(hs256_token(h, with_nbf + std::to_string(hi) + "}"), now).has_value())
      << "nbf at INT64_MAX is never reached";
  // The clock at the limits too.
  EXPECT_FALSE(v.verify(hs256_token(h, claims_for("a", now)), hi).has_value());
  EXPECT_TRUE(v.verify(hs256_token(h, claims_for("a", hi)), lo).has_value());
}

TEST(Jwt, ChecksIssuerAndAudienceWhenConfigured) {
  const auto v = hs_verifier({.issuer = "https://issuer.example", .audience = "crud"});
  const std::string h = R"({"alg":"HS256"})";
  const std::string exp = R"(,"exp":)" + std::to_string(now + 60) + "}";
  EXPECT_TRUE(
      v.verify(hs256_token(h, R"({"sub":"a","iss":"https://issuer.example","aud":"crud")" + exp),
               now)
          .has_value());
  EXPECT_TRUE(v.verify(hs256_token(h, R"({"sub":"a","iss":"https://issuer.example",)"
                                      R"("aud":["other","crud"])" +
                                          exp),
                       now)
                  .has_value());
  EXPECT_FALSE(
      v.verify(hs256_token(h, R"({"sub":"a","iss":"https://evil.example","aud":"crud")" + exp), now)
          .has_value());
  EXPECT_FALSE(
      v.verify(hs256_token(h, R"({"sub":"a","iss":"https://issuer.example","aud":"other")" + exp),
               now)
          .has_value());
  EXPECT_FALSE(v.verify(hs256_token(h, R"({"sub":"a")" + exp), now).has_value());
}

TEST(Jwt, NeedsAUsableSubject) {
  const auto v = hs_verifier();
  const std::string h = R"({"alg":"HS256"})";
  const std::string exp = R"(,"exp":)" + std::to_string(now + 60) + "}";
  EXPECT_FALSE(v.verify(hs256_token(h, R"({"sub":"")" + exp), now).has_value());
  EXPECT_FALSE(v.verify(hs256_token(h, R"({"sub":42)" + exp), now).has_value());
  EXPECT_FALSE(v.verify(hs256_token(h, R"({"sub":"a\nb")" + exp), now).has_value());
  EXPECT_FALSE(v.verify(hs256_token(h, R"({"sub":")" + std::string(300, 'a') + "\"" + exp), now)
                   .has_value());
}

TEST(Jwt, RejectsMalformedTokens) {
  const auto v = hs_verifier();
  for (std::string_view t : {"", "abc", "a.b", "a.b.c.d", "!!.??.##", "e30.e30.", "..",
                             "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.AAAA"}) {
    EXPECT_FALSE(v.verify(t, now).has_value()) << t;
  }
}

TEST(Jwt, RefusesWeakOrAmbiguousSettings) {
  EXPECT_FALSE(jwt_verifier::make({}).has_value());
  EXPECT_FALSE(jwt_verifier::make({.hs256_secret = "short"}).has_value());
  EXPECT_FALSE(jwt_verifier::make({.rs256_key_pem = "not a key"}).has_value());
  rsa_pair rsa;
  EXPECT_FALSE(
      jwt_verifier::make({.hs256_secret = std::string(secret), .rs256_key_pem = rsa.public_pem()})
          .has_value());
}

}  // namespace
}  // namespace crud::core

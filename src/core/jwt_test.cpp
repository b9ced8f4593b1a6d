#include "core/jwt.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/crypto.hpp"
#include "core/jwks_cache.hpp"
#include "support/signing_keys.hpp"

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

namespace crud::core {
namespace {

// The token with its signature replaced by `signature`'s bytes.
std::string with_signature(const std::string& token, std::string_view signature) {
  return token.substr(0, token.rfind('.') + 1) + b64(signature);
}

std::string signature_of(const std::string& token) {
  return base64url_decode(token.substr(token.rfind('.') + 1)).value_or("");
}

// Signatures that are almost the right one: empty, cut short, one byte off at either end,
// with a byte more, doubled. Only the exact signature may pass.
std::vector<std::string> near_misses(const std::string& good) {
  std::string last_off = good;
  last_off.back() = static_cast<char>(last_off.back() ^ 0x01);
  std::string first_off = good;
  first_off.front() = static_cast<char>(first_off.front() ^ 0x80);
  return {std::string(),
          good.substr(0, 1),
          good.substr(0, good.size() / 2),
          good.substr(0, good.size() - 1),
          last_off,
          first_off,
          good + '\0',
          good + good};
}

TEST(Jwt, AcceptsOnlyTheExactHs256Signature) {
  const auto v = hs_verifier();
  const std::string token = hs256_token(R"({"alg":"HS256"})", claims_for("alice"));
  const std::string good = signature_of(token);
  ASSERT_EQ(good.size(), 32U);
  ASSERT_TRUE(v.verify(with_signature(token, good), now).has_value());
  for (const std::string& sig : near_misses(good)) {
    EXPECT_FALSE(v.verify(with_signature(token, sig), now).has_value())
        << "a signature of " << sig.size() << " bytes passed";
  }
}

TEST(Jwt, AcceptsOnlyTheExactRs256Signature) {
  rsa_pair rsa;
  auto v = jwt_verifier::make({.rs256_key_pem = rsa.public_pem()});
  ASSERT_TRUE(v.has_value()) << v.error();
  const std::string token = rsa.token(claims_for("alice"));
  const std::string good = signature_of(token);
  ASSERT_EQ(good.size(), 256U);
  ASSERT_TRUE(v->verify(with_signature(token, good), now).has_value());
  for (const std::string& sig : near_misses(good)) {
    EXPECT_FALSE(v->verify(with_signature(token, sig), now).has_value())
        << "a signature of " << sig.size() << " bytes passed";
  }
}

// With a JWK set (--jwt-jwks-url): the key the token's kid names, for the token's alg.
class JwtWithKeySet : public ::testing::Test {
 protected:
  void SetUp() override {
    fetch_document_ = R"({"keys":[)" + rsa_.jwk("r") + "," + ec_.jwk("e") + "]}";
    cache_ = std::make_shared<jwks_cache>(
        [this](std::int64_t) -> boost::system::result<std::string, std::string> {
          return {boost::system::in_place_value, fetch_document_};
        });
    ASSERT_TRUE(cache_->load().has_value());
    jwt_settings settings;
    settings.jwks = cache_;
    auto v = jwt_verifier::make(std::move(settings));
    ASSERT_TRUE(v.has_value()) << v.error();
    verifier_.emplace(std::move(*v));
  }

  std::string reason(const std::string& token) {
    auto r = verifier_->verify(token, now);
    return r ? "accepted" : r.error().reason;
  }

  test_support::signing_key rsa_ = test_support::signing_key::rs256();
  test_support::signing_key ec_ = test_support::signing_key::es256();
  std::string fetch_document_;
  std::shared_ptr<jwks_cache> cache_;
  std::optional<jwt_verifier> verifier_;
};

TEST_F(JwtWithKeySet, AcceptsRs256AndEs256TokensOfItsKeys) {
  for (const auto* key : {&rsa_, &ec_}) {
    auto sub = verifier_->verify(key->token(key == &rsa_ ? "r" : "e", claims_for("alice")), now);
    ASSERT_TRUE(sub.has_value()) << sub.error().reason;
    EXPECT_EQ(*sub, "alice");
  }
  // The claims are checked as with any key.
  EXPECT_EQ(reason(ec_.token("e", claims_for("alice", now - 3600))), "expired");
}

TEST_F(JwtWithKeySet, NeverLetsTheTokenChooseHowAKeyIsUsed) {
  const std::string claims = b64(claims_for("mallory"));
  // HS256 "signed" with what the attacker knows of the public key: never considered.
  const std::string hs_part = b64(R"({"alg":"HS256","kid":"r"})") + "." + claims;
  for (const std::string& guess : {rsa_.jwk("r"), std::string(rsa_.jwk("r").substr(0, 40))}) {
    EXPECT_EQ(reason(hs_part + "." + b64(as_view(hmac_sha256(guess, hs_part)))),
              "alg HS256 where RS256 or ES256 is expected");
  }
  EXPECT_EQ(reason(b64(R"({"alg":"none","kid":"r"})") + "." + claims + "."),
            "alg none where RS256 or ES256 is expected");
  // An RSA kid with ES256, an EC kid with RS256: no such key.
  EXPECT_NE(reason(ec_.token("r", claims_for("mallory"))).find("no ES256 key with kid \"r\""),
            std::string::npos);
  EXPECT_NE(reason(rsa_.token("e", claims_for("mallory"))).find("no RS256 key with kid \"e\""),
            std::string::npos);
  // A key's kid on a token signed by another key of the same type.
  const auto stranger = test_support::signing_key::es256();
  EXPECT_EQ(reason(stranger.token("e", claims_for("mallory"))), "bad signature");
  EXPECT_EQ(reason(rsa_.token("r", claims_for("mallory"), R"({"alg":"RS256","kid":7})")),
            "the header's kid is not a string");
}

TEST_F(JwtWithKeySet, AnUnknownKidRefreshesTheSetOnceThenWaitsAMinute) {
  const auto rotated = test_support::signing_key::es256();
  fetch_document_ = R"({"keys":[)" + rotated.jwk("new") + "]}";
  EXPECT_EQ(reason(rotated.token("new", claims_for("alice"))), "accepted");
  EXPECT_EQ(cache_->fetches(), 2U);
  EXPECT_NE(reason(rotated.token("newer", claims_for("alice"))).find("refreshed"),
            std::string::npos);
  // Without a kid, only a key without one would do.
  EXPECT_NE(reason(rotated.token("", claims_for("alice"), R"({"alg":"ES256"})"))
                .find("no ES256 key with kid \"\""),
            std::string::npos);
  EXPECT_EQ(cache_->fetches(), 2U);
}

TEST(Jwt, MakeTakesExactlyOneKindOfKey) {
  auto cache = std::make_shared<jwks_cache>(
      [](std::int64_t) -> boost::system::result<std::string, std::string> {
        return {boost::system::in_place_error, "unused"};
      });
  jwt_settings both;
  both.hs256_secret = std::string(secret);
  both.jwks = cache;
  EXPECT_FALSE(jwt_verifier::make(both).has_value());
  EXPECT_FALSE(jwt_verifier::make(jwt_settings{}).has_value());
}

}  // namespace
}  // namespace crud::core

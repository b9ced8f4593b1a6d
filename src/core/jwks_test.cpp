#include "core/jwks.hpp"

#include <gtest/gtest.h>

#include <string>

#include "core/crypto.hpp"
#include "support/signing_keys.hpp"

namespace crud::core {
namespace {

using test_support::signing_key;

const signing_key& rsa() {
  static const signing_key k = signing_key::rs256();
  return k;
}
const signing_key& ec() {
  static const signing_key k = signing_key::es256();
  return k;
}

std::string set_of(const std::string& keys) {
  return R"({"keys":[)" + keys + "]}";
}

// A JWK with one member's value replaced, e.g. with_member(jwk, "x", "\"AAAA\"").
std::string with_member(std::string jwk, std::string_view name, std::string_view value) {
  std::string key = "\"";
  key.append(name).append("\":");
  const std::size_t at = jwk.find(key);
  const std::size_t start = at + key.size();
  std::size_t end = jwk.find_first_of(",}", jwk.find('"', start + 1) + 1);
  jwk.replace(start, end - start, value);
  return jwk;
}

TEST(JwkSet, ParsesRsaAndEcKeysEachForItsOwnAlgorithm) {
  auto set =
      jwk_set::parse(set_of(rsa().jwk("r1", R"("use":"sig","alg":"RS256")") + "," +
                            ec().jwk("e1", R"("use":"sig","alg":"ES256","key_ops":["verify"])")));
  ASSERT_TRUE(set.has_value()) << set.error();
  ASSERT_EQ(set->keys().size(), 2U);
  EXPECT_TRUE(set->skipped().empty());
  ASSERT_NE(set->find("r1", jws_alg::rs256), nullptr);
  ASSERT_NE(set->find("e1", jws_alg::es256), nullptr);
  // A kid names a key for one algorithm only.
  EXPECT_EQ(set->find("r1", jws_alg::es256), nullptr);
  EXPECT_EQ(set->find("e1", jws_alg::rs256), nullptr);
  EXPECT_EQ(set->find("nope", jws_alg::rs256), nullptr);
  EXPECT_EQ(set->find("", jws_alg::rs256), nullptr);
}

TEST(JwkSet, VerifiesRs256AndEs256SignaturesOfItsKeys) {
  auto set = jwk_set::parse(set_of(rsa().jwk("r1") + "," + ec().jwk("e1")));
  ASSERT_TRUE(set.has_value()) << set.error();
  const jwk* r = set->find("r1", jws_alg::rs256);
  const jwk* e = set->find("e1", jws_alg::es256);
  ASSERT_TRUE(r && e);
  const std::string data = "header.claims";
  const std::string rsig = rsa().sign(data);
  const std::string esig = ec().sign(data);
  ASSERT_EQ(esig.size(), 64U);
  EXPECT_TRUE(r->verifies(data, rsig));
  EXPECT_TRUE(e->verifies(data, esig));
  EXPECT_FALSE(r->verifies("header.claimz", rsig));
  EXPECT_FALSE(e->verifies("header.claimz", esig));
  // Another key's signature, of the other algorithm too, never passes.
  EXPECT_FALSE(r->verifies(data, esig));
  EXPECT_FALSE(e->verifies(data, rsig));
  const signing_key other = signing_key::es256();
  EXPECT_FALSE(e->verifies(data, other.sign(data)));
}

TEST(JwkSet, Es256SignaturesMustBeExactly64BytesOfRAndS) {
  auto set = jwk_set::parse(set_of(ec().jwk("e1")));
  ASSERT_TRUE(set.has_value()) << set.error();
  const jwk& e = set->keys().front();
  const std::string data = "header.claims";
  const std::string sig = ec().sign(data);
  ASSERT_TRUE(e.verifies(data, sig));
  EXPECT_FALSE(e.verifies(data, sig.substr(0, 63)));
  EXPECT_FALSE(e.verifies(data, sig + '\0'));
  EXPECT_FALSE(e.verifies(data, std::string(1, '\0') + sig));
  EXPECT_FALSE(e.verifies(data, ""));
  EXPECT_FALSE(e.verifies(data, std::string(64, '\0')));  // r = s = 0
  // R and S swapped.
  std::string swapped = sig.substr(32) + sig.substr(0, 32);
  EXPECT_FALSE(e.verifies(data, swapped));
}

TEST(JwkSet, SkipsKeysItCannotUseAndSaysWhy) {
  const std::string good = rsa().jwk("ok");
  struct skipped_case {
    std::string jwk;
    std::string reason;
  };
  const std::vector<skipped_case> cases{
      {R"({"kid":"s","kty":"oct","k":"c2VjcmV0"})", "kty"},
      {rsa().jwk("enc", R"("use":"enc")"), "use"},
      {rsa().jwk("ps", R"("alg":"PS256")"), "alg"},
      {rsa().jwk("hs", R"("alg":"HS256")"), "alg"},
      {ec().jwk("rsalg", R"("alg":"RS256")"), "alg"},
      {rsa().jwk("ops", R"("key_ops":["encrypt"])"), "key_ops"},
      {signing_key::rs256(1024).jwk("short"), "2048"},
      {with_member(ec().jwk("crv"), "crv", R"("P-384")"), "P-256"},
      {with_member(ec().jwk("xshort"), "x", R"("AAAA")"), "32 bytes"},
      {with_member(
           ec().jwk("offcurve"), "y",
           std::string("\"").append(base64url_encode(std::string(32, '\x01'))).append("\"")),
       "not on P-256"},
      {with_member(rsa().jwk("bad64"), "n", R"("not base64url!")"), "n and e"},
      {with_member(rsa().jwk("even"), "e", R"("AQAA")"), "exponent"},
      {R"({"kid":7,"kty":"RSA"})", "kid"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.jwk);
    auto set = jwk_set::parse(set_of(c.jwk + "," + good));
    ASSERT_TRUE(set.has_value()) << set.error();
    EXPECT_EQ(set->keys().size(), 1U);
    ASSERT_EQ(set->skipped().size(), 1U);
    EXPECT_NE(set->skipped().front().find(c.reason), std::string::npos) << set->skipped().front();
    // Alone, the key makes no usable set.
    auto alone = jwk_set::parse(set_of(c.jwk));
    ASSERT_FALSE(alone.has_value());
    EXPECT_NE(alone.error().find("no RS256 or ES256 signing key"), std::string::npos);
  }
}

TEST(JwkSet, RefusesWhatIsNotAKeySet) {
  for (const char* doc :
       {"", "[]", "{}", R"({"keys":{}})", R"({"keys":[1]})", "{\"keys\":[", R"({"keys":[]})"}) {
    SCOPED_TRACE(doc);
    EXPECT_FALSE(jwk_set::parse(doc).has_value());
  }
}

TEST(JwkSet, RefusesTwoKeysWithOneKidForOneAlgorithm) {
  const signing_key second = signing_key::rs256();
  auto set = jwk_set::parse(set_of(rsa().jwk("k") + "," + second.jwk("k")));
  ASSERT_FALSE(set.has_value());
  EXPECT_NE(set.error().find("two RS256 keys"), std::string::npos) << set.error();
  // One kid for an RSA and an EC key is no ambiguity: the token's alg tells them apart.
  EXPECT_TRUE(jwk_set::parse(set_of(rsa().jwk("k") + "," + ec().jwk("k"))).has_value());
}

TEST(JwkSet, AlgorithmNamesAreExact) {
  EXPECT_EQ(parse_jws_alg("RS256"), jws_alg::rs256);
  EXPECT_EQ(parse_jws_alg("ES256"), jws_alg::es256);
  for (const char* name : {"HS256", "none", "rs256", "RS384", "ES384", "PS256", ""})
    EXPECT_FALSE(parse_jws_alg(name).has_value()) << name;
  EXPECT_EQ(jws_alg_name(jws_alg::rs256), "RS256");
  EXPECT_EQ(jws_alg_name(jws_alg::es256), "ES256");
}

}  // namespace
}  // namespace crud::core

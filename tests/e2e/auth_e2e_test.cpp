// `crud-api serve --jwt-secret …`: bearer tokens decide who the caller is. Without a valid
// token an API request gets 401 (and the log says why); with one, the token's subject is the
// owner, and owners never see each other's items.

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/crypto.hpp"
#include "support/child_process.hpp"
#include "support/contract_checks.hpp"
#include "support/server_fixture.hpp"
#include "support/temp_dir.hpp"

namespace crud::e2e {
namespace {

namespace json = boost::json;

const std::string secret = "an-e2e-secret-of-at-least-32-bytes!!";

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string token(const std::string& sub, std::int64_t exp, const std::string& key = secret) {
  const std::string signed_part =
      core::base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." +
      core::base64url_encode(R"({"sub":")" + sub + R"(","exp":)" + std::to_string(exp) + "}");
  return signed_part + "." +
         core::base64url_encode(core::as_view(core::hmac_sha256(key, signed_part)));
}

header_list bearer(const std::string& sub) {
  return {{"Authorization", "Bearer " + token(sub, now_s() + 600)}};
}

class ServeAuthE2e : public server_fixture {
 protected:
  std::vector<std::string> server_args() const override { return {"--jwt-secret", secret}; }
};

TEST_F(ServeAuthE2e, RequestsWithoutAValidTokenGet401AndTheLogSaysWhy) {
  struct refused {
    header_list headers;
    std::string logged_cause;
  };
  const std::vector<refused> cases{
      {{}, "no Authorization header"},
      {{{"Authorization", "Basic YWxpY2U6cHc="}}, "not a Bearer token"},
      {{{"Authorization", "Bearer " + token("alice", now_s() - 3600)}}, "expired"},
      {{{"Authorization", "Bearer " + token("alice", now_s() + 600, std::string(40, 'x'))}},
       "bad signature"},
      {{{"Authorization", "Bearer not.a.token"}}, "refused"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.logged_cause);
    for (const auto& res : {client().get("/items", c.headers),
                            client().post("/items", R"({"name":"x"})", c.headers)}) {
      EXPECT_TRUE(is_error(res, 401, "UNAUTHORIZED")) << describe(res);
      EXPECT_EQ(res.header("WWW-Authenticate").value_or("").rfind("Bearer", 0), 0U)
          << describe(res);
      // Why is for the operator, not the caller.
      EXPECT_EQ(res.body.find(c.logged_cause), std::string::npos) << res.body;
      const json::object line = logged_line(server(), res);
      EXPECT_EQ(line.if_contains("statusCode") ? line.at("statusCode").to_number<int>() : 0, 401);
      EXPECT_NE(string_at(line, "cause").find(c.logged_cause), std::string::npos)
          << json::serialize(line);
    }
  }
  // Nothing was written by the refused POSTs.
  const auto list = client().get("/items", bearer("alice"));
  ASSERT_TRUE(is_success(list, 200)) << describe(list);
  EXPECT_EQ(json::parse(list.body).at("data").as_array().size(), 0U);
  // The liveness probe needs no token; the scrape does (CONTRACT §2, see below).
  EXPECT_EQ(client().get("/health").status, 200);
  EXPECT_EQ(client().get("/metrics").status, 401);
}

TEST_F(ServeAuthE2e, TheTokenSubjectIsTheOwnerAndOwnersAreIsolated) {
  const auto created = client().post("/items", R"({"name":"alice's"})", bearer("alice"));
  ASSERT_TRUE(is_success(created, 201)) << describe(created);
  const std::string id = string_at(json::parse(created.body).at("data").as_object(), "id");
  EXPECT_EQ(string_at(logged_line(server(), created), "userId"), "alice");

  EXPECT_TRUE(is_success(client().get("/items/" + id, bearer("alice")), 200));
  EXPECT_TRUE(is_error(client().get("/items/" + id, bearer("bob")), 404, "NOT_FOUND"));
  EXPECT_TRUE(is_error(client().del("/items/" + id, bearer("bob")), 404, "NOT_FOUND"));
  const auto bobs = client().get("/items", bearer("bob"));
  ASSERT_TRUE(is_success(bobs, 200));
  EXPECT_EQ(json::parse(bobs.body).at("data").as_array().size(), 0U);
  const auto alices = client().get("/items", bearer("alice"));
  ASSERT_TRUE(is_success(alices, 200));
  EXPECT_EQ(json::parse(alices.body).at("data").as_array().size(), 1U);
  // The scheme is case-insensitive (RFC 7235).
  EXPECT_TRUE(is_success(
      client().get("/items/" + id, {{"Authorization", "bearer " + token("alice", now_s() + 60)}}),
      200));
}

TEST_F(ServeAuthE2e, RateLimitChargesTheAddressBeforeAnyTokenWork) {
  restart({"--jwt-secret", secret, "--rate-limit", "1", "--rate-burst", "3"});
  http_response limited;
  for (int i = 0; i < 10 && limited.status != 429; ++i)
    limited = client().get("/items", bearer("alice"));
  ASSERT_TRUE(is_error(limited, 429, "RATE_LIMITED")) << describe(limited);
  // The address's bucket is empty: a forged token is refused before it is even looked at
  // (429, not 401), and so is any other owner from this address.
  EXPECT_TRUE(
      is_error(client().get("/items", {{"Authorization", "Bearer x.y.z"}}), 429, "RATE_LIMITED"));
  EXPECT_TRUE(is_error(client().get("/items", bearer("bob")), 429, "RATE_LIMITED"));
}

TEST_F(ServeAuthE2e, MetricsNeedATokenUnlessMadePublic) {
  EXPECT_TRUE(is_error(client().get("/metrics"), 401, "UNAUTHORIZED"));
  const http_response scraped = client().get("/metrics", bearer("prometheus"));
  EXPECT_EQ(scraped.status, 200) << describe(scraped);
  EXPECT_NE(scraped.body.find("# TYPE"), std::string::npos) << scraped.body;
  EXPECT_EQ(client().get("/health").status, 200) << "the liveness probe stays open";

  restart({"--jwt-secret", secret, "--metrics-public"});
  EXPECT_EQ(client().get("/metrics").status, 200);
  EXPECT_TRUE(is_error(client().get("/items"), 401, "UNAUTHORIZED")) << "only /metrics opened";
}

TEST_F(ServeAuthE2e, WarnsOnceWhenNeitherIssuerNorAudienceIsChecked) {
  const auto is_warning = [](std::string_view line) {
    return line.find(R"("level":"WARN")") != std::string_view::npos &&
           line.find("neither issuer nor audience") != std::string_view::npos;
  };
  ASSERT_TRUE(server().wait_for_line(is_warning, std::chrono::seconds(5)));
  const auto lines = server().lines();
  EXPECT_EQ(std::count_if(lines.begin(), lines.end(), is_warning), 1);

  restart({"--jwt-secret", secret, "--jwt-audience", "crud-api"});
  client().get("/health");
  ASSERT_TRUE(server().wait_for_line(
      [](std::string_view line) { return line.find("listening") != std::string_view::npos; },
      std::chrono::seconds(5)));
  const auto checked = server().lines();
  EXPECT_EQ(std::count_if(checked.begin(), checked.end(), is_warning), 0);
}

// An RSA key made for the test: the public half written as a PEM file, and RS256 tokens.
class rsa_signer {
 public:
  rsa_signer() : key_(EVP_RSA_gen(2048), &EVP_PKEY_free) {}

  void write_public_pem(const std::filesystem::path& file) const {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    PEM_write_bio_PUBKEY(bio.get(), key_.get());
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    std::ofstream(file, std::ios::binary).write(data, n);
  }

  std::string token(const std::string& claims) const {
    const std::string signed_part = core::base64url_encode(R"({"alg":"RS256","typ":"JWT"})") + "." +
                                    core::base64url_encode(claims);
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get());
    const auto* in = reinterpret_cast<const unsigned char*>(signed_part.data());
    std::size_t len = 0;
    EVP_DigestSign(ctx.get(), nullptr, &len, in, signed_part.size());
    std::string sig(len, '\0');
    EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in,
                   signed_part.size());
    sig.resize(len);
    return signed_part + "." + core::base64url_encode(sig);
  }

 private:
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key_;
};

TEST_F(ServeAuthE2e, Rs256TokensAreCheckedWithThePublicKeyFileIssuerAndAudience) {
  const rsa_signer signer;
  const auto key_file = dir() / "issuer.pem";
  signer.write_public_pem(key_file);
  restart({"--jwt-public-key", key_file.string(), "--jwt-issuer", "https://issuer.example",
           "--jwt-audience", "crud-client"});
  const auto claims = [](const std::string& iss, const std::string& aud) {
    return R"({"sub":"carol","iss":")" + iss + R"(","aud":")" + aud + R"(","exp":)" +
           std::to_string(now_s() + 600) + "}";
  };
  const auto as = [](const std::string& t) {
    return header_list{{"Authorization", "Bearer " + t}};
  };
  const auto created =
      client().post("/items", R"({"name":"carol's"})",
                    as(signer.token(claims("https://issuer.example", "crud-client"))));
  ASSERT_TRUE(is_success(created, 201)) << describe(created);
  EXPECT_EQ(string_at(logged_line(server(), created), "userId"), "carol");
  EXPECT_TRUE(is_error(
      client().get("/items", as(signer.token(claims("https://evil.example", "crud-client")))), 401,
      "UNAUTHORIZED"));
  EXPECT_TRUE(
      is_error(client().get("/items", as(signer.token(claims("https://issuer.example", "other")))),
               401, "UNAUTHORIZED"));
  // The shared-secret token of the other tests means nothing to an RS256 server.
  EXPECT_TRUE(is_error(client().get("/items", bearer("carol")), 401, "UNAUTHORIZED"));
  // Another key's signature is refused.
  const rsa_signer stranger;
  EXPECT_TRUE(is_error(
      client().get("/items", as(stranger.token(claims("https://issuer.example", "crud-client")))),
      401, "UNAUTHORIZED"));
}

TEST(ServeConfigE2e, BadJwtOptionsExit2NamingThem) {
  temp_dir dir;
  const auto db = (dir.path() / "items.db").string();
  const auto key_file = (dir.path() / "missing.pem").string();
  struct bad_case {
    std::vector<std::string> args;
    env_list env;
    std::string named;
  };
  const std::vector<bad_case> cases{
      {{"serve", "--db", db, "--jwt-secret", "short"}, {}, "--jwt-secret"},
      {{"serve", "--db", db}, {{"CRUD_JWT_SECRET", "short"}}, "--jwt-secret"},
      {{"serve", "--db", db, "--jwt-public-key", key_file}, {}, "--jwt-public-key"},
      {{"serve", "--db", db, "--jwt-secret", secret, "--jwt-public-key", key_file}, {}, "--jwt"},
      {{"serve", "--db", db, "--jwt-issuer", "https://issuer.example"}, {}, "--jwt-issuer"},
  };
  for (const auto& c : cases) {
    const auto r = run_crud_api(c.args, c.env, std::chrono::seconds(20));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(c.named), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(db)) << "a failed start created the database";
}

}  // namespace
}  // namespace crud::e2e

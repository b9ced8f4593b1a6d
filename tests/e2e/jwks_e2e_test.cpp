// `crud-api serve --jwt-jwks-url …`: the key set comes from an identity provider's URL (here a
// tiny server of the test's own on 127.0.0.1), is fetched at start-up, and is fetched again
// when a token names an unknown `kid`, at most once a minute.

#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/crypto.hpp"
#include "support/child_process.hpp"
#include "support/contract_checks.hpp"
#include "support/http_client.hpp"
#include "support/server_process.hpp"
#include "support/signing_keys.hpp"
#include "support/temp_dir.hpp"

namespace crud::e2e {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using test_support::signing_key;

// Serves one document at every path, one request per connection, and counts the requests.
class jwks_server {
 public:
  jwks_server() : acceptor_(io_) {
    const tcp::endpoint local(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(local.protocol());
    acceptor_.bind(local);
    acceptor_.listen();
    thread_ = std::thread([this] { serve(); });
  }
  ~jwks_server() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);  // wakes accept()
    thread_.join();
  }
  jwks_server(const jwks_server&) = delete;
  jwks_server& operator=(const jwks_server&) = delete;

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) +
           "/.well-known/jwks.json";
  }
  void set_document(std::string document) {
    std::lock_guard lock(mutex_);
    document_ = std::move(document);
  }
  int requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void serve() {
    for (;;) {
      tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      std::string body;
      {
        std::lock_guard lock(mutex_);
        if (stopping_ || ec)
          return;
        body = document_;
      }
      asio::streambuf request;
      asio::read_until(socket, request, "\r\n\r\n", ec);
      if (ec)
        continue;
      {
        std::lock_guard lock(mutex_);
        ++requests_;
      }
      const std::string response =
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
          "Content-Length: " +
          std::to_string(body.size()) + "\r\n\r\n" + body;
      asio::write(socket, asio::buffer(response), ec);
      socket.shutdown(tcp::socket::shutdown_both, ec);
    }
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  mutable std::mutex mutex_;
  std::string document_;
  int requests_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string set_of(const std::vector<std::string>& keys) {
  std::string out = R"({"keys":[)";
  for (std::size_t i = 0; i < keys.size(); ++i)
    out += (i == 0 ? "" : ",") + keys[i];
  return out + "]}";
}

header_list as(const signing_key& key, const std::string& kid, const std::string& sub) {
  const std::string claims = R"({"sub":")" + sub + R"(","exp":)" + std::to_string(now_s() + 600) +
                             R"(,"iss":"https://idp.example","aud":"crud"})";
  return {{"Authorization", "Bearer " + key.token(kid, claims)}};
}

TEST(ServeJwksE2e, TokensOfTheSetsKeysWorkAndAnUnknownKidRefetchesAtMostOnceAMinute) {
  const signing_key ec = signing_key::es256();
  const signing_key rsa = signing_key::rs256();
  const signing_key rotated = signing_key::es256();
  const signing_key later = signing_key::es256();
  jwks_server idp;
  idp.set_document(set_of({ec.jwk("ec-1", R"("use":"sig","alg":"ES256")"), rsa.jwk("rsa-1")}));
  temp_dir dir;
  server_process server(dir.path() / "items.db", {"--jwt-jwks-url", idp.url(), "--jwt-issuer",
                                                  "https://idp.example", "--jwt-audience", "crud"});
  http_client client(server.port());
  EXPECT_EQ(idp.requests(), 1) << "fetched once at start-up";

  // ES256 and RS256 tokens of the set's keys are accepted, each for its own subject.
  const auto created = client.post("/items", R"({"name":"x"})", as(ec, "ec-1", "alice"));
  ASSERT_TRUE(is_success(created, 201)) << describe(created);
  const auto alices = client.get("/items", as(ec, "ec-1", "alice"));
  ASSERT_TRUE(is_success(alices, 200)) << describe(alices);
  EXPECT_EQ(json::parse(alices.body).at("data").as_array().size(), 1U);
  const auto bobs = client.get("/items", as(rsa, "rsa-1", "bob"));
  ASSERT_TRUE(is_success(bobs, 200)) << describe(bobs);
  EXPECT_EQ(json::parse(bobs.body).at("data").as_array().size(), 0U);
  // An HS256 token whose "secret" is the published key is refused.
  const std::string hs_part =
      core::base64url_encode(R"({"alg":"HS256","kid":"rsa-1"})") + "." +
      core::base64url_encode(R"({"sub":"mallory","exp":)" + std::to_string(now_s() + 600) + "}");
  const std::string forged =
      hs_part + "." +
      core::base64url_encode(core::as_view(core::hmac_sha256(rsa.jwk("rsa-1"), hs_part)));
  EXPECT_TRUE(
      is_error(client.get("/items", {{"Authorization", "Bearer " + forged}}), 401, "UNAUTHORIZED"));
  EXPECT_EQ(idp.requests(), 1);

  // The provider rotates: a token of the new key makes serve fetch the set again, once.
  idp.set_document(set_of({ec.jwk("ec-1"), rotated.jwk("ec-2")}));
  const auto after_rotation = client.get("/items", as(rotated, "ec-2", "alice"));
  ASSERT_TRUE(is_success(after_rotation, 200)) << describe(after_rotation);
  EXPECT_EQ(json::parse(after_rotation.body).at("data").as_array().size(), 1U);
  EXPECT_EQ(idp.requests(), 2);
  EXPECT_TRUE(is_success(client.get("/items", as(rotated, "ec-2", "alice")), 200));
  EXPECT_EQ(idp.requests(), 2) << "a known kid fetches nothing";

  // Another new key within the minute: refused without a fetch, and the log says why.
  idp.set_document(set_of({ec.jwk("ec-1"), rotated.jwk("ec-2"), later.jwk("ec-3")}));
  for (int i = 0; i < 3; ++i) {
    const auto refused = client.get("/items", as(later, "ec-3", "alice"));
    ASSERT_TRUE(is_error(refused, 401, "UNAUTHORIZED")) << describe(refused);
    EXPECT_NE(string_at(logged_line(server, refused), "cause").find("refreshed less than 60 s ago"),
              std::string::npos);
  }
  EXPECT_EQ(idp.requests(), 2);
  EXPECT_EQ(server.stop(), 0);
}

TEST(ServeJwksE2e, StartUpFailsWithOneLineWhenTheSetCannotBeFetchedOrUsed) {
  temp_dir dir;
  const auto db = (dir.path() / "items.db").string();
  jwks_server idp;
  idp.set_document(R"({"keys":[{"kid":"k","kty":"oct","k":"c2VjcmV0"}]})");
  std::string closed_url;
  {
    jwks_server gone;
    closed_url = gone.url();
  }
  struct bad_case {
    std::vector<std::string> args;
    std::string said;
  };
  const std::vector<bad_case> cases{
      {{"serve", "--db", db, "--jwt-jwks-url", closed_url}, "cannot fetch"},
      {{"serve", "--db", db, "--jwt-jwks-url", idp.url()}, "no RS256 or ES256 signing key"},
      {{"serve", "--db", db, "--jwt-jwks-url", "ftp://idp.example/keys"}, "not an http"},
      {{"serve", "--db", db, "--jwt-jwks-url", idp.url(), "--jwt-secret", std::string(40, 's')},
       "give only one"},
  };
  for (const auto& c : cases) {
    const auto r = run_crud_api(c.args, {}, std::chrono::seconds(20));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("--jwt-jwks-url"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.said), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(db)) << "a failed start created the database";
}

}  // namespace
}  // namespace crud::e2e

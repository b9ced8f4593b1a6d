#pragma once
// Bearer-token verification for `crud-api serve`: a JSON Web Token (RFC 7519) signed with
// HS256 (a shared secret), RS256 (an RSA public key, as Amazon Cognito and most identity
// providers sign), or RS256 or ES256 with a key of an identity provider's JWK set, named by the
// token's `kid`. Apart from a key-set refresh (jwks_cache.hpp), the verifier is a pure function
// of the token and the time it is given; the caller turns a failure into 401 and logs the
// reason, which never goes back to the client.
//
// What it checks, in order: three base64url parts; a header whose `alg` is the one the
// configured key is for (never `none`, never HS256 against a public key; with a key set, the
// `alg` of the key the `kid` names); the signature; then the claims: `exp` is required and
// `nbf` honoured, both with a small leeway for clock skew, `iss` and `aud` when configured, and
// a non-empty string `sub`, which becomes the request's owner.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <boost/system/result.hpp>

namespace crud::core {

class jwks_cache;

struct jwt_settings {
  std::string hs256_secret;   // HS256 when set
  std::string rs256_key_pem;  // RS256 when set: a PEM "PUBLIC KEY" (SubjectPublicKeyInfo)
  // RS256 or ES256 with the key the token's `kid` names, when set. Shared: verifiers copy it.
  std::shared_ptr<jwks_cache> jwks;
  std::string issuer;          // required `iss`, when set
  std::string audience;        // required among `aud` (a string or an array), when set
  std::int64_t leeway_s = 60;  // clock skew allowed on `exp` and `nbf`
};

// Why a token was refused: for the log, never for the client.
struct jwt_rejection {
  // Explicit, so that a result<std::string, jwt_rejection> is never ambiguous.
  jwt_rejection() = default;
  explicit jwt_rejection(std::string why) : reason(std::move(why)) {}
  std::string reason;
};

class jwt_verifier {
 public:
  // Exactly one of the three keys must be set. The error is a one-line reason.
  static boost::system::result<jwt_verifier, std::string> make(jwt_settings settings);

  // The token's `sub` when the token is valid at `now_s` (Unix seconds); else why not.
  boost::system::result<std::string, jwt_rejection> verify(std::string_view token,
                                                           std::int64_t now_s) const;

 private:
  struct impl;
  explicit jwt_verifier(std::shared_ptr<const impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const impl> impl_;  // immutable, so copies share it across threads
};

}  // namespace crud::core

#pragma once
// JSON Web Key Sets (RFC 7517) as identity providers publish them, for bearer-token
// verification: the public keys a token's `kid` names, each usable for exactly one signature
// algorithm, RS256 (an RSA key, 2048 bits or more) or ES256 (an EC key on P-256). A key's
// `kty`, `crv`, `alg`, `use` and `key_ops` must all agree with that algorithm, so a token can
// never choose how a key is used (decisions/0015-jwks.md). Parsing is pure; fetching the set is
// the caller's (see jwks_cache.hpp). OpenSSL does the work; none of its types appear here.

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/result.hpp>

namespace crud::core {

// The signature algorithms a key set can serve; HS256 never comes from a key set.
enum class jws_alg { rs256, es256 };

// "RS256" or "ES256" (case-sensitive, RFC 7518 §3.1); nullopt for anything else.
std::optional<jws_alg> parse_jws_alg(std::string_view name) noexcept;
std::string_view jws_alg_name(jws_alg alg) noexcept;

// One public key of a set. Immutable: copies share the key, across threads.
class jwk {
 public:
  const std::string& kid() const noexcept;
  jws_alg alg() const noexcept;

  // Whether `signature` (as the token carries it: RSASSA-PKCS1-v1_5 bytes for RS256, the 64
  // bytes R || S for ES256) signs `signed_part` with this key under alg().
  bool verifies(std::string_view signed_part, std::string_view signature) const;

 private:
  friend class jwk_set;
  struct impl;
  explicit jwk(std::shared_ptr<const impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const impl> impl_;
};

class jwk_set {
 public:
  // A document {"keys": [...]}. Keys this verifier cannot use (another type, curve or
  // algorithm, `use` other than "sig", malformed or too short) are skipped, each with a reason;
  // a document with no usable key, or two usable keys with one `kid` and algorithm, is an
  // error (one line).
  static boost::system::result<jwk_set, std::string> parse(std::string_view document);

  // The key named `kid` for `alg` (a key without a `kid` is named by ""), or null.
  const jwk* find(std::string_view kid, jws_alg alg) const noexcept;

  const std::vector<jwk>& keys() const noexcept { return keys_; }
  // Why each skipped key was skipped, for the log.
  const std::vector<std::string>& skipped() const noexcept { return skipped_; }

 private:
  std::vector<jwk> keys_;
  std::vector<std::string> skipped_;
};

}  // namespace crud::core

#pragma once
// AWS Signature Version 4, as a pure function of (request, credentials, region, service, time).
// The HTTP client hands over what it is about to send and gets back the headers (or query
// parameters) to add; nothing here does I/O or reads a clock, so the AWS test suite can check
// every intermediate string.
//
// The request's path and query are taken as they will appear on the wire. For every service but
// S3 the path is normalised and URI-encoded once more ("double encoding"), which is what AWS
// verifies; S3 callers turn both off.

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/credentials.hpp"
#include "core/crypto.hpp"

namespace crud::aws {

using header_list = std::vector<std::pair<std::string, std::string>>;

struct http_request_to_sign {
  std::string method;  // e.g. "POST"
  std::string path;    // as sent, e.g. "/"; empty means "/"
  std::string query;   // as sent, without the '?'
  // As sent, names in any case, repeated names allowed. Must include Host. Any Authorization,
  // X-Amz-Date or X-Amz-Security-Token here is ignored: the signer supplies its own.
  header_list headers;
  std::string body;
};

enum class signature_location : std::uint8_t {
  headers,  // Authorization header
  query,    // presigned URL: X-Amz-* query parameters
};

class signing_key_cache;

struct signing_params {
  std::string region;
  std::string service;
  std::int64_t epoch_ms = 0;  // signing time; only whole seconds count
  signature_location location = signature_location::headers;
  std::int64_t expires_in_s = 3600;  // X-Amz-Expires, query signing only
  bool normalize_path = true;        // remove "." and ".." segments and empty segments
  bool uri_encode_path = true;       // encode the (already encoded) path again
  // Adds x-amz-content-sha256 (header signing only). S3 requires it; DynamoDB does not.
  bool add_content_sha256_header = false;
  // Sends the session token without signing it, as a few services (IoT) require.
  bool omit_session_token_from_signature = false;
  // When set, the signing key comes from (and goes into) this cache rather than being derived
  // for every request.
  signing_key_cache* key_cache = nullptr;
};

struct signature_parts {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;  // lower-case hex
  // Header signing: the full Authorization header value. Empty for query signing.
  std::string authorization;
  // Header signing: the headers to add to the request, in this order: X-Amz-Security-Token,
  // X-Amz-Date, x-amz-content-sha256, Authorization (each only when it applies).
  header_list added_headers;
  // The query string to send, without the '?': the request's own for header signing; for
  // query signing, the request's own followed by the X-Amz-* parameters and the signature.
  std::string signed_query;
};

signature_parts sign_request(const http_request_to_sign& request, const credentials& creds,
                             const signing_params& params);

// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"),
// date as YYYYMMDD.
core::digest derive_signing_key(std::string_view secret_access_key, std::string_view date,
                                std::string_view region, std::string_view service);

// The signing key depends only on the secret, the day, the region and the service, so a client
// that signs call after call needs to derive it once a day: four HMACs fewer per request. It
// keeps the last key it derived and is safe to share between threads; a change of any input
// (new credentials, the next day) derives and keeps the new key.
class signing_key_cache {
 public:
  core::digest get(std::string_view secret_access_key, std::string_view date,
                   std::string_view region, std::string_view service);

 private:
  std::mutex mutex_;
  bool valid_ = false;
  std::string secret_;
  std::string date_;
  std::string region_;
  std::string service_;
  core::digest key_{};
};

// The ISO 8601 basic form SigV4 uses, "20150830T123600Z".
std::string amz_date(std::int64_t epoch_ms);

// RFC 3986 percent-encoding of everything but unreserved characters (A-Z a-z 0-9 - . _ ~),
// upper-case hex; '/' is kept when `keep_slash`.
std::string uri_encode(std::string_view text, bool keep_slash = false);

// The canonical forms, exposed for the HTTP client's tests and for diagnosing a
// SignatureDoesNotMatch.
std::string canonical_uri(std::string_view path, bool normalize, bool encode);
std::string canonical_query(std::string_view query);

}  // namespace crud::aws

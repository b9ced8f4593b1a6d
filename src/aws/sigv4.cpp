#include "aws/sigv4.hpp"

#include <algorithm>
#include <array>

#include "core/hex.hpp"
#include "core/timestamp.hpp"

namespace crud::aws {
namespace {

constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";

using pair_list = std::vector<std::pair<std::string, std::string>>;

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
  return out;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && is_space(text.back()))
    text.remove_suffix(1);
  return text;
}

// Trimmed, with every run of white space inside reduced to one space.
std::string canonical_header_value(std::string_view value) {
  value = trim(value);
  std::string out;
  out.reserve(value.size());
  bool in_space = false;
  for (char c : value) {
    if (is_space(c)) {
      in_space = true;
      continue;
    }
    if (in_space)
      out.push_back(' ');
    in_space = false;
    out.push_back(c);
  }
  return out;
}

// Headers a proxy or the runtime may add or rewrite in transit (X-Amzn-Trace-Id under Lambda
// and X-Ray, User-Agent, hop-by-hop headers), or that carry the signature itself. Signing them
// would make valid requests fail verification.
bool is_unsigned_header(std::string_view lower_name) {
  static constexpr std::array<std::string_view, 8> names = {
      "authorization", "connection",      "expect",     "transfer-encoding",
      "user-agent",    "x-amzn-trace-id", "x-amz-date", "x-amz-security-token",
  };
  return std::find(names.begin(), names.end(), lower_name) != names.end();
}

struct canonical_headers {
  std::string block;         // "name:value\n" lines
  std::string signed_names;  // "a;b;c"
};

// `extra` are added by the signer, already lower-case and canonical.
canonical_headers build_canonical_headers(const header_list& headers, const pair_list& extra) {
  // Stable sort keeps repeated headers in their order of appearance, which SigV4 requires.
  pair_list all;
  all.reserve(headers.size() + extra.size());
  for (const auto& [name, value] : headers) {
    std::string key = lower(trim(name));
    if (is_unsigned_header(key))
      continue;
    all.emplace_back(std::move(key), canonical_header_value(value));
  }
  for (const auto& e : extra)
    all.push_back(e);
  std::stable_sort(all.begin(), all.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });

  canonical_headers out;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (i > 0 && all[i].first == all[i - 1].first) {
      out.block.pop_back();  // the '\n' of the previous value
      out.block += ',';
      out.block += all[i].second;
      out.block += '\n';
      continue;
    }
    if (!out.signed_names.empty())
      out.signed_names += ';';
    out.signed_names += all[i].first;
    out.block += all[i].first;
    out.block += ':';
    out.block += all[i].second;
    out.block += '\n';
  }
  return out;
}

// Each component decoded then encoded, so that "%E1%88%B4" and the raw UTF-8 bytes agree.
pair_list canonical_query_pairs(std::string_view query) {
  pair_list pairs;
  while (!query.empty()) {
    std::size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (part.empty())
      continue;
    std::size_t eq = part.find('=');
    std::string_view key = part.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1);
    pairs.emplace_back(uri_encode(core::percent_decode(key)),
                       uri_encode(core::percent_decode(value)));
  }
  return pairs;
}

std::string join_sorted(pair_list pairs) {
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [key, value] : pairs) {
    if (!out.empty())
      out += '&';
    out += key;
    out += '=';
    out += value;
  }
  return out;
}

std::string_view find_header(const header_list& headers, std::string_view lower_name) {
  for (const auto& [name, value] : headers) {
    if (lower(trim(name)) == lower_name) {
      return trim(value);
    }
  }
  return {};
}

std::string hex_of(const core::digest& d) {
  return core::to_hex(core::as_view(d));
}

}  // namespace

std::string uri_encode(std::string_view text, bool keep_slash) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      core::append_hex(out, c, core::hex_upper);
    }
  }
  return out;
}

std::string canonical_uri(std::string_view path, bool normalize, bool encode) {
  if (path.empty())
    return "/";
  std::string result;
  if (normalize) {
    // RFC 3986 dot-segment removal plus collapsing of empty segments; a trailing slash stays.
    std::vector<std::string_view> segments;
    std::string_view rest = path;
    while (!rest.empty()) {
      std::size_t slash = rest.find('/');
      std::string_view seg = rest.substr(0, slash);
      rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
      if (seg.empty() || seg == ".")
        continue;
      if (seg == "..") {
        if (!segments.empty())
          segments.pop_back();
        continue;
      }
      segments.push_back(seg);
    }
    result = "/";
    for (std::size_t i = 0; i < segments.size(); ++i) {
      if (i > 0)
        result += '/';
      result += segments[i];
    }
    if (!segments.empty() && path.back() == '/')
      result += '/';
  } else {
    result = path;
  }
  return encode ? uri_encode(result, true) : result;
}

std::string canonical_query(std::string_view query) {
  return join_sorted(canonical_query_pairs(query));
}

std::string amz_date(std::int64_t epoch_ms) {
  // "2015-08-30T12:36:00.000Z" -> "20150830T123600Z"
  const std::string t = core::format_timestamp(epoch_ms);
  std::string out;
  out.reserve(16);
  out.append(t, 0, 4).append(t, 5, 2).append(t, 8, 2).append(1, 'T');
  out.append(t, 11, 2).append(t, 14, 2).append(t, 17, 2).append(1, 'Z');
  return out;
}

core::digest derive_signing_key(std::string_view secret_access_key, std::string_view date,
                                std::string_view region, std::string_view service) {
  const std::string secret = "AWS4" + std::string(secret_access_key);
  const core::digest k_date = core::hmac_sha256(secret, date);
  const core::digest k_region = core::hmac_sha256(core::as_view(k_date), region);
  const core::digest k_service = core::hmac_sha256(core::as_view(k_region), service);
  return core::hmac_sha256(core::as_view(k_service), "aws4_request");
}

core::digest signing_key_cache::get(std::string_view secret_access_key, std::string_view date,
                                    std::string_view region, std::string_view service) {
  std::lock_guard lock(mutex_);
  if (!valid_ || date_ != date || region_ != region || service_ != service ||
      !core::constant_time_equal(secret_, secret_access_key)) {
    key_ = derive_signing_key(secret_access_key, date, region, service);
    secret_.assign(secret_access_key);
    date_.assign(date);
    region_.assign(region);
    service_.assign(service);
    valid_ = true;
  }
  return key_;
}

signature_parts sign_request(const http_request_to_sign& request, const credentials& creds,
                             const signing_params& params) {
  const std::string timestamp = amz_date(params.epoch_ms);
  const std::string date = timestamp.substr(0, 8);
  const std::string scope = date + '/' + params.region + '/' + params.service + "/aws4_request";
  const bool has_token = !creds.session_token.empty();
  const bool sign_token = has_token && !params.omit_session_token_from_signature;
  const bool in_query = params.location == signature_location::query;

  // A caller-supplied x-amz-content-sha256 (S3's UNSIGNED-PAYLOAD) is the payload hash.
  std::string payload_hash{find_header(request.headers, "x-amz-content-sha256")};
  const bool caller_hash = !payload_hash.empty();
  if (!caller_hash)
    payload_hash = hex_of(core::sha256(request.body));

  pair_list extra_headers;
  pair_list query_pairs = canonical_query_pairs(request.query);
  canonical_headers headers;
  if (in_query) {
    headers = build_canonical_headers(request.headers, {});
    query_pairs.emplace_back("X-Amz-Algorithm", std::string(algorithm));
    query_pairs.emplace_back("X-Amz-Credential", uri_encode(creds.access_key_id + '/' + scope));
    query_pairs.emplace_back("X-Amz-Date", timestamp);
    query_pairs.emplace_back("X-Amz-Expires", std::to_string(params.expires_in_s));
    if (sign_token) {
      query_pairs.emplace_back("X-Amz-Security-Token", uri_encode(creds.session_token));
    }
    query_pairs.emplace_back("X-Amz-SignedHeaders", uri_encode(headers.signed_names));
  } else {
    if (params.add_content_sha256_header && !caller_hash) {
      extra_headers.emplace_back("x-amz-content-sha256", payload_hash);
    }
    extra_headers.emplace_back("x-amz-date", timestamp);
    if (sign_token)
      extra_headers.emplace_back("x-amz-security-token", creds.session_token);
    headers = build_canonical_headers(request.headers, extra_headers);
  }

  signature_parts out;
  out.canonical_request.reserve(256 + request.query.size() + headers.block.size());
  out.canonical_request.append(request.method).append(1, '\n');
  out.canonical_request.append(
      canonical_uri(request.path, params.normalize_path, params.uri_encode_path));
  out.canonical_request.append(1, '\n').append(join_sorted(query_pairs)).append(1, '\n');
  out.canonical_request.append(headers.block).append(1, '\n');
  out.canonical_request.append(headers.signed_names).append(1, '\n').append(payload_hash);

  out.string_to_sign.append(algorithm).append(1, '\n').append(timestamp).append(1, '\n');
  out.string_to_sign.append(scope).append(1, '\n');
  out.string_to_sign.append(hex_of(core::sha256(out.canonical_request)));

  const core::digest key =
      params.key_cache
          ? params.key_cache->get(creds.secret_access_key, date, params.region, params.service)
          : derive_signing_key(creds.secret_access_key, date, params.region, params.service);
  out.signature = hex_of(core::hmac_sha256(core::as_view(key), out.string_to_sign));

  if (in_query) {
    // The order of the appended parameters does not matter to AWS; this one is the SDKs'.
    std::string& q = out.signed_query;
    q = request.query;
    auto add = [&q](std::string_view key, std::string_view value) {
      if (!q.empty())
        q += '&';
      q.append(key).append(1, '=').append(value);
    };
    add("X-Amz-Algorithm", algorithm);
    add("X-Amz-Credential", uri_encode(creds.access_key_id + '/' + scope));
    add("X-Amz-Date", timestamp);
    add("X-Amz-SignedHeaders", uri_encode(headers.signed_names));
    add("X-Amz-Expires", std::to_string(params.expires_in_s));
    if (has_token)
      add("X-Amz-Security-Token", uri_encode(creds.session_token));
    add("X-Amz-Signature", out.signature);
    return out;
  }

  out.signed_query = request.query;
  out.authorization.append(algorithm).append(" Credential=").append(creds.access_key_id);
  out.authorization.append(1, '/').append(scope).append(", SignedHeaders=");
  out.authorization.append(headers.signed_names).append(", Signature=").append(out.signature);
  if (has_token)
    out.added_headers.emplace_back("X-Amz-Security-Token", creds.session_token);
  out.added_headers.emplace_back("X-Amz-Date", timestamp);
  if (params.add_content_sha256_header && !caller_hash) {
    out.added_headers.emplace_back("x-amz-content-sha256", payload_hash);
  }
  out.added_headers.emplace_back("Authorization", out.authorization);
  return out;
}

}  // namespace crud::aws

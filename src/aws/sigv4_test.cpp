#include "aws/sigv4.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "core/crypto.hpp"
#include "core/timestamp.hpp"

namespace crud::aws {
namespace {

namespace fs = std::filesystem;

// The AWS SigV4 test suite (as published with aws-c-auth), read in place from the shared data.
fs::path suite_dir() {
  const char* root = std::getenv("CRUD_SOURCE_DIR");  // NOLINT(concurrency-mt-unsafe)
  fs::path base = root != nullptr && *root != '\0' ? fs::path(root) : fs::current_path();
  return base / ".." / "shared" / "testdata" / "sigv4-test-suite";
}

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(suite_dir(), ec)) {
    if (entry.is_directory() && fs::exists(entry.path() / "context.json")) {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// request.txt: a request line (whose target may hold spaces), header lines (a line starting
// with white space continues the previous one, RFC 7230 obs-fold), optionally a blank line and
// a body.
struct parsed_request {
  std::string request_line;
  std::string method;
  std::string path;
  std::string query;
  std::vector<std::string> header_lines;  // verbatim, for rebuilding the signed request
  header_list headers;
  std::string body;
};

parsed_request parse_request(std::string_view text) {
  parsed_request out;
  auto next_line = [&text]() {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    return line;
  };
  out.request_line = std::string(next_line());
  std::string_view rl = out.request_line;
  std::size_t first = rl.find(' ');
  std::size_t last = rl.rfind(' ');
  out.method = std::string(rl.substr(0, first));
  std::string_view target = rl.substr(first + 1, last - first - 1);
  std::size_t q = target.find('?');
  out.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos)
    out.query = std::string(target.substr(q + 1));

  while (!text.empty()) {
    std::string_view line = next_line();
    if (line.empty()) {
      out.body = std::string(text);
      break;
    }
    out.header_lines.emplace_back(line);
    if ((line.front() == ' ' || line.front() == '\t') && !out.headers.empty()) {
      out.headers.back().second += ' ';
      out.headers.back().second += line;
      continue;
    }
    std::size_t colon = line.find(':');
    out.headers.emplace_back(std::string(line.substr(0, colon)),
                             std::string(line.substr(colon + 1)));
  }
  return out;
}

struct suite_case {
  parsed_request request;
  credentials creds;
  signing_params params;
};

suite_case load_case(const std::string& name) {
  const fs::path dir = suite_dir() / name;
  suite_case c;
  c.request = parse_request(read_file(dir / "request.txt"));
  const auto ctx = boost::json::parse(read_file(dir / "context.json")).as_object();
  const auto& cr = ctx.at("credentials").as_object();
  c.creds.access_key_id = cr.at("access_key_id").as_string();
  c.creds.secret_access_key = cr.at("secret_access_key").as_string();
  if (const auto* token = cr.if_contains("token"))
    c.creds.session_token = token->as_string();
  c.params.region = ctx.at("region").as_string();
  c.params.service = ctx.at("service").as_string();
  // "2015-08-30T12:36:00Z", into the millisecond form core parses.
  std::string ts(ctx.at("timestamp").as_string());
  c.params.epoch_ms = core::parse_timestamp(ts.substr(0, 19) + ".000Z").value();
  c.params.expires_in_s = ctx.at("expiration_in_seconds").to_number<std::int64_t>();
  c.params.normalize_path = ctx.at("normalize").as_bool();
  c.params.add_content_sha256_header = ctx.at("sign_body").as_bool();
  if (const auto* omit = ctx.if_contains("omit_session_token")) {
    c.params.omit_session_token_from_signature = omit->as_bool();
  }
  return c;
}

http_request_to_sign to_sign(const parsed_request& r) {
  return {r.method, r.path, r.query, r.headers, r.body};
}

std::string header_block(const parsed_request& r, const header_list& added) {
  std::string out;
  for (const auto& line : r.header_lines) {
    out.append(line).append(1, '\n');
  }
  for (const auto& [name, value] : added) {
    out.append(name).append(1, ':').append(value).append(1, '\n');
  }
  return out + '\n';
}

class Sigv4Suite : public testing::TestWithParam<std::string> {};

TEST_P(Sigv4Suite, HeaderVariantMatches) {
  const fs::path dir = suite_dir() / GetParam();
  const suite_case c = load_case(GetParam());
  const signature_parts got = sign_request(to_sign(c.request), c.creds, c.params);

  EXPECT_EQ(got.canonical_request, read_file(dir / "header-canonical-request.txt"));
  EXPECT_EQ(got.string_to_sign, read_file(dir / "header-string-to-sign.txt"));
  EXPECT_EQ(got.signature, read_file(dir / "header-signature.txt"));
  EXPECT_EQ(got.signed_query, c.request.query);
  const std::string signed_request =
      c.request.request_line + '\n' + header_block(c.request, got.added_headers) + c.request.body;
  EXPECT_EQ(signed_request, read_file(dir / "header-signed-request.txt"));
}

TEST_P(Sigv4Suite, QueryVariantMatches) {
  const fs::path dir = suite_dir() / GetParam();
  suite_case c = load_case(GetParam());
  c.params.location = signature_location::query;
  const signature_parts got = sign_request(to_sign(c.request), c.creds, c.params);

  EXPECT_EQ(got.canonical_request, read_file(dir / "query-canonical-request.txt"));
  EXPECT_EQ(got.string_to_sign, read_file(dir / "query-string-to-sign.txt"));
  EXPECT_EQ(got.signature, read_file(dir / "query-signature.txt"));
  EXPECT_TRUE(got.added_headers.empty());
  EXPECT_TRUE(got.authorization.empty());
  const std::string signed_request = c.request.method + ' ' + c.request.path + '?' +
                                     got.signed_query + " HTTP/1.1\n" +
                                     header_block(c.request, {}) + c.request.body;
  EXPECT_EQ(signed_request, read_file(dir / "query-signed-request.txt"));
}

std::string test_name(const testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  std::replace_if(
      name.begin(), name.end(),
      [](char ch) { return !std::isalnum(static_cast<unsigned char>(ch)); }, '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(AwsSuite, Sigv4Suite, testing::ValuesIn(case_names()), test_name);

// Guards against the parameterised tests passing vacuously when the data is not found.
TEST(Sigv4, SuiteIsPresentAndComplete) {
  const auto names = case_names();
  EXPECT_EQ(names.size(), 38U) << "looked in " << suite_dir();
  for (const auto& name : names) {
    for (const char* file :
         {"request.txt", "header-canonical-request.txt", "header-string-to-sign.txt",
          "header-signature.txt", "header-signed-request.txt", "query-canonical-request.txt",
          "query-string-to-sign.txt", "query-signature.txt", "query-signed-request.txt"}) {
      EXPECT_TRUE(fs::exists(suite_dir() / name / file)) << name << '/' << file;
    }
  }
}

// The example from the AWS documentation on deriving a signing key.
TEST(Sigv4, DerivesTheDocumentedSigningKey) {
  const core::digest key = derive_signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                              "20120215", "us-east-1", "iam");
  EXPECT_EQ(core::to_hex(core::as_view(key)),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

// The cache gives the key derive_signing_key() gives, and derives again whenever an input
// changes: the day, the region, the service or the secret (rotated credentials).
TEST(Sigv4, SigningKeyCacheFollowsEveryInput) {
  const std::string secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  signing_key_cache cache;
  auto same_as_derived = [&](std::string_view s, std::string_view date, std::string_view region,
                             std::string_view service) {
    return cache.get(s, date, region, service) == derive_signing_key(s, date, region, service);
  };
  EXPECT_TRUE(same_as_derived(secret, "20120215", "us-east-1", "iam"));
  EXPECT_TRUE(same_as_derived(secret, "20120215", "us-east-1", "iam"));  // from the cache
  EXPECT_TRUE(same_as_derived(secret, "20120216", "us-east-1", "iam"));
  EXPECT_TRUE(same_as_derived(secret, "20120216", "eu-west-1", "iam"));
  EXPECT_TRUE(same_as_derived(secret, "20120216", "eu-west-1", "dynamodb"));
  EXPECT_TRUE(same_as_derived(secret + "X", "20120216", "eu-west-1", "dynamodb"));
  EXPECT_TRUE(same_as_derived(secret, "20120216", "eu-west-1", "dynamodb"));
  EXPECT_NE(cache.get(secret, "20120216", "eu-west-1", "dynamodb"),
            cache.get(secret, "20120217", "eu-west-1", "dynamodb"));
}

// Signing through the cache signs exactly as deriving the key each time does.
TEST(Sigv4, SigningThroughTheKeyCacheGivesTheSameSignature) {
  http_request_to_sign req{"POST", "/", "", {{"Host", "dynamodb.us-east-1.amazonaws.com"}}, "{}"};
  credentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", 0};
  signing_params plain{"us-east-1", "dynamodb", 1440938160000};
  signing_key_cache cache;
  signing_params cached = plain;
  cached.key_cache = &cache;
  for (std::int64_t day = 0; day < 3; ++day) {
    plain.epoch_ms = cached.epoch_ms = 1440938160000 + day * 86400000;
    const auto expected = sign_request(req, creds, plain).signature;
    EXPECT_EQ(sign_request(req, creds, cached).signature, expected);
    EXPECT_EQ(sign_request(req, creds, cached).signature, expected);
  }
  creds.secret_access_key = "another secret";
  EXPECT_EQ(sign_request(req, creds, cached).signature, sign_request(req, creds, plain).signature);
}

TEST(Sigv4, FormatsAmzDateFromEpochMilliseconds) {
  EXPECT_EQ(amz_date(1440938160000), "20150830T123600Z");
  EXPECT_EQ(amz_date(1440938160999), "20150830T123600Z");  // sub-second part dropped
  EXPECT_EQ(amz_date(0), "19700101T000000Z");
}

TEST(Sigv4, EncodesEverythingButUnreservedCharacters) {
  EXPECT_EQ(uri_encode("a b+c/d~e_f-g.h*"), "a%20b%2Bc%2Fd~e_f-g.h%2A");
  EXPECT_EQ(uri_encode("/a b/", true), "/a%20b/");
  EXPECT_EQ(uri_encode("\xE1\x88\xB4"), "%E1%88%B4");
}

TEST(Sigv4, EncodesAnEncodedPathAgainForNonS3Services) {
  EXPECT_EQ(canonical_uri("/a%20b", true, true), "/a%2520b");
  EXPECT_EQ(canonical_uri("/a%20b", false, false), "/a%20b");
  EXPECT_EQ(canonical_uri("", true, true), "/");
  EXPECT_EQ(canonical_uri("/a/b/../c/./d/", true, true), "/a/c/d/");
  EXPECT_EQ(canonical_uri("/../..", true, true), "/");
}

TEST(Sigv4, CanonicalQuerySortsAndNormalisesEncoding) {
  EXPECT_EQ(canonical_query("b=2&a=3&a=1"), "a=1&a=3&b=2");
  EXPECT_EQ(canonical_query("k"), "k=");
  EXPECT_EQ(canonical_query("k=a+b&&x=%7e%2f"), "k=a%2Bb&x=~%2F");
  EXPECT_EQ(canonical_query(""), "");
}

// What the DynamoDB client will send: a JSON POST with a session token.
TEST(Sigv4, SignsADynamoDbStyleRequest) {
  http_request_to_sign req;
  req.method = "POST";
  req.path = "/";
  req.headers = {{"Host", "dynamodb.eu-west-1.amazonaws.com"},
                 {"Content-Type", "application/x-amz-json-1.0"},
                 {"X-Amz-Target", "DynamoDB_20120810.GetItem"},
                 {"User-Agent", "crud-api/0.1"},
                 {"X-Amzn-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793"}};
  req.body = R"({"TableName":"items"})";
  credentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "TOKEN/+=", 0};
  signing_params params;
  params.region = "eu-west-1";
  params.service = "dynamodb";
  params.epoch_ms = 1440938160000;

  const signature_parts got = sign_request(req, creds, params);
  const std::string payload = core::to_hex(core::as_view(core::sha256(req.body)));
  EXPECT_EQ(got.canonical_request,
            "POST\n/\n\n"
            "content-type:application/x-amz-json-1.0\n"
            "host:dynamodb.eu-west-1.amazonaws.com\n"
            "x-amz-date:20150830T123600Z\n"
            "x-amz-security-token:TOKEN/+=\n"
            "x-amz-target:DynamoDB_20120810.GetItem\n\n"
            "content-type;host;x-amz-date;x-amz-security-token;x-amz-target\n" +
                payload);
  EXPECT_EQ(got.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/dynamodb/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, "
            "Signature=" +
                got.signature);
  ASSERT_EQ(got.added_headers.size(), 3U);
  EXPECT_EQ(got.added_headers[0],
            (std::pair<std::string, std::string>{"X-Amz-Security-Token", "TOKEN/+="}));
  EXPECT_EQ(got.added_headers[1].first, "X-Amz-Date");
  EXPECT_EQ(got.added_headers[2].first, "Authorization");

  // The signature covers the body and the time: change either and it changes.
  http_request_to_sign other = req;
  other.body += ' ';
  EXPECT_NE(sign_request(other, creds, params).signature, got.signature);
  signing_params later = params;
  later.epoch_ms += 1000;
  EXPECT_NE(sign_request(req, creds, later).signature, got.signature);
  // But not the trace header, which X-Ray rewrites in transit.
  other = req;
  other.headers[4].second = "Root=1-00000000-000000000000000000000000";
  EXPECT_EQ(sign_request(other, creds, params).signature, got.signature);
}

TEST(Sigv4, IgnoresSignatureHeadersAlreadyOnTheRequest) {
  http_request_to_sign req{"GET", "/", "", {{"Host", "example.amazonaws.com"}}, ""};
  credentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", 0};
  signing_params params{"us-east-1", "service", 1440938160000};
  const auto clean = sign_request(req, creds, params);
  req.headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 stale");
  req.headers.emplace_back("X-Amz-Date", "20000101T000000Z");
  const auto resigned = sign_request(req, creds, params);
  EXPECT_EQ(resigned.canonical_request, clean.canonical_request);
  EXPECT_EQ(resigned.signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(Sigv4, UsesACallerSuppliedPayloadHash) {
  http_request_to_sign req{
      "PUT",
      "/bucket/key",
      "",
      {{"Host", "s3.amazonaws.com"}, {"x-amz-content-sha256", "UNSIGNED-PAYLOAD"}},
      "data"};
  credentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", 0};
  signing_params params{"us-east-1", "s3", 1440938160000};
  params.add_content_sha256_header = true;
  const auto got = sign_request(req, creds, params);
  EXPECT_TRUE(got.canonical_request.ends_with("\nUNSIGNED-PAYLOAD"));
  for (const auto& [name, value] : got.added_headers)
    EXPECT_NE(name, "x-amz-content-sha256");
}

}  // namespace
}  // namespace crud::aws

#pragma once
// A DynamoDB client for the JSON 1.0 protocol: each operation is a SigV4-signed
// `POST /` with `X-Amz-Target: DynamoDB_20120810.<Operation>`. It carries only what the store
// needs (item reads and conditional writes, Query, the table set-up calls, and for export and
// import Scan, BatchWriteItem and BatchGetItem), with
// expressions always paired with their name and value maps, so user data never becomes
// expression text.
//
// Every call goes through one place that signs, sends, verifies the `x-amz-crc32` checksum and
// retries in the SDKs' "standard" mode (retry_strategy.hpp), never past the caller's deadline.
// The clock, randomness, the sleep between attempts and the HTTP transport are injected, so the
// retry behaviour is testable without sockets or waiting.
// Each call, retries included, is reported to an optional call_observer once it is over, which
// is how X-Ray subsegments are made (xray_tracer.hpp) without this client knowing the format.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include "aws/attribute_value.hpp"
#include "aws/credentials_provider.hpp"
#include "aws/http_client.hpp"
#include "aws/retry_strategy.hpp"
#include "aws/sigv4.hpp"
#include "core/clock.hpp"
#include "core/random_source.hpp"

namespace crud::aws {

struct dynamodb_endpoint {
  bool tls = true;
  std::string host;
  std::uint16_t port = 443;
};

// The override URL ("http://127.0.0.1:8000", "https://host") when not empty, else
// https://dynamodb.<region>.amazonaws.com. The error names what is wrong with the URL.
boost::system::result<dynamodb_endpoint, std::string> resolve_dynamodb_endpoint(
    std::string_view override_url, std::string_view region);

struct dynamodb_config {
  std::string region;
  dynamodb_endpoint endpoint;
  retry_policy retry;
  std::int64_t attempt_timeout_ms = 5000;  // one attempt's budget, within the deadline
};

class call_observer;

struct dynamodb_deps {
  http_client& http;
  credentials_provider& credentials;
  const core::clock& clock;
  core::random_source& random;
  std::function<void(std::int64_t ms)> sleep;  // waits between attempts
  // Told about every operation once it is over (tracing); may be null.
  call_observer* observer = nullptr;
};

struct request_context {
  std::int64_t deadline_ms = 0;   // absolute wall-clock ms; 0 = none
  std::string_view trace_header;  // sent as X-Amzn-Trace-Id when not empty
};

struct dynamodb_error {
  enum class kind : std::uint8_t {
    service,       // DynamoDB answered with an error; `type` says which
    transport,     // no usable answer: connection, TLS or protocol failure
    timeout,       // an attempt ran out of time
    deadline,      // the caller's deadline passed before an answer
    crc_mismatch,  // the body does not match x-amz-crc32
    bad_response,  // a 2xx whose body is not what the operation returns
    credentials,   // no credentials to sign with
  };
  kind what = kind::service;
  unsigned http_status = 0;
  std::string type;     // the part of __type after '#'
  std::string message;  // DynamoDB's message, or a description
  boost::system::error_code transport_error;
  std::optional<attribute_map> item;  // ALL_OLD on ConditionalCheckFailedException, when sent
  int attempts = 0;  // copies sent, counting the transport's own resends (http_response::sends)

  bool is(std::string_view t) const { return what == kind::service && type == t; }
};

// Lets ddb_result<T>::value() report an error by throwing; found by ADL.
[[noreturn]] void throw_exception_from_error(const dynamodb_error& e,
                                             const boost::source_location& loc);

template <class T>
using ddb_result = boost::system::result<T, dynamodb_error>;

// One operation as a tracer sees it, retries included: reported once, after its last attempt.
// The views are valid only during the notification.
struct call_record {
  std::string_view operation;             // "GetItem", "PutItem", ...
  std::string_view table;                 // the request's TableName; empty when it has none
  std::string_view region;                // the client's signing region
  std::string_view trace_header;          // the caller's X-Amzn-Trace-Id, as propagated
  std::int64_t start_ms = 0;              // wall clock when the call began
  std::int64_t duration_ns = 0;           // steady clock, first attempt to final outcome
  int attempts = 0;                       // requests sent; 0 when none could be
  unsigned http_status = 0;               // of the last answer; 0 when none came
  const dynamodb_error* error = nullptr;  // null on success
  std::string_view request_id;            // x-amzn-RequestId of the last answer
};

// Sees DynamoDB calls without the client knowing what is done with them (X-Ray subsegments),
// so the aws layer keeps no tracing format. Implementations must not throw and should not
// block: they run on the request path.
class call_observer {
 public:
  virtual ~call_observer() = default;
  // Whether a call made under `trace_header` is of interest; when not, the client skips
  // building the record.
  virtual bool observes(std::string_view trace_header) const noexcept = 0;
  virtual void on_call(const call_record& record) noexcept = 0;
};

using expression_names = std::map<std::string, std::string, std::less<>>;

struct get_item_input {
  std::string table;
  attribute_map key;
  bool consistent_read = false;
  std::string projection;  // empty = every attribute
  expression_names names;
};

// A write's condition; `return_old_on_failure` asks for ALL_OLD with a failed condition.
struct write_condition {
  std::string expression;  // empty = unconditional
  expression_names names;
  attribute_map values;
  bool return_old_on_failure = false;
};

struct put_item_input {
  std::string table;
  attribute_map item;
  write_condition condition;
};

struct update_item_input {
  std::string table;
  attribute_map key;
  std::string update;  // the update expression; its names and values go in `condition`
  write_condition condition;
};

struct delete_item_input {
  std::string table;
  attribute_map key;
  write_condition condition;
};

struct query_input {
  std::string table;
  std::string key_condition;
  std::string filter;
  std::string projection;
  expression_names names;
  attribute_map values;
  std::optional<attribute_map> exclusive_start_key;
  int limit = 0;  // 0 = no limit
  bool consistent_read = false;
  bool scan_forward = true;
};

struct query_output {
  std::vector<attribute_map> items;
  std::optional<attribute_map> last_evaluated_key;
};

// Scan is for `crud-api export` alone (docs/decisions/0017-export-scans-for-owners.md): the
// request path reads an owner's partition with Query.
struct scan_input {
  std::string table;
  std::string filter;
  std::string projection;
  expression_names names;
  attribute_map values;
  std::optional<attribute_map> exclusive_start_key;
  int limit = 0;  // items read per page (before the filter); 0 = DynamoDB's 1 MB page
  bool consistent_read = false;
};

// BatchWriteItem of puts into one table (at most 25); what comes back is UnprocessedItems.
struct batch_put_input {
  std::string table;
  std::vector<attribute_map> items;
};

// BatchGetItem of keys from one table (at most 100).
struct batch_get_input {
  std::string table;
  std::vector<attribute_map> keys;
  std::string projection;
  expression_names names;
  bool consistent_read = false;
};

struct batch_get_output {
  std::vector<attribute_map> items;             // in no particular order
  std::vector<attribute_map> unprocessed_keys;  // to ask for again
};

class dynamodb_client {
 public:
  dynamodb_client(dynamodb_config config, dynamodb_deps deps);

  // The item, or nullopt when there is none.
  ddb_result<std::optional<attribute_map>> get_item(const request_context& ctx,
                                                    const get_item_input& in);
  ddb_result<void> put_item(const request_context& ctx, const put_item_input& in);
  ddb_result<void> update_item(const request_context& ctx, const update_item_input& in);
  ddb_result<void> delete_item(const request_context& ctx, const delete_item_input& in);
  ddb_result<query_output> query(const request_context& ctx, const query_input& in);
  ddb_result<query_output> scan(const request_context& ctx, const scan_input& in);
  // The items DynamoDB did not write this time (UnprocessedItems), to send again after a pause.
  ddb_result<std::vector<attribute_map>> batch_put(const request_context& ctx,
                                                   const batch_put_input& in);
  ddb_result<batch_get_output> batch_get(const request_context& ctx, const batch_get_input& in);

  // A PAY_PER_REQUEST table keyed by pk (S, hash) and sk (S, range).
  ddb_result<void> create_table(const request_context& ctx, std::string_view table);
  // The TableStatus ("CREATING", "ACTIVE", ...).
  ddb_result<std::string> describe_table_status(const request_context& ctx, std::string_view table);
  ddb_result<void> update_time_to_live(const request_context& ctx, std::string_view table,
                                       std::string_view attribute, bool enabled);

  // One operation with a JSON request body; the response body on success. Every typed call
  // goes through here, and so do the retries.
  ddb_result<std::string> call(const request_context& ctx, std::string_view operation,
                               const std::string& body);

  int retry_tokens() const { return quota_.available(); }

 private:
  // What the last attempt of a call got back, for call_observer.
  struct last_answer {
    int attempts = 0;
    unsigned http_status = 0;
    std::string request_id;
  };
  ddb_result<std::string> send_with_retries(const request_context& ctx, std::string_view operation,
                                            const std::string& body, last_answer& answer);
  void notify(call_observer& observer, const request_context& ctx, std::string_view operation,
              const std::string& body, std::int64_t start_ms, std::int64_t start_ns,
              const last_answer& answer, const ddb_result<std::string>& result) const noexcept;

  dynamodb_config config_;
  dynamodb_deps deps_;
  retry_quota quota_;
  std::string host_header_;
  // Shared by every call (and thread): the signing key is derived once a day, not per call.
  // Held by pointer so that the client stays movable.
  std::unique_ptr<signing_key_cache> signing_keys_ = std::make_unique<signing_key_cache>();
};

// CRC-32 (IEEE 802.3, as zlib computes it), which DynamoDB sends in x-amz-crc32.
std::uint32_t crc32(std::string_view data);

}  // namespace crud::aws

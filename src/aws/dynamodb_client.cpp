#include "aws/dynamodb_client.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <stdexcept>

#include <boost/asio/error.hpp>
#include <boost/json.hpp>
#include <boost/throw_exception.hpp>
#include <boost/url/parse.hpp>

#include "aws/sigv4.hpp"

namespace crud::aws {
namespace {

namespace json = boost::json;

constexpr std::string_view target_prefix = "DynamoDB_20120810.";

json::object names_json(const expression_names& names) {
  json::object o;
  for (const auto& [k, v] : names)
    o[k] = v;
  return o;
}

void add_condition(json::object& body, const write_condition& c) {
  if (!c.expression.empty())
    body["ConditionExpression"] = c.expression;
  if (!c.names.empty())
    body["ExpressionAttributeNames"] = names_json(c.names);
  if (!c.values.empty())
    body["ExpressionAttributeValues"] = to_json(c.values);
  if (c.return_old_on_failure)
    body["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD";
}

dynamodb_error bad_response(std::string message) {
  dynamodb_error e;
  e.what = dynamodb_error::kind::bad_response;
  e.http_status = 200;
  e.message = std::move(message);
  return e;
}

ddb_result<json::object> parse_object(const std::string& body) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object())
    return bad_response("response body is not a JSON object");
  return std::move(v.as_object());
}

// A failed response: __type ("com.amazonaws.dynamodb.v20120810#ThrottlingException"),
// message (or Message), and the old item when ALL_OLD was asked for.
dynamodb_error service_error(unsigned status, const std::string& body) {
  dynamodb_error e;
  e.what = dynamodb_error::kind::service;
  e.http_status = status;
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (!ec && v.is_object()) {
    const auto& o = v.as_object();
    if (const auto* t = o.if_contains("__type"); t && t->is_string()) {
      std::string_view type = t->as_string();
      auto hash = type.rfind('#');
      e.type = std::string(hash == std::string_view::npos ? type : type.substr(hash + 1));
    }
    for (const char* key : {"message", "Message"}) {
      if (const auto* m = o.if_contains(key); m && m->is_string()) {
        e.message = std::string(m->as_string());
        break;
      }
    }
    if (const auto* item = o.if_contains("Item"))
      e.item = attribute_map_from_json(*item);
  }
  if (e.message.empty())
    e.message = "HTTP " + std::to_string(status);
  return e;
}

const std::array<std::uint32_t, 256>& crc_table() {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k)
        c = (c & 1) ? 0xEDB88320U ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}

}  // namespace

std::uint32_t crc32(std::string_view data) {
  const auto& table = crc_table();
  std::uint32_t c = 0xFFFFFFFFU;
  for (unsigned char b : data)
    c = table[(c ^ b) & 0xFFU] ^ (c >> 8);
  return c ^ 0xFFFFFFFFU;
}

void throw_exception_from_error(const dynamodb_error& e, const boost::source_location& loc) {
  boost::throw_exception(std::runtime_error("DynamoDB: " + e.type + ": " + e.message), loc);
}

boost::system::result<dynamodb_endpoint, std::string> resolve_dynamodb_endpoint(
    std::string_view override_url, std::string_view region) {
  if (override_url.empty()) {
    if (!is_valid_region(region))
      return "invalid region '" + std::string(region) + "'";
    return dynamodb_endpoint{true, "dynamodb." + std::string(region) + ".amazonaws.com", 443};
  }
  auto url = boost::urls::parse_absolute_uri(override_url);
  if (!url)
    return "--endpoint '" + std::string(override_url) + "' is not an absolute URL";
  dynamodb_endpoint ep;
  if (url->scheme() == "https") {
    ep.tls = true;
    ep.port = 443;
  } else if (url->scheme() == "http") {
    ep.tls = false;
    ep.port = 80;
  } else {
    return "--endpoint '" + std::string(override_url) + "' must use http or https";
  }
  if (!url->has_authority() || url->encoded_host().empty())
    return "--endpoint '" + std::string(override_url) + "' has no host";
  if ((!url->encoded_path().empty() && url->encoded_path() != "/") || url->has_query() ||
      url->has_userinfo())
    return "--endpoint '" + std::string(override_url) +
           "' must be scheme://host[:port] with no path, query or user";
  ep.host = url->host_address();
  if (url->has_port()) {
    auto p = url->port_number();
    if (p == 0)
      return "--endpoint '" + std::string(override_url) + "' has an invalid port";
    ep.port = p;
  }
  return ep;
}

dynamodb_client::dynamodb_client(dynamodb_config config, dynamodb_deps deps)
    : config_(std::move(config)), deps_(std::move(deps)), quota_(config_.retry) {
  const bool default_port = config_.endpoint.port == (config_.endpoint.tls ? 443 : 80);
  const bool ipv6 = config_.endpoint.host.find(':') != std::string::npos;
  std::string host = ipv6 ? "[" + config_.endpoint.host + "]" : config_.endpoint.host;
  host_header_ = default_port ? host : host + ":" + std::to_string(config_.endpoint.port);
}

ddb_result<std::string> dynamodb_client::call(const request_context& ctx,
                                              std::string_view operation, const std::string& body) {
  call_observer* observer = deps_.observer;
  last_answer answer;
  if (observer == nullptr || !observer->observes(ctx.trace_header))
    return send_with_retries(ctx, operation, body, answer);
  const std::int64_t start_ms = deps_.clock.wall_ms();
  const std::int64_t start_ns = deps_.clock.steady_ns();
  auto result = send_with_retries(ctx, operation, body, answer);
  notify(*observer, ctx, operation, body, start_ms, start_ns, answer, result);
  return result;
}

void dynamodb_client::notify(call_observer& observer, const request_context& ctx,
                             std::string_view operation, const std::string& body,
                             std::int64_t start_ms, std::int64_t start_ns,
                             const last_answer& answer,
                             const ddb_result<std::string>& result) const noexcept {
  try {
    // Every operation names its table at the top level of the request.
    std::string table;
    boost::system::error_code ec;
    auto request = json::parse(body, ec);
    if (!ec && request.is_object()) {
      if (const auto* t = request.as_object().if_contains("TableName"); t && t->is_string())
        table = std::string(t->as_string());
    }
    call_record record;
    record.operation = operation;
    record.table = table;
    record.region = config_.region;
    record.trace_header = ctx.trace_header;
    record.start_ms = start_ms;
    record.duration_ns = std::max<std::int64_t>(0, deps_.clock.steady_ns() - start_ns);
    record.attempts = answer.attempts;
    record.http_status = answer.http_status;
    dynamodb_error error;  // result.error() returns a copy
    if (!result) {
      error = result.error();
      record.error = &error;
    }
    record.request_id = answer.request_id;
    observer.on_call(record);
  } catch (...) {  // NOLINT(bugprone-empty-catch): tracing must never fail a request
  }
}

ddb_result<std::string> dynamodb_client::send_with_retries(const request_context& ctx,
                                                           std::string_view operation,
                                                           const std::string& body,
                                                           last_answer& answer) {
  const std::string target = std::string(target_prefix) + std::string(operation);
  int last_acquired = 0;
  // Copies the transport sent again by itself on a fresh connection: each may have been
  // applied, so they count in `attempts`, which callers read as "an earlier copy may exist".
  int resends = 0;
  dynamodb_error last;
  for (int attempt = 1;; ++attempt) {
    const std::int64_t now = deps_.clock.wall_ms();
    std::int64_t timeout = config_.attempt_timeout_ms;
    if (ctx.deadline_ms > 0) {
      if (now >= ctx.deadline_ms) {
        if (attempt == 1) {
          last.what = dynamodb_error::kind::deadline;
          last.message = "deadline passed before the request was sent";
        }
        last.attempts = attempt - 1;
        return last;
      }
      timeout = std::min(timeout, ctx.deadline_ms - now);
    }
    auto creds = deps_.credentials.get(now);
    if (!creds) {
      dynamodb_error e;
      e.what = dynamodb_error::kind::credentials;
      e.message = creds.error();
      e.attempts = attempt - 1;
      return e;
    }

    http_request req;
    req.method = "POST";
    req.tls = config_.endpoint.tls;
    req.host = config_.endpoint.host;
    req.port = config_.endpoint.port;
    req.target = "/";
    req.body = body;
    req.timeout_ms = timeout;
    http_request_to_sign to_sign;
    to_sign.method = "POST";
    to_sign.path = "/";
    to_sign.headers = {{"Host", host_header_},
                       {"Content-Type", "application/x-amz-json-1.0"},
                       {"X-Amz-Target", target}};
    to_sign.body = body;
    signing_params params;
    params.region = config_.region;
    params.service = "dynamodb";
    params.epoch_ms = now;
    params.key_cache = signing_keys_.get();
    auto signature = sign_request(to_sign, *creds, params);
    req.headers = std::move(to_sign.headers);
    for (auto& h : signature.added_headers)
      req.headers.push_back(std::move(h));
    if (!ctx.trace_header.empty())
      req.headers.emplace_back("X-Amzn-Trace-Id", std::string(ctx.trace_header));

    failure_class failure = failure_class::none;
    auto sent = deps_.http.send(req);
    if (sent && sent->sends > 1)
      resends += sent->sends - 1;
    answer.attempts = attempt + resends;
    answer.http_status = sent ? sent->status : 0;
    answer.request_id = sent ? std::string(sent->header("x-amzn-RequestId")) : std::string();
    if (!sent) {
      last = dynamodb_error{};
      last.what = sent.error() == boost::asio::error::timed_out ? dynamodb_error::kind::timeout
                                                                : dynamodb_error::kind::transport;
      last.transport_error = sent.error();
      last.message = sent.error().message();
      failure = failure_class::timeout;
    } else if (sent->status >= 200 && sent->status < 300) {
      const auto crc_header = sent->header("x-amz-crc32");
      bool crc_ok = true;
      if (!crc_header.empty()) {
        std::uint32_t expected = 0;
        auto [end, ec] =
            std::from_chars(crc_header.data(), crc_header.data() + crc_header.size(), expected);
        crc_ok = ec == std::errc() && end == crc_header.data() + crc_header.size() &&
                 expected == crc32(sent->body);
      }
      if (crc_ok) {
        quota_.on_success(last_acquired);
        return std::move(sent->body);
      }
      last = dynamodb_error{};
      last.what = dynamodb_error::kind::crc_mismatch;
      last.http_status = sent->status;
      last.message = "response body does not match x-amz-crc32";
      failure = failure_class::transient;
    } else {
      last = service_error(sent->status, sent->body);
      failure = classify_response(sent->status, last.type);
    }
    last.attempts = attempt + resends;
    if (failure == failure_class::none || attempt >= config_.retry.max_attempts)
      return last;
    const int acquired = quota_.acquire(failure);
    if (acquired == 0)
      return last;
    last_acquired = acquired;
    const std::int64_t delay = backoff_delay_ms(config_.retry, attempt, deps_.random);
    if (ctx.deadline_ms > 0 && deps_.clock.wall_ms() + delay >= ctx.deadline_ms)
      return last;
    if (delay > 0 && deps_.sleep)
      deps_.sleep(delay);
  }
}

ddb_result<std::optional<attribute_map>> dynamodb_client::get_item(const request_context& ctx,
                                                                   const get_item_input& in) {
  json::object body;
  body["TableName"] = in.table;
  body["Key"] = to_json(in.key);
  if (in.consistent_read)
    body["ConsistentRead"] = true;
  if (!in.projection.empty())
    body["ProjectionExpression"] = in.projection;
  if (!in.names.empty())
    body["ExpressionAttributeNames"] = names_json(in.names);
  auto text = call(ctx, "GetItem", json::serialize(body));
  if (!text)
    return text.error();
  auto o = parse_object(*text);
  if (!o)
    return o.error();
  const auto* item = o->if_contains("Item");
  if (!item)
    return std::optional<attribute_map>();
  auto m = attribute_map_from_json(*item);
  if (!m)
    return bad_response("GetItem: Item is not an attribute map");
  return std::optional<attribute_map>(std::move(*m));
}

ddb_result<void> dynamodb_client::put_item(const request_context& ctx, const put_item_input& in) {
  json::object body;
  body["TableName"] = in.table;
  body["Item"] = to_json(in.item);
  add_condition(body, in.condition);
  auto text = call(ctx, "PutItem", json::serialize(body));
  if (!text)
    return text.error();
  return {};
}

ddb_result<void> dynamodb_client::update_item(const request_context& ctx,
                                              const update_item_input& in) {
  json::object body;
  body["TableName"] = in.table;
  body["Key"] = to_json(in.key);
  body["UpdateExpression"] = in.update;
  add_condition(body, in.condition);
  auto text = call(ctx, "UpdateItem", json::serialize(body));
  if (!text)
    return text.error();
  return {};
}

ddb_result<void> dynamodb_client::delete_item(const request_context& ctx,
                                              const delete_item_input& in) {
  json::object body;
  body["TableName"] = in.table;
  body["Key"] = to_json(in.key);
  add_condition(body, in.condition);
  auto text = call(ctx, "DeleteItem", json::serialize(body));
  if (!text)
    return text.error();
  return {};
}

namespace {

// The request members a Query and a Scan share (their input types name them alike).
template <class Input>
void add_page_request(json::object& body, const Input& in) {
  if (!in.filter.empty())
    body["FilterExpression"] = in.filter;
  if (!in.projection.empty())
    body["ProjectionExpression"] = in.projection;
  if (!in.names.empty())
    body["ExpressionAttributeNames"] = names_json(in.names);
  if (!in.values.empty())
    body["ExpressionAttributeValues"] = to_json(in.values);
  if (in.exclusive_start_key)
    body["ExclusiveStartKey"] = to_json(*in.exclusive_start_key);
  if (in.limit > 0)
    body["Limit"] = in.limit;
  if (in.consistent_read)
    body["ConsistentRead"] = true;
}

// Items and LastEvaluatedKey of a Query or Scan response.
ddb_result<query_output> page_of(const json::object& o, std::string_view operation) {
  query_output out;
  const std::string op(operation);
  if (const auto* items = o.if_contains("Items")) {
    if (!items->is_array())
      return bad_response(op + ": Items is not an array");
    for (const auto& v : items->as_array()) {
      auto m = attribute_map_from_json(v);
      if (!m)
        return bad_response(op + ": an item is not an attribute map");
      out.items.push_back(std::move(*m));
    }
  }
  if (const auto* lek = o.if_contains("LastEvaluatedKey")) {
    out.last_evaluated_key = attribute_map_from_json(*lek);
    if (!out.last_evaluated_key)
      return bad_response(op + ": LastEvaluatedKey is not an attribute map");
  }
  return out;
}

}  // namespace

ddb_result<query_output> dynamodb_client::query(const request_context& ctx, const query_input& in) {
  json::object body;
  body["TableName"] = in.table;
  body["KeyConditionExpression"] = in.key_condition;
  add_page_request(body, in);
  if (!in.scan_forward)
    body["ScanIndexForward"] = false;
  auto text = call(ctx, "Query", json::serialize(body));
  if (!text)
    return text.error();
  auto o = parse_object(*text);
  if (!o)
    return o.error();
  return page_of(*o, "Query");
}

ddb_result<query_output> dynamodb_client::scan(const request_context& ctx, const scan_input& in) {
  json::object body;
  body["TableName"] = in.table;
  add_page_request(body, in);
  auto text = call(ctx, "Scan", json::serialize(body));
  if (!text)
    return text.error();
  auto o = parse_object(*text);
  if (!o)
    return o.error();
  return page_of(*o, "Scan");
}

ddb_result<std::vector<attribute_map>> dynamodb_client::batch_put(const request_context& ctx,
                                                                  const batch_put_input& in) {
  json::array requests;
  requests.reserve(in.items.size());
  for (const auto& item : in.items)
    requests.push_back(json::object{{"PutRequest", json::object{{"Item", to_json(item)}}}});
  json::object tables;
  tables[in.table] = std::move(requests);
  json::object body;
  body["RequestItems"] = std::move(tables);
  auto text = call(ctx, "BatchWriteItem", json::serialize(body));
  if (!text)
    return text.error();
  auto o = parse_object(*text);
  if (!o)
    return o.error();
  std::vector<attribute_map> unprocessed;
  const auto* left = o->if_contains("UnprocessedItems");
  const auto* mine = left && left->is_object() ? left->as_object().if_contains(in.table) : nullptr;
  if (mine == nullptr)
    return unprocessed;
  if (!mine->is_array())
    return bad_response("BatchWriteItem: UnprocessedItems is not an array");
  for (const auto& request : mine->as_array()) {
    const auto* put = request.is_object() ? request.as_object().if_contains("PutRequest") : nullptr;
    const auto* item = put && put->is_object() ? put->as_object().if_contains("Item") : nullptr;
    auto m = item ? attribute_map_from_json(*item) : std::nullopt;
    if (!m)
      return bad_response("BatchWriteItem: an unprocessed request is not a PutRequest");
    unprocessed.push_back(std::move(*m));
  }
  return unprocessed;
}

ddb_result<batch_get_output> dynamodb_client::batch_get(const request_context& ctx,
                                                        const batch_get_input& in) {
  json::array keys;
  keys.reserve(in.keys.size());
  for (const auto& key : in.keys)
    keys.push_back(to_json(key));
  json::object request;
  request["Keys"] = std::move(keys);
  if (in.consistent_read)
    request["ConsistentRead"] = true;
  if (!in.projection.empty())
    request["ProjectionExpression"] = in.projection;
  if (!in.names.empty())
    request["ExpressionAttributeNames"] = names_json(in.names);
  json::object tables;
  tables[in.table] = std::move(request);
  json::object body;
  body["RequestItems"] = std::move(tables);
  auto text = call(ctx, "BatchGetItem", json::serialize(body));
  if (!text)
    return text.error();
  auto o = parse_object(*text);
  if (!o)
    return o.error();
  batch_get_output out;
  const auto* responses = o->if_contains("Responses");
  const auto* found =
      responses && responses->is_object() ? responses->as_object().if_contains(in.table) : nullptr;
  if (found != nullptr) {
    if (!found->is_array())
      return bad_response("BatchGetItem: Responses is not an array");
    for (const auto& v : found->as_array()) {
      auto m = attribute_map_from_json(v);
      if (!m)
        return bad_response("BatchGetItem: an item is not an attribute map");
      out.items.push_back(std::move(*m));
    }
  }
  const auto* left = o->if_contains("UnprocessedKeys");
  const auto* mine = left && left->is_object() ? left->as_object().if_contains(in.table) : nullptr;
  if (mine != nullptr) {
    const auto* again = mine->is_object() ? mine->as_object().if_contains("Keys") : nullptr;
    if (again == nullptr || !again->is_array())
      return bad_response("BatchGetItem: UnprocessedKeys has no Keys");
    for (const auto& v : again->as_array()) {
      auto m = attribute_map_from_json(v);
      if (!m)
        return bad_response("BatchGetItem: an unprocessed key is not an attribute map");
      out.unprocessed_keys.push_back(std::move(*m));
    }
  }
  return out;
}

ddb_result<void> dynamodb_client::create_table(const request_context& ctx, std::string_view table) {
  json::object body;
  body["TableName"] = table;
  body["BillingMode"] = "PAY_PER_REQUEST";
  body["AttributeDefinitions"] = json::array{
      json::object{{"AttributeName", "pk"}, {"AttributeType", "S"}},
      json::object{{"AttributeName", "sk"}, {"AttributeType", "S"}},
  };
  body["KeySchema"] = json::array{
      json::object{{"AttributeName", "pk"}, {"KeyType", "HASH"}},
      json::object{{"AttributeName", "sk"}, {"KeyType", "RANGE"}},
  };
  auto text = call(ctx, "CreateTable", json::serialize(body));
  if (!text)
    return text.error();
  return {};
}

ddb_result<std::string> dynamodb_client::describe_table_status(const request_context& ctx,
                                                               std::string_view table) {
  json::object body;
  body["TableName"] = table;
  auto text = call(ctx, "DescribeTable", json::serialize(body));
  if (!text)
    return text.error();
  auto o = parse_object(*text);
  if (!o)
    return o.error();
  const auto* t = o->if_contains("Table");
  const auto* status = t && t->is_object() ? t->as_object().if_contains("TableStatus") : nullptr;
  if (!status || !status->is_string())
    return bad_response("DescribeTable: no Table.TableStatus");
  return std::string(status->as_string());
}

ddb_result<void> dynamodb_client::update_time_to_live(const request_context& ctx,
                                                      std::string_view table,
                                                      std::string_view attribute, bool enabled) {
  json::object body;
  body["TableName"] = table;
  body["TimeToLiveSpecification"] =
      json::object{{"AttributeName", attribute}, {"Enabled", enabled}};
  auto text = call(ctx, "UpdateTimeToLive", json::serialize(body));
  if (!text)
    return text.error();
  return {};
}

}  // namespace crud::aws

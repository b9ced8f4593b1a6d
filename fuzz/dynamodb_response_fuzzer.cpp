// DynamoDB answers: the success bodies of the calls the store makes, service errors (with the
// ALL_OLD item of a failed condition), the x-amz-crc32 check, and the AttributeValue decoder.
// The client runs over a fake transport that returns the input.
//
// The first byte picks the call (bits 0-1: GetItem, Query, DescribeTable, PutItem) and the
// answer (bits 2-3: 200, 400, 500, 200 with a matching x-amz-crc32); the rest is the body. So
// a seed reads as a digit and a JSON text: '0' is GetItem/200, '7' PutItem/400, '<' GetItem/200
// with a checksum.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

#include <boost/json/parse.hpp>

#include "aws/attribute_value.hpp"
#include "aws/dynamodb_client.hpp"

namespace {

using namespace crud;

class answer_with final : public aws::http_client {
 public:
  aws::http_response response;
  boost::system::result<aws::http_response> send(const aws::http_request&) override {
    return response;
  }
};

class fixed_clock final : public core::clock {
 public:
  std::int64_t wall_ms() const override { return 1'800'000'000'000; }
  std::int64_t steady_ns() const override { return 0; }
};

class zero_random final : public core::random_source {
 public:
  void fill(std::span<std::byte> out) override {
    for (auto& b : out)
      b = std::byte{0};
  }
};

// The decoder must read back whatever the encoder writes.
void check_round_trip(const boost::json::value& v) {
  if (auto a = aws::attribute_from_json(v)) {
    auto again = aws::attribute_from_json(aws::to_json(*a));
    if (!again || !(*again == *a))
      std::abort();
  }
  if (auto m = aws::attribute_map_from_json(v)) {
    auto again = aws::attribute_map_from_json(aws::to_json(*m));
    if (!again || *again != *m)
      std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0)
    return 0;
  const std::uint8_t selector = data[0];
  std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);

  boost::system::error_code ec;
  const boost::json::value parsed = boost::json::parse(body, ec);
  if (!ec)
    check_round_trip(parsed);

  answer_with http;
  static const unsigned statuses[] = {200, 400, 500, 200};
  http.response.status = statuses[(selector >> 2) & 3];
  if (((selector >> 2) & 3) == 3)
    http.response.headers.emplace_back("x-amz-crc32", std::to_string(aws::crc32(body)));
  http.response.body = std::move(body);

  aws::static_credentials_provider creds(aws::credentials{"AKIDEXAMPLE", "secret", "", 0});
  fixed_clock clock;
  zero_random random;
  aws::dynamodb_config config;
  config.region = "us-east-1";
  config.endpoint = {false, "127.0.0.1", 8000};
  config.retry.max_attempts = 1;  // one answer per input
  aws::dynamodb_client client(config, aws::dynamodb_deps{http, creds, clock, random, nullptr});

  const aws::request_context ctx{};
  aws::attribute_map key{{"pk", aws::attribute_value::string("o")},
                         {"sk", aws::attribute_value::string("i")}};
  switch (selector & 3) {
    case 0:
      (void)client.get_item(ctx, aws::get_item_input{"items", key});
      break;
    case 1: {
      aws::query_input q;
      q.table = "items";
      q.key_condition = "pk = :o";
      q.values = {{":o", aws::attribute_value::string("o")}};
      (void)client.query(ctx, q);
      break;
    }
    case 2:
      (void)client.describe_table_status(ctx, "items");
      break;
    default: {
      aws::put_item_input put;
      put.table = "items";
      put.item = key;
      put.condition.expression = "attribute_not_exists(pk)";
      put.condition.return_old_on_failure = true;
      (void)client.put_item(ctx, put);
      break;
    }
  }
  return 0;
}

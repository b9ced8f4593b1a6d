// Decoding an API Gateway HTTP API (payload 2.0) event, and encoding the response back: what
// the Lambda loop and `invoke` do around every request.
#include <benchmark/benchmark.h>

#include <string>

#include "lambda/apigw_event.hpp"

namespace {

using namespace crud;

// A GET /items/{id} as an HTTP API with a JWT authorizer delivers it.
const std::string get_event = R"({
  "version": "2.0",
  "routeKey": "GET /items/{id}",
  "rawPath": "/items/item_01HZX3K4M5N6P7Q8R9S0T1V2W3",
  "rawQueryString": "",
  "headers": {
    "accept": "application/json",
    "accept-encoding": "gzip, deflate, br",
    "authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEyMyJ9.c2lnbmF0dXJl",
    "content-length": "0",
    "host": "abcdef1234.execute-api.us-east-1.amazonaws.com",
    "user-agent": "curl/7.88.1",
    "x-amzn-trace-id": "Root=1-6790a1b2-0123456789abcdef01234567",
    "x-correlation-id": "bench-correlation-0001",
    "x-forwarded-for": "203.0.113.7",
    "x-forwarded-port": "443",
    "x-forwarded-proto": "https"
  },
  "requestContext": {
    "accountId": "123456789012",
    "apiId": "abcdef1234",
    "authorizer": {"jwt": {"claims": {"sub": "user-123", "iss": "https://issuer.example"},
                           "scopes": null}},
    "domainName": "abcdef1234.execute-api.us-east-1.amazonaws.com",
    "domainPrefix": "abcdef1234",
    "http": {"method": "GET", "path": "/items/item_01HZX3K4M5N6P7Q8R9S0T1V2W3",
             "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "curl/7.88.1"},
    "requestId": "JKJaXmPLvHcESHA=",
    "routeKey": "GET /items/{id}",
    "stage": "$default",
    "time": "02/Dec/2025:12:00:00 +0000",
    "timeEpoch": 1764676800000
  },
  "pathParameters": {"id": "item_01HZX3K4M5N6P7Q8R9S0T1V2W3"},
  "isBase64Encoded": false
})";

void BM_ApigwDecodeV2(benchmark::State& state) {
  for (auto _ : state) {
    auto decoded = lambda::decode_event(get_event);
    if (!decoded)
      state.SkipWithError("the event did not decode");
    benchmark::DoNotOptimize(decoded);
  }
}
BENCHMARK(BM_ApigwDecodeV2);

void BM_ApigwEncodeV2(benchmark::State& state) {
  app::response res;
  res.status = 200;
  res.headers = {{"Content-Type", "application/json; charset=utf-8"},
                 {"X-Request-Id", "8d6f0c1e-2a4b-4c3d-9e8f-0a1b2c3d4e5f"},
                 {"X-Correlation-Id", "bench-correlation-0001"},
                 {"ETag", R"("item_01HZX3K4M5N6P7Q8R9S0T1V2W3-1")"}};
  res.body = R"({"statusCode":200,"data":{"id":"item_01HZX3K4M5N6P7Q8R9S0T1V2W3",)"
             R"("name":"Sample Item","description":"This is a sample item for testing",)"
             R"("createdAt":"2025-12-02T12:00:00.000Z","updatedAt":"2025-12-02T12:00:00.000Z",)"
             R"("version":1},"message":"Item retrieved successfully"})";
  for (auto _ : state) {
    std::string out = lambda::encode_response(res, lambda::event_version::http_v2);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_ApigwEncodeV2);

}  // namespace

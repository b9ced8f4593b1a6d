// SigV4 as the DynamoDB client signs every call: a GetItem POST with its three headers, with the
// signing key derived for the call and taken from the client's cache.
#include <benchmark/benchmark.h>

#include <string>

#include "aws/sigv4.hpp"

namespace {

using namespace crud;

aws::http_request_to_sign get_item_request() {
  return {"POST",
          "/",
          "",
          {{"Host", "dynamodb.us-east-1.amazonaws.com"},
           {"Content-Type", "application/x-amz-json-1.0"},
           {"X-Amz-Target", "DynamoDB_20120810.GetItem"}},
          R"({"TableName":"items","Key":{"pk":{"S":"public"},)"
          R"("sk":{"S":"item_01HZX3K4M5N6P7Q8R9S0T1V2W3"}}})"};
}

aws::credentials sample_credentials() {
  return {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "", 0};
}

aws::signing_params dynamodb_params() {
  aws::signing_params p;
  p.region = "us-east-1";
  p.service = "dynamodb";
  p.epoch_ms = 1764680000000;
  return p;
}

void BM_SigV4SignGetItem(benchmark::State& state) {
  const auto request = get_item_request();
  const auto creds = sample_credentials();
  auto params = dynamodb_params();
  for (auto _ : state) {
    params.epoch_ms += 1000;  // a new second, as each call has, within the same day
    if (params.epoch_ms > 1764680000000 + 3600 * 1000)
      params.epoch_ms = 1764680000000;
    auto parts = aws::sign_request(request, creds, params);
    benchmark::DoNotOptimize(parts);
  }
}
BENCHMARK(BM_SigV4SignGetItem);

// As the DynamoDB client signs: the signing key from its cache, derived once a day.
void BM_SigV4SignGetItemCachedKey(benchmark::State& state) {
  const auto request = get_item_request();
  const auto creds = sample_credentials();
  aws::signing_key_cache cache;
  auto params = dynamodb_params();
  params.key_cache = &cache;
  for (auto _ : state) {
    params.epoch_ms += 1000;
    if (params.epoch_ms > 1764680000000 + 3600 * 1000)
      params.epoch_ms = 1764680000000;
    auto parts = aws::sign_request(request, creds, params);
    benchmark::DoNotOptimize(parts);
  }
}
BENCHMARK(BM_SigV4SignGetItemCachedKey);

void BM_SigV4DeriveSigningKey(benchmark::State& state) {
  const auto creds = sample_credentials();
  for (auto _ : state) {
    auto key =
        aws::derive_signing_key(creds.secret_access_key, "20251202", "us-east-1", "dynamodb");
    benchmark::DoNotOptimize(key);
  }
}
BENCHMARK(BM_SigV4DeriveSigningKey);

}  // namespace

// The core functions every request runs: body validation, the response envelope and the list
// cursor. Inputs are what the benchmark's own POST and GET carry.
#include <benchmark/benchmark.h>

#include <string>

#include "core/cursor.hpp"
#include "core/envelope.hpp"
#include "core/item.hpp"
#include "core/item_input.hpp"

namespace {

using namespace crud;

const std::string create_body =
    R"({"name":"Bench Item","description":"Created by wrk for the POST benchmark"})";

core::item sample_item() {
  core::item it;
  it.id = "item_01HZX3K4M5N6P7Q8R9S0T1V2W3";
  it.name = "Sample Item";
  it.description = "This is a sample item for testing";
  it.created_at = 1764680000000;
  it.updated_at = 1764680000000;
  it.version = 1;
  return it;
}

void BM_ValidateCreateBody(benchmark::State& state) {
  for (auto _ : state) {
    auto fields = core::parse_create_body(create_body);
    benchmark::DoNotOptimize(fields);
  }
}
BENCHMARK(BM_ValidateCreateBody);

void BM_ItemEnvelope(benchmark::State& state) {
  const core::item it = sample_item();
  for (auto _ : state) {
    std::string body = core::item_envelope(200, it, "Item retrieved successfully");
    benchmark::DoNotOptimize(body);
  }
}
BENCHMARK(BM_ItemEnvelope);

const core::cursor_codec& codec() {
  static const core::cursor_codec c(std::string(32, 'k'));
  return c;
}

void BM_CursorEncode(benchmark::State& state) {
  for (auto _ : state) {
    std::string token = codec().encode("public", "item_01HZX3K4M5N6P7Q8R9S0T1V2W3");
    benchmark::DoNotOptimize(token);
  }
}
BENCHMARK(BM_CursorEncode);

void BM_CursorDecode(benchmark::State& state) {
  const std::string token = codec().encode("public", "item_01HZX3K4M5N6P7Q8R9S0T1V2W3");
  for (auto _ : state) {
    auto id = codec().decode("public", token);
    if (!id)
      state.SkipWithError("the cursor did not decode");
    benchmark::DoNotOptimize(id);
  }
}
BENCHMARK(BM_CursorDecode);

}  // namespace

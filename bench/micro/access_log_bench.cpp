// The access log line every request writes (app::format_access_line), as a GET logs it.
#include <benchmark/benchmark.h>

#include <string>

#include "app/access_log.hpp"

namespace {

using namespace crud;

void BM_AccessLogLine(benchmark::State& state) {
  app::access_record r;
  r.timestamp_ms = 1764680000123;
  r.level = app::log_level::info;
  r.service = "crud-api";
  r.request_id = "8d6f0c1e-2a4b-4c3d-9e8f-0a1b2c3d4e5f";
  r.correlation_id = "8d6f0c1e-2a4b-4c3d-9e8f-0a1b2c3d4e5f";
  r.op = app::operation::get_item;
  r.user_id = "public";
  r.duration_ms = 0.042;
  r.status = 200;
  r.message = "Item retrieved successfully";
  r.item_id = "item_01HZX3K4M5N6P7Q8R9S0T1V2W3";
  r.table_name = "items.db";
  for (auto _ : state) {
    std::string line = app::format_access_line(r);
    benchmark::DoNotOptimize(line);
  }
}
BENCHMARK(BM_AccessLogLine);

}  // namespace

#include "main/init_command.hpp"

#include <unistd.h>

#include <cstdio>

#include "core/json_text.hpp"
#include "core/timestamp.hpp"
#include "main/dynamodb_setup.hpp"
#include "main/wiring.hpp"
#include "store/dynamodb_table.hpp"

namespace crud::main {

int run_init(const options& o) {
  process p(true);
  if (o.store == store_kind::dynamodb) {
    auto setup = make_dynamodb_setup(p, o);
    if (!setup) {
      std::fprintf(stderr, "crud-api: %s\n", setup.error().c_str());
      return 2;
    }
    auto report = store::init_dynamodb_table(setup->options, setup->deps);
    if (!report) {
      std::fprintf(stderr, "crud-api: %s\n", report.error().c_str());
      return 2;
    }
    std::string extra = R"("store":"dynamodb","table":)";
    core::append_json_string(extra, o.table);
    for (const auto& warning : report->warnings) {
      std::string line = R"({"timestamp":")";
      core::append_timestamp(line, p.clock.wall_ms());
      line.append(R"(","level":"WARN","service":)");
      core::append_json_string(line, o.service_name);
      line.append(R"(,"message":)");
      core::append_json_string(line, warning);
      line.push_back(',');
      line.append(extra);
      line.push_back('}');
      p.log.write(line);
    }
    extra.append(report->created ? R"(,"created":true)" : R"(,"created":false)");
    p.log_event(o, "initialized", extra);
    return 0;
  }
  if (auto opened = open_store(p, o); !opened) {
    std::fprintf(stderr, "crud-api: %s\n", opened.error().c_str());
    return 2;
  }
  std::string extra = R"("store":)";
  core::append_json_string(extra, store_name(o.store));
  extra.append(o.store == store_kind::sqlite ? R"(,"db":)" : R"(,"table":)");
  core::append_json_string(extra, o.store == store_kind::sqlite ? o.db : o.table);
  p.log_event(o, "initialized", extra);
  return 0;
}

}  // namespace crud::main

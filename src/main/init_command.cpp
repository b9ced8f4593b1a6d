#include "main/init_command.hpp"

#include <unistd.h>

#include <cstdio>

#include "core/json_text.hpp"
#include "main/wiring.hpp"

namespace crud::main {

int run_init(const options& o) {
  process p(true);
  if (auto opened = open_store(p, o); !opened) {
    std::fprintf(stderr, "crud-api: %s\n", opened.error().c_str());
    return 2;
  }
  std::string extra = R"("store":)";
  core::append_json_string(extra, o.store);
  extra.append(o.store == "sqlite" ? R"(,"db":)" : R"(,"table":)");
  core::append_json_string(extra, o.store == "sqlite" ? o.db : o.table);
  p.log_event(o, "initialized", extra);
  return 0;
}

}  // namespace crud::main

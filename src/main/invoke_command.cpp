#include "main/invoke_command.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "lambda/apigw_event.hpp"
#include "main/wiring.hpp"

namespace crud::main {

int run_invoke(const options& o) {
  std::string text;
  if (o.event_file == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(o.event_file, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "crud-api: cannot read event file %s\n", o.event_file.c_str());
      return 1;
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    text = buf.str();
  }
  auto event = lambda::decode_event(text);
  if (!event) {
    std::fprintf(stderr, "crud-api: not a usable event: %s\n", event.error().c_str());
    return 1;
  }

  process p(true, STDERR_FILENO);
  if (auto opened = open_store(p, o); !opened) {
    std::fprintf(stderr, "crud-api: %s\n", opened.error().c_str());
    return 2;
  }
  if (auto built = build_api(p, o); !built) {
    std::fprintf(stderr, "crud-api: %s\n", built.error().c_str());
    return 1;
  }
  std::string out = lambda::encode_response(p.api->handle(event->request), event->version);
  out.push_back('\n');
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  return 0;
}

}  // namespace crud::main

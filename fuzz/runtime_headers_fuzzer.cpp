// The Lambda Runtime API's answer to GET /next: its headers become the invocation. The input is
// "Name: value" lines, then an empty line, then the event.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lambda/runtime_api.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace crud::lambda;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.empty())
      break;
    const auto colon = line.find(':');
    std::string_view name = line.substr(0, colon);
    std::string_view value =
        colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ')
      value.remove_prefix(1);
    headers.emplace_back(name, value);
  }
  auto inv = parse_invocation_headers(
      [&](std::string_view name) {
        for (const auto& [n, v] : headers)
          if (n == name)
            return v;
        return std::string_view();
      },
      std::string(text));
  if (inv && inv->request_id.empty())
    std::abort();  // nothing could be posted back without it
  if (inv)
    (void)error_body(inv->request_id, inv->payload);
  return 0;
}

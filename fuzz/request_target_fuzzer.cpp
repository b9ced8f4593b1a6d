// The request-target of every HTTP request `crud-api serve` reads.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/request_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view target(reinterpret_cast<const char*>(data), size);
  auto parsed = crud::server::parse_request_target(target);
  if (parsed && parsed->path.empty())
    std::abort();  // an empty path is "/", never ""
  return 0;
}

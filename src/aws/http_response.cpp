#include "aws/http_client.hpp"

#include <algorithm>
#include <cctype>

// Apart from the Beast client in http_client.cpp, so that code which only reads responses (the
// DynamoDB client over a fake transport, the fuzzers) links without compiling Beast.
namespace crud::aws {

std::string_view http_response::header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n.size() == name.size() && std::equal(n.begin(), n.end(), name.begin(), [](char x, char y) {
          return std::tolower(static_cast<unsigned char>(x)) ==
                 std::tolower(static_cast<unsigned char>(y));
        }))
      return v;
  }
  return {};
}

}  // namespace crud::aws

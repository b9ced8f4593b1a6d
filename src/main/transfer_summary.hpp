#pragma once
// The one JSON line `export` and `import` end with on stderr (CONTRACT §5): what moved, what
// was skipped and what failed, whether the run got to the end, and how fast it went.

#include <cstdint>
#include <string>
#include <string_view>

namespace crud::main {

struct transfer_summary {
  std::string_view moved_as;  // "exported" or "imported"
  std::uint64_t moved = 0;
  std::uint64_t skipped = 0;
  std::uint64_t failed = 0;
  bool complete = false;
  double seconds = 0;
};

// The line, newline included. The rate counts skipped items too: each was read and checked.
std::string summary_line(const transfer_summary& s);

}  // namespace crud::main

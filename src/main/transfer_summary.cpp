#include "main/transfer_summary.hpp"

#include <cstdio>

namespace crud::main {

std::string summary_line(const transfer_summary& s) {
  const double handled = static_cast<double>(s.moved + s.skipped);
  char line[256];
  std::snprintf(line, sizeof line,
                R"({"%.*s":%llu,"skipped":%llu,"failed":%llu,"complete":%s,"seconds":%.3f,)"
                R"("itemsPerSecond":%.0f})"
                "\n",
                static_cast<int>(s.moved_as.size()), s.moved_as.data(),
                static_cast<unsigned long long>(s.moved),
                static_cast<unsigned long long>(s.skipped),
                static_cast<unsigned long long>(s.failed), s.complete ? "true" : "false", s.seconds,
                s.seconds > 0 ? handled / s.seconds : 0.0);
  return line;
}

}  // namespace crud::main

#pragma once
// Where structured log lines go. `main` writes them to stdout; tests capture them. A sink
// receives whole JSON lines without the trailing newline and must be thread-safe.

#include <string_view>

namespace crud::app {

enum class log_level { debug, info, warn, error };

class log_sink {
 public:
  virtual ~log_sink() = default;
  virtual void write(std::string_view line) = 0;
};

}  // namespace crud::app

#pragma once
// Log lines to standard output (or standard error, for `invoke`, whose stdout is the response).
// Lines are buffered and written in large chunks so that logging costs little under load; `flush()`
// runs periodically and at shutdown. On a terminal every line is written at once.

#include <mutex>
#include <string>

#include "app/log_sink.hpp"

namespace crud::main {

class stdout_sink final : public app::log_sink {
 public:
  explicit stdout_sink(bool line_buffered, int fd = 1) : line_buffered_(line_buffered), fd_(fd) {}
  ~stdout_sink() override { flush(); }

  void write(std::string_view line) override;
  void flush();

 private:
  void write_out_locked();

  bool line_buffered_;
  int fd_;
  std::mutex mutex_;
  std::string buffer_;
};

}  // namespace crud::main

#include "main/stdout_sink.hpp"

#include <unistd.h>

#include <cerrno>

namespace crud::main {
namespace {
constexpr std::size_t flush_threshold = std::size_t{64} * 1024;
}

void stdout_sink::write(std::string_view line) {
  std::lock_guard lock(mutex_);
  buffer_.append(line);
  buffer_.push_back('\n');
  if (line_buffered_ || buffer_.size() >= flush_threshold)
    write_out_locked();
}

void stdout_sink::flush() {
  std::lock_guard lock(mutex_);
  write_out_locked();
}

void stdout_sink::write_out_locked() {
  std::size_t done = 0;
  while (done < buffer_.size()) {
    ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      break;  // stdout is gone (closed pipe): drop the logs rather than stall requests
    }
    done += static_cast<std::size_t>(n);
  }
  buffer_.clear();
}

}  // namespace crud::main

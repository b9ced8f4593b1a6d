#include "main/export_command.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>

#include "core/item_line.hpp"
#include "main/progress_bar.hpp"
#include "main/transfer_summary.hpp"
#include "main/wiring.hpp"

namespace crud::main {
namespace {

void write_stderr(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

// Standard output, or a temporary file beside FILE that becomes FILE only when the export is
// complete: a failed export never leaves a truncated backup where a good one was.
class export_output {
 public:
  export_output() = default;
  export_output(const export_output&) = delete;
  export_output& operator=(const export_output&) = delete;
  ~export_output() {
    if (file_ != nullptr && file_ != stdout) {
      std::fclose(file_);
      std::remove(temp_.c_str());
    }
  }

  // The error names the file.
  std::string open(const std::string& path) {
    if (path == "-") {
      file_ = stdout;
    } else {
      path_ = path;
      temp_ = path + ".XXXXXX";
      const int fd = ::mkstemp(temp_.data());
      if (fd < 0)
        return "cannot create " + temp_ + ": " + std::system_category().message(errno);
      file_ = ::fdopen(fd, "w");
      if (file_ == nullptr) {
        ::close(fd);
        std::remove(temp_.c_str());
        return "cannot write " + temp_ + ": " + std::system_category().message(errno);
      }
    }
    static char buffer[1 << 20];
    std::setvbuf(file_, buffer, _IOFBF, sizeof buffer);
    return {};
  }

  bool write(std::string_view text) {
    return std::fwrite(text.data(), 1, text.size(), file_) == text.size();
  }

  std::string name() const { return path_.empty() ? std::string("standard output") : path_; }

  // Flushes; for a file also syncs it and moves it into place. The error names the file.
  std::string commit() {
    if (std::fflush(file_) != 0)
      return "cannot write " + name() + ": " + std::system_category().message(errno);
    if (file_ == stdout)
      return {};
    if (::fsync(::fileno(file_)) != 0 || std::fclose(file_) != 0) {
      file_ = nullptr;
      std::remove(temp_.c_str());
      return "cannot write " + name() + ": " + std::system_category().message(errno);
    }
    file_ = nullptr;
    if (std::rename(temp_.c_str(), path_.c_str()) != 0) {
      const std::string reason = std::system_category().message(errno);
      std::remove(temp_.c_str());
      return "cannot replace " + path_ + ": " + reason;
    }
    return {};
  }

 private:
  std::FILE* file_ = nullptr;
  std::string path_;
  std::string temp_;
};

}  // namespace

int run_export(const options& o) {
  // Nothing is logged to standard output: it may be the export itself.
  process p(true, 2);
  auto transfer = open_transfer(p, o, false);
  if (!transfer) {
    std::fprintf(stderr, "crud-api: %s\n", transfer.error().c_str());
    return 2;
  }
  export_output out;
  if (auto reason = out.open(o.out_file); !reason.empty()) {
    std::fprintf(stderr, "crud-api: %s\n", reason.c_str());
    return 2;
  }

  const std::int64_t start_ns = p.clock.steady_ns();
  progress_bar bar(write_stderr, p.clock, ::isatty(STDERR_FILENO) == 1, "exported");
  std::uint64_t exported = 0;
  std::uint64_t failed = 0;
  std::string line;
  auto sink = [&](const core::item_record& r) -> store::transfer_result<void> {
    line.clear();
    core::append_item_line(line, r);
    line.push_back('\n');
    if (!out.write(line))
      return {boost::system::in_place_error,
              "cannot write " + out.name() + ": " + std::system_category().message(errno)};
    bar.update(++exported);
    return {};
  };
  auto bad = [&](std::string_view where, std::string_view reason) {
    ++failed;
    bar.print_line("crud-api: skipped " + std::string(where) + ": " + std::string(reason));
  };
  auto done = (*transfer)->export_items(sink, bad);
  std::string error = done ? out.commit() : done.error();
  bar.finish();
  if (!error.empty())
    write_stderr("crud-api: export stopped: " + error + "\n");

  const double seconds = static_cast<double>(p.clock.steady_ns() - start_ns) / 1e9;
  write_stderr(summary_line({.moved_as = "exported",
                             .moved = exported,
                             .skipped = 0,
                             .failed = failed,
                             .complete = error.empty(),
                             .seconds = seconds}));
  return error.empty() && failed == 0 ? 0 : 1;
}

}  // namespace crud::main

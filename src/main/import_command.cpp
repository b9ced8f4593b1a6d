#include "main/import_command.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

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

bool blank(std::string_view line) {
  return line.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// The input, read a line at a time; its size when it is a regular file (also when standard
// input is redirected from one), for the percentage and the ETA.
class import_input {
 public:
  import_input() = default;
  import_input(const import_input&) = delete;
  import_input& operator=(const import_input&) = delete;
  ~import_input() {
    std::free(line_);
    if (file_ != nullptr && file_ != stdin)
      std::fclose(file_);
  }

  std::string open(const std::string& path) {
    file_ = path == "-" ? stdin : std::fopen(path.c_str(), "r");
    if (file_ == nullptr)
      return "cannot open " + path + ": " + std::system_category().message(errno);
    struct stat st {};
    if (::fstat(::fileno(file_), &st) == 0 && S_ISREG(st.st_mode)) {
      const off_t at = ::lseek(::fileno(file_), 0, SEEK_CUR);
      size_ = static_cast<std::uint64_t>(st.st_size - (at > 0 ? at : 0));
    }
    return {};
  }

  // The next line without its newline; false at the end or on a read error (see error()).
  bool next(std::string_view& line) {
    const ssize_t n = ::getline(&line_, &capacity_, file_);
    if (n < 0)
      return false;
    read_ += static_cast<std::uint64_t>(n);
    line = std::string_view(line_, static_cast<std::size_t>(n));
    if (line.ends_with('\n'))
      line.remove_suffix(1);
    return true;
  }

  bool failed() const { return std::ferror(file_) != 0; }
  std::uint64_t bytes_read() const { return read_; }
  std::uint64_t size() const { return size_; }

 private:
  std::FILE* file_ = nullptr;
  char* line_ = nullptr;
  std::size_t capacity_ = 0;
  std::uint64_t read_ = 0;
  std::uint64_t size_ = 0;
};

}  // namespace

int run_import(const options& o) {
  process p(true, 2);
  import_input in;
  if (auto reason = in.open(o.in_file); !reason.empty()) {
    std::fprintf(stderr, "crud-api: %s\n", reason.c_str());
    return 2;
  }
  auto opened = open_transfer(p, o, true);
  if (!opened) {
    std::fprintf(stderr, "crud-api: %s\n", opened.error().c_str());
    return 2;
  }
  store::item_transfer& transfer = **opened;

  const std::int64_t start_ns = p.clock.steady_ns();
  progress_bar bar(write_stderr, p.clock, ::isatty(STDERR_FILENO) == 1, "imported");
  std::uint64_t imported = 0;
  std::uint64_t skipped = 0;
  std::uint64_t failed = 0;
  std::uint64_t line_number = 0;
  std::string error;
  std::vector<core::item_record> batch;
  std::uint64_t batch_first_line = 0;
  const std::size_t batch_size = std::max<std::size_t>(1, transfer.import_batch_size());
  batch.reserve(batch_size);

  auto flush = [&] {
    if (batch.empty())
      return;
    auto outcomes = transfer.import_items(batch, o.overwrite);
    if (!outcomes) {
      // The store is failing: the rest would fail the same way. A new run takes up the rest.
      failed += batch.size();
      error = "lines " + std::to_string(batch_first_line) + "-" + std::to_string(line_number) +
              " not imported: " + outcomes.error();
    } else {
      for (auto outcome : *outcomes)
        ++(outcome == store::import_outcome::written ? imported : skipped);
    }
    batch.clear();
    bar.update(imported + skipped + failed, in.bytes_read(), in.size());
  };

  std::string_view line;
  while (error.empty() && in.next(line)) {
    ++line_number;
    if (blank(line))
      continue;
    auto record = core::parse_item_line(line);
    if (!record) {
      ++failed;
      bar.print_line("crud-api: line " + std::to_string(line_number) + ": " + record.error());
      continue;
    }
    if (batch.empty())
      batch_first_line = line_number;
    batch.push_back(std::move(*record));
    if (batch.size() >= batch_size)
      flush();
  }
  if (error.empty() && in.failed())
    error = "cannot read " + (o.in_file == "-" ? std::string("standard input") : o.in_file) +
            " after line " + std::to_string(line_number) + ": " +
            std::system_category().message(errno);
  if (error.empty())
    flush();
  bar.finish();
  if (!error.empty())
    write_stderr("crud-api: import stopped: " + error + "\n");

  const double seconds = static_cast<double>(p.clock.steady_ns() - start_ns) / 1e9;
  write_stderr(summary_line({.moved_as = "imported",
                             .moved = imported,
                             .skipped = skipped,
                             .failed = failed,
                             .complete = error.empty(),
                             .seconds = seconds}));
  return error.empty() && failed == 0 ? 0 : 1;
}

}  // namespace crud::main

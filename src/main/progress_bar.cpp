#include "main/progress_bar.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

namespace crud::main {
namespace {

constexpr int bar_width = 20;
constexpr std::string_view erase_to_end = "\x1b[K";

// "0:07", "12:34", "1:02:03"
std::string duration_text(std::int64_t seconds) {
  char text[32];
  const std::int64_t h = seconds / 3600;
  const std::int64_t m = (seconds / 60) % 60;
  const std::int64_t s = seconds % 60;
  if (h > 0)
    std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", static_cast<long long>(h),
                  static_cast<long long>(m), static_cast<long long>(s));
  else
    std::snprintf(text, sizeof text, "%lld:%02lld", static_cast<long long>(m),
                  static_cast<long long>(s));
  return text;
}

}  // namespace

progress_bar::progress_bar(writer out, const core::clock& clock, bool enabled, std::string verb)
    : out_(std::move(out)),
      clock_(clock),
      enabled_(enabled),
      verb_(std::move(verb)),
      start_ns_(clock.steady_ns()) {}

void progress_bar::update(std::uint64_t count, std::uint64_t bytes_done,
                          std::uint64_t bytes_total) {
  count_ = count;
  bytes_done_ = bytes_done;
  bytes_total_ = bytes_total;
  if (!enabled_ || finished_)
    return;
  if (drawn_ && clock_.steady_ns() - last_draw_ns_ < redraw_interval_ns)
    return;
  draw();
}

void progress_bar::print_line(std::string_view line) {
  std::string text;
  if (enabled_ && drawn_ && !finished_) {
    text.push_back('\r');
    text.append(erase_to_end);
  }
  text.append(line);
  text.push_back('\n');
  out_(text);
  if (enabled_ && drawn_ && !finished_)
    draw();
}

void progress_bar::finish() {
  if (!enabled_ || finished_)
    return;
  draw();
  finished_ = true;
  out_("\n");
}

std::string progress_bar::render() const {
  // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) about `"literal" + string`.
  const std::int64_t elapsed_ns = std::max<std::int64_t>(0, clock_.steady_ns() - start_ns_);
  std::string text = verb_;
  text.push_back(' ');
  text.append(std::to_string(count_));
  text.append(" items");
  if (elapsed_ns > 0) {
    const auto rate = static_cast<std::uint64_t>(static_cast<double>(count_) * 1e9 /
                                                 static_cast<double>(elapsed_ns));
    text.append("  ");
    text.append(std::to_string(rate));
    text.append("/s");
  }
  if (bytes_total_ > 0) {
    const double done =
        std::min(1.0, static_cast<double>(bytes_done_) / static_cast<double>(bytes_total_));
    const auto filled = static_cast<std::size_t>(done * bar_width);
    text.append("  [");
    text.append(filled, '#');
    text.append(static_cast<std::size_t>(bar_width) - filled, '.');
    text.push_back(']');
    char percent[8];
    std::snprintf(percent, sizeof percent, "%3d%%", static_cast<int>(done * 100));
    text.append("  ");
    text.append(percent);
    if (done > 0 && done < 1) {
      const double left_s = static_cast<double>(elapsed_ns) / 1e9 * (1 - done) / done;
      text.append("  ETA ");
      text.append(duration_text(std::llround(left_s)));
    }
  }
  return text;
}

void progress_bar::draw() {
  std::string text;
  text.push_back('\r');
  text.append(render());
  text.append(erase_to_end);
  out_(text);
  drawn_ = true;
  last_draw_ns_ = clock_.steady_ns();
}

}  // namespace crud::main

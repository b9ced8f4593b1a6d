#pragma once
// The progress line that `crud-api export` and `import` draw on a terminal's stderr: how many
// items so far and how fast, and, when the input's size is known, how far through it they are
// and how long the rest should take:
//
//   imported 12000 items  4210/s  [#########...........]  45%  ETA 0:03
//
// It redraws in place ("\r", then erase to the end of the line) at most ten times a second, so
// drawing never costs the transfer anything. Off a terminal it draws nothing at all, and only
// the lines given to print_line are written. The clock is passed in (only main reads one).

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/clock.hpp"

namespace crud::main {

class progress_bar {
 public:
  using writer = std::function<void(std::string_view)>;

  // `verb` begins the line ("exported", "imported"). `enabled` is whether stderr is a terminal.
  progress_bar(writer out, const core::clock& clock, bool enabled, std::string verb);

  // The count so far, and when the input's size is known (total > 0), the bytes read of it.
  // Draws when the last drawing is at least 100 ms old.
  void update(std::uint64_t count, std::uint64_t bytes_done = 0, std::uint64_t bytes_total = 0);

  // Writes one line of text (with a newline added) above the bar, which is drawn again below it.
  void print_line(std::string_view line);

  // Draws the last state and ends the line, so what follows starts on a line of its own.
  void finish();

  // The bar's text for the current state, without the control characters.
  std::string render() const;

  static constexpr std::int64_t redraw_interval_ns = 100'000'000;

 private:
  void draw();

  writer out_;
  const core::clock& clock_;
  bool enabled_;
  std::string verb_;
  std::int64_t start_ns_;
  std::int64_t last_draw_ns_ = 0;
  bool drawn_ = false;
  bool finished_ = false;
  std::uint64_t count_ = 0;
  std::uint64_t bytes_done_ = 0;
  std::uint64_t bytes_total_ = 0;
};

}  // namespace crud::main

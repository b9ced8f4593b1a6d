#include "main/progress_bar.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/testing_fakes.hpp"

namespace crud::main {
namespace {

struct captured {
  std::vector<std::string> writes;
  progress_bar::writer writer() {
    return [this](std::string_view s) { writes.emplace_back(s); };
  }
  std::string all() const {
    std::string out;
    for (const auto& w : writes)
      out += w;
    return out;
  }
};

TEST(ProgressBar, DrawsCountAndRateInPlace) {
  core::testing::fake_clock clock;
  captured out;
  progress_bar bar(out.writer(), clock, true, "exported");
  clock.advance_ms(2000);
  bar.update(5000);
  ASSERT_EQ(out.writes.size(), 1U);
  EXPECT_EQ(out.writes[0], "\rexported 5000 items  2500/s\x1b[K");
}

TEST(ProgressBar, RedrawsAtMostTenTimesASecond) {
  core::testing::fake_clock clock;
  captured out;
  progress_bar bar(out.writer(), clock, true, "imported");
  for (int i = 1; i <= 1000; ++i) {
    bar.update(static_cast<std::uint64_t>(i));
    clock.advance_ms(1);  // one second in all
  }
  EXPECT_GE(out.writes.size(), 9U);
  EXPECT_LE(out.writes.size(), 11U);
}

TEST(ProgressBar, ShowsPercentageAndEtaFromBytes) {
  core::testing::fake_clock clock;
  captured out;
  progress_bar bar(out.writer(), clock, true, "imported");
  clock.advance_ms(10'000);
  bar.update(4000, 250, 1000);  // a quarter in 10 s: 30 s to go
  EXPECT_EQ(bar.render(), "imported 4000 items  400/s  [#####...............]   25%  ETA 0:30");
  clock.advance_ms(30'000);
  bar.update(16000, 1000, 1000);
  EXPECT_EQ(bar.render(), "imported 16000 items  400/s  [####################]  100%");
}

TEST(ProgressBar, PrintsLinesAboveTheBarAndRedrawsIt) {
  core::testing::fake_clock clock;
  captured out;
  progress_bar bar(out.writer(), clock, true, "imported");
  clock.advance_ms(1000);
  bar.update(10);
  bar.print_line("crud-api: line 7: not JSON");
  ASSERT_EQ(out.writes.size(), 3U);
  EXPECT_EQ(out.writes[1], "\r\x1b[Kcrud-api: line 7: not JSON\n");
  EXPECT_EQ(out.writes[2], out.writes[0]);
  bar.finish();
  EXPECT_EQ(out.writes.back(), "\n");
}

TEST(ProgressBar, DrawsNothingOffATerminal) {
  core::testing::fake_clock clock;
  captured out;
  progress_bar bar(out.writer(), clock, false, "imported");
  clock.advance_ms(1000);
  bar.update(10, 5, 10);
  bar.print_line("crud-api: line 2: not JSON");
  bar.finish();
  EXPECT_EQ(out.all(), "crud-api: line 2: not JSON\n");
}

}  // namespace
}  // namespace crud::main

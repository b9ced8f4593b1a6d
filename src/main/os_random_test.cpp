#include "main/os_random.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace crud::main {
namespace {

std::string draw(os_random& r, std::size_t n) {
  std::string out(n, '\0');
  r.fill(std::as_writable_bytes(std::span(out)));
  return out;
}

TEST(OsRandom, NeverHandsOutTheSameBytesTwice) {
  // Small draws come from a per-thread block; they must still all differ, across block refills.
  os_random r;
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {
    EXPECT_TRUE(seen.insert(draw(r, 16)).second) << "draw " << i << " repeated";
  }
}

TEST(OsRandom, FillsEveryByteOfOddAndLargeSizes) {
  // A buffer left at zero would show up as a run of zeros far longer than chance allows.
  os_random r;
  for (std::size_t n : {1, 7, 100, 127, 128, 129, 511, 512, 513, 4096}) {
    const std::string a = draw(r, n);
    ASSERT_EQ(a.size(), n);
    if (n >= 100) {
      EXPECT_EQ(a.find(std::string(16, '\0')), std::string::npos) << "size " << n;
      EXPECT_NE(a, draw(r, n)) << "size " << n;
    }
  }
  EXPECT_NO_THROW(r.fill({}));
}

TEST(OsRandom, ThreadsDrawDifferentBytes) {
  os_random r;
  constexpr std::size_t threads = 4;
  constexpr std::size_t draws = 300;
  std::vector<std::vector<std::string>> got(threads);
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (std::size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (std::size_t i = 0; i < draws; ++i)
        got[t].push_back(draw(r, 16));
    });
  }
  for (auto& th : pool)
    th.join();
  std::set<std::string> all;
  for (const auto& g : got)
    all.insert(g.begin(), g.end());
  EXPECT_EQ(all.size(), threads * draws);
}

TEST(OsRandom, AForkedChildDoesNotRepeatItsParentsBytes) {
  // The parent's block holds bytes it has not handed out yet. A child that reused them would
  // give the same "random" ids as the parent's next ones.
  os_random r;
  (void)draw(r, 16);  // fill this thread's block
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string child = draw(r, 64);
    const ssize_t n = ::write(pipe_fds[1], child.data(), child.size());
    ::_exit(n == static_cast<ssize_t>(child.size()) ? 0 : 1);
  }
  ::close(pipe_fds[1]);
  std::string child(64, '\0');
  std::size_t got = 0;
  while (got < child.size()) {
    const ssize_t n = ::read(pipe_fds[0], child.data() + got, child.size() - got);
    if (n <= 0)
      break;
    got += static_cast<std::size_t>(n);
  }
  ::close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(got, child.size());
  const std::string parent = draw(r, 64);
  EXPECT_NE(parent, child);
  // Not even a 16-byte stretch in common: the child drew from its own fresh block.
  EXPECT_EQ(parent.find(child.substr(0, 16)), std::string::npos);
}

}  // namespace
}  // namespace crud::main

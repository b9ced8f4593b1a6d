#include "main/stdout_sink.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "main/file_text.hpp"
#include "support/temp_dir.hpp"

namespace crud::main {
namespace {

using test_support::temp_dir;

// A file the sink writes to, and what it holds.
class sink_file {
 public:
  sink_file() : path_(dir_.file("log.txt")), fd_(::open(path_.c_str(), O_CREAT | O_WRONLY, 0600)) {}
  sink_file(const sink_file&) = delete;
  sink_file& operator=(const sink_file&) = delete;
  ~sink_file() { ::close(fd_); }
  int fd() const { return fd_; }
  std::string text() const { return read_file(path_).value_or("<unreadable>"); }

 private:
  temp_dir dir_;
  std::string path_;
  int fd_;
};

TEST(StdoutSink, LineBufferedWritesEachLineAtOnce) {
  sink_file file;
  stdout_sink sink(true, file.fd());
  sink.write("one");
  EXPECT_EQ(file.text(), "one\n");
  sink.write("two");
  EXPECT_EQ(file.text(), "one\ntwo\n");
}

TEST(StdoutSink, BufferedLinesWaitForAFlushOrAFullChunk) {
  sink_file file;
  stdout_sink sink(false, file.fd());
  sink.write("first");
  EXPECT_EQ(file.text(), "");
  sink.flush();
  EXPECT_EQ(file.text(), "first\n");
  // 64 KiB fill a chunk, which goes out without a flush.
  const std::string line(1000, 'x');
  for (int i = 0; i < 70; ++i) {
    sink.write(line);
  }
  EXPECT_GE(file.text().size(), 64u * 1024);
}

TEST(StdoutSink, LinesOfManyThreadsComeOutWholeAndEachThreadsInOrder) {
  sink_file file;
  constexpr int threads_n = 6;
  constexpr int per_thread = 5000;
  {
    stdout_sink sink(false, file.fd());
    std::vector<std::thread> threads;
    for (int t = 0; t < threads_n; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < per_thread; ++i) {
          // Long enough that the buffer fills up, and goes out, many times over.
          sink.write("thread " + std::to_string(t) + " line " + std::to_string(i) + " " +
                     std::string(static_cast<std::size_t>(50 + i % 40), 'p'));
          if (i % 997 == 0) {
            sink.flush();  // as the server's timer does, from whichever thread
          }
        }
      });
    }
    for (auto& th : threads) {
      th.join();
    }
    // The destructor writes what is left.
  }
  std::map<int, int> next;  // per thread, the line number expected next
  std::istringstream in(file.text());
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    int t = -1;
    int i = -1;
    ASSERT_EQ(std::sscanf(line.c_str(), "thread %d line %d ", &t, &i), 2) << line;
    const std::string tail = line.substr(line.rfind(' ') + 1);
    ASSERT_EQ(tail, std::string(static_cast<std::size_t>(50 + i % 40), 'p')) << line;
    ASSERT_EQ(i, next[t]) << "thread " << t << " out of order";
    next[t] = i + 1;
  }
  EXPECT_EQ(lines, threads_n * per_thread);
}

TEST(StdoutSink, AThreadWritingToTwoSinksKeepsTheirLinesApart) {
  sink_file a_file;
  sink_file b_file;
  stdout_sink a(false, a_file.fd());
  stdout_sink b(false, b_file.fd());
  const auto line = [](char sink, int i) {
    std::string text(1, sink);
    text.append(std::to_string(i));
    return text;
  };
  for (int i = 0; i < 100; ++i) {
    a.write(line('a', i));
    b.write(line('b', i));
  }
  a.flush();
  b.flush();
  std::string want_a;
  std::string want_b;
  for (int i = 0; i < 100; ++i) {
    want_a.append(line('a', i)).push_back('\n');
    want_b.append(line('b', i)).push_back('\n');
  }
  EXPECT_EQ(a_file.text(), want_a);
  EXPECT_EQ(b_file.text(), want_b);
}

}  // namespace
}  // namespace crud::main

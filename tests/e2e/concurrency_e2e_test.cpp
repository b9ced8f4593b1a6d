// Conditional writes under contention: many connections released together by a barrier, all
// carrying the same precondition. Exactly one may win; the rest must be told they lost. Each
// race also proves that it was one: the server's own access log shows raced requests inside the
// server at the same time, so a server that took them one after another would fail it.

#include <sqlite3.h>

#include <algorithm>
#include <barrier>
#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/timestamp.hpp"
#include "support/contract_checks.hpp"
#include "support/server_fixture.hpp"

namespace crud::e2e {
namespace {

// On SQLite, holds the database's write lock from another connection for a while: every write
// the server starts meanwhile waits inside the server, so the raced requests stay in it long
// enough to overlap measurably however fast the disk is. DynamoDB engines answer slowly enough.
class write_lock_holder {
 public:
  write_lock_holder(const std::filesystem::path& db, std::chrono::milliseconds hold) {
    sqlite3_open(db.c_str(), &db_);
    // The server's own connections may hold the file's locks for a moment just then (without
    // a wait, BEGIN IMMEDIATE was BUSY once in 80 races on a fresh server): wait for them
    // rather than fail to take the lock.
    sqlite3_busy_timeout(db_, 5000);
    locked_ = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK;
    release_ = std::thread([this, hold] {
      std::this_thread::sleep_for(hold);
      sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
    });
  }
  write_lock_holder(const write_lock_holder&) = delete;
  write_lock_holder& operator=(const write_lock_holder&) = delete;
  ~write_lock_holder() {
    release_.join();
    sqlite3_close(db_);
  }
  bool locked() const { return locked_; }

 private:
  sqlite3* db_ = nullptr;
  bool locked_ = false;
  std::thread release_;
};

// A request as the server logged it: [start, end] in ms, from the line's timestamp (the end,
// to the millisecond) and its duration (to the microsecond).
struct logged_span {
  double start_ms;
  double end_ms;
};

// The longest time two of `spans` were inside the server together. The timestamps' 1 ms
// resolution bounds its error, so more than 1 ms means a real overlap.
double longest_overlap_ms(const std::vector<logged_span>& spans) {
  double best = -1e18;
  for (std::size_t i = 0; i < spans.size(); ++i) {
    for (std::size_t j = i + 1; j < spans.size(); ++j) {
      best = std::max(best, std::min(spans[i].end_ms, spans[j].end_ms) -
                                std::max(spans[i].start_ms, spans[j].start_ms));
    }
  }
  return best;
}

class ConcurrencyE2e : public server_fixture {
 protected:
  std::vector<std::string> server_args() const override { return {"--rate-limit", "0"}; }

  // Sends one request per connection, all released at once; their responses in order. Expects
  // the server's log to show two of them (of `operation`) inside the server together.
  std::vector<http_response> race(int n, const std::function<http_request(int)>& make,
                                  const std::string& operation) {
    const std::size_t logged_before = server().lines().size();
    auto answers = race_unchecked(n, make);
    const auto spans = spans_since(logged_before, operation, n);
    EXPECT_EQ(spans.size(), static_cast<std::size_t>(n)) << "access lines of " << operation;
    EXPECT_GT(longest_overlap_ms(spans), 1.0)
        << "the server's log shows no two of the raced requests inside it together";
    return answers;
  }

  // The spans of the first `n` access lines of `operation` logged after line `from`, waiting
  // for them a little: the log is written as each response goes out.
  std::vector<logged_span> spans_since(std::size_t from, const std::string& operation, int n) {
    std::vector<logged_span> spans;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      spans.clear();
      const auto lines = server().lines();
      for (std::size_t i = from; i < lines.size(); ++i) {
        boost::system::error_code ec;
        const auto v = boost::json::parse(lines[i], ec);
        if (ec || !v.is_object())
          continue;
        const auto& o = v.get_object();
        const auto* op = o.if_contains("operation");
        const auto* ts = o.if_contains("timestamp");
        const auto* duration = o.if_contains("duration");
        if (op == nullptr || !op->is_string() || op->get_string() != operation || ts == nullptr ||
            !ts->is_string() || duration == nullptr || !duration->is_number())
          continue;
        const auto end = core::parse_timestamp(ts->get_string());
        if (!end)
          continue;
        const double end_ms = static_cast<double>(*end);
        spans.push_back({end_ms - duration->to_number<double>(), end_ms});
      }
      if (spans.size() >= static_cast<std::size_t>(n) || std::chrono::steady_clock::now() > give_up)
        return spans;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  std::vector<http_response> race_unchecked(int n, const std::function<http_request(int)>& make) {
    std::vector<std::unique_ptr<http_client>> clients;
    for (int i = 0; i < n; ++i) {
      clients.push_back(new_client());
      EXPECT_TRUE(clients.back()->connect());
    }
    std::vector<http_request> requests;
    for (int i = 0; i < n; ++i) {
      requests.push_back(make(i));
    }
    std::vector<http_response> answers(n);
    std::unique_ptr<write_lock_holder> held;
    if (dynamodb() == nullptr) {
      held = std::make_unique<write_lock_holder>(db_path(), std::chrono::milliseconds(200));
      EXPECT_TRUE(held->locked());
    }
    std::barrier start(n);
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([&, i] {
        start.arrive_and_wait();
        answers[i] = clients[i]->send(requests[i]);
      });
    }
    for (auto& t : threads) {
      t.join();
    }
    return answers;
  }
};

TEST_F(ConcurrencyE2e, TwentyPutsWithOneIfMatchHaveOneWinner) {
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const auto item = create_item("contended");
    const auto etag = etag_of(string_at(item, "id"));
    ASSERT_FALSE(etag.empty());
    const auto answers = race(
        20,
        [&](int i) {
          return http_request{"PUT",
                              item_path(item),
                              {{"Content-Type", "application/json"}, {"If-Match", etag}},
                              R"({"name":"writer )" + std::to_string(i) + R"("})"};
        },
        "UPDATE_ITEM");
    int won = 0;
    std::string winner;
    for (const auto& res : answers) {
      if (res.status == 200) {
        ++won;
        winner = string_at(data_of(res), "name");
        EXPECT_EQ(int_at(data_of(res), "version"), 2);
      } else {
        EXPECT_TRUE(is_error(res, 412, "PRECONDITION_FAILED"));
      }
    }
    EXPECT_EQ(won, 1);
    const auto now = data_of(client().get(item_path(item)));
    EXPECT_EQ(int_at(now, "version"), 2);
    EXPECT_EQ(string_at(now, "name"), winner);
  }
}

TEST_F(ConcurrencyE2e, TwentyPatchesWithOneBodyVersionHaveOneWinner) {
  const auto item = create_item("contended");
  const auto answers = race(
      20,
      [&](int i) {
        return http_request{"PATCH",
                            item_path(item),
                            {{"Content-Type", "application/merge-patch+json"}},
                            R"({"description":"writer )" + std::to_string(i) + R"(","version":1})"};
      },
      "PATCH_ITEM");
  int won = 0;
  for (const auto& res : answers) {
    if (res.status == 200) {
      ++won;
    } else {
      EXPECT_TRUE(is_error(res, 409, "CONFLICT"));
    }
  }
  EXPECT_EQ(won, 1);
  EXPECT_EQ(int_at(data_of(client().get(item_path(item))), "version"), 2);
}

// Retries of one create racing with one Idempotency-Key: one item is made, and every other
// retry is told the first is still in progress.
TEST_F(ConcurrencyE2e, EightRetriesWithOneIdempotencyKeyHaveOneWinner) {
  const auto answers = race(
      8,
      [](int) {
        return http_request{"POST",
                            "/items",
                            {{"Content-Type", "application/json"}, {"Idempotency-Key", "race-key"}},
                            R"({"name":"racing"})"};
      },
      "CREATE_ITEM");
  std::set<std::string> created_ids;
  for (const auto& res : answers) {
    if (res.status == 201) {
      EXPECT_TRUE(is_success(res, 201));
      created_ids.insert(string_at(data_of(res), "id"));
    } else {
      EXPECT_TRUE(is_error(res, 409, "IDEMPOTENCY_IN_PROGRESS"));
    }
  }
  EXPECT_EQ(created_ids.size(), 1U);
  EXPECT_EQ(ids_of(client().get("/items")).size(), 1U);
}

TEST_F(ConcurrencyE2e, ConcurrentCreatesAllLand) {
  const auto answers = race(
      20,
      [](int i) {
        return http_request{"POST",
                            "/items",
                            {{"Content-Type", "application/json"}},
                            R"({"name":"parallel )" + std::to_string(i) + R"("})"};
      },
      "CREATE_ITEM");
  std::set<std::string> ids;
  for (const auto& res : answers) {
    ASSERT_TRUE(is_success(res, 201));
    ids.insert(string_at(data_of(res), "id"));
  }
  EXPECT_EQ(ids.size(), 20U);
  EXPECT_EQ(ids_of(client().get("/items?limit=100")).size(), 20U);
}

}  // namespace
}  // namespace crud::e2e

// Durability under a power cut: POSTs stream in from several connections, the server is
// SIGKILLed at a random moment and restarted on the same database, several times. Every POST
// that was answered 201 must still be there, and the database must pass integrity_check.

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/contract_checks.hpp"
#include "support/server_fixture.hpp"
#include "support/sqlite_file.hpp"

namespace crud::e2e {
namespace {

class CrashE2e : public server_fixture {
 protected:
  std::vector<std::string> server_args() const override { return {"--rate-limit", "0"}; }
};

TEST_F(CrashE2e, AcknowledgedPostsSurviveSigkill) {
  constexpr int rounds = 6;
  constexpr int writers = 3;
  const auto seed = std::random_device{}();
  std::mt19937 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::uniform_int_distribution<int> delay_ms(20, 400);

  std::vector<std::string> acknowledged;
  std::mutex acknowledged_mutex;
  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    if (round > 0) {
      start({"--rate-limit", "0"});
    }
    // Every earlier acknowledged write survived the previous kill.
    for (const auto& id : acknowledged) {
      const auto res = client().get(item_path(id));
      ASSERT_EQ(res.status, 200) << "acknowledged " << id << " lost: " << describe(res);
    }

    std::atomic<int> unexpected{0};
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w) {
      threads.emplace_back([&, w, port = server().port()] {
        http_client c(port, std::chrono::seconds(10));
        for (int i = 0; i < 5000; ++i) {
          const auto res =
              c.post("/items", R"({"name":"crash )" + std::to_string(round) + "-" +
                                   std::to_string(w) + "-" + std::to_string(i) + R"("})");
          if (res.status == 0) {
            break;  // the server is gone
          }
          const auto id = string_at(data_of(res), "id");
          if (res.status != 201 || id.empty()) {
            ++unexpected;
            continue;
          }
          std::lock_guard lock(acknowledged_mutex);
          acknowledged.push_back(id);
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    server().kill();
    for (auto& t : threads) {
      t.join();
    }
    EXPECT_EQ(unexpected, 0);
    if (!on_dynamodb()) {
      EXPECT_EQ(sqlite_scalar(db_path(), "PRAGMA integrity_check"), "ok");
    }
  }
  EXPECT_GT(acknowledged.size(), 0U);

  start({"--rate-limit", "0"});
  for (const auto& id : acknowledged) {
    const auto res = client().get(item_path(id));
    ASSERT_EQ(res.status, 200) << "acknowledged " << id << " lost: " << describe(res);
  }
  // Nothing appears twice, and the list agrees with the point reads.
  std::vector<std::string> listed;
  std::string key;
  for (int page = 0; page < 10000; ++page) {
    const auto res =
        client().get("/items?limit=100" + (key.empty() ? "" : "&lastKey=" + url_encode(key)));
    ASSERT_TRUE(is_success(res, 200));
    const auto ids = ids_of(res);
    listed.insert(listed.end(), ids.begin(), ids.end());
    key = string_at(json_of(res).at("pagination").as_object(), "lastKey");
    if (key.empty()) {
      break;
    }
  }
  EXPECT_GE(listed.size(), acknowledged.size());
  EXPECT_TRUE(std::is_sorted(listed.begin(), listed.end()));
  EXPECT_EQ(std::adjacent_find(listed.begin(), listed.end()), listed.end());
}

}  // namespace
}  // namespace crud::e2e

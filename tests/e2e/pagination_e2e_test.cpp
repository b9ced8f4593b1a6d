// CONTRACT §2's pagination promise under churn: following `lastKey` until it is null returns
// every item that existed for the whole walk exactly once, in creation order, while other items
// are created and deleted. And `lastKey` is tamper-evident and survives a restart.

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/contract_checks.hpp"
#include "support/server_fixture.hpp"

namespace crud::e2e {
namespace {

namespace json = boost::json;

class PaginationE2e : public server_fixture {
 protected:
  std::vector<std::string> server_args() const override { return {"--rate-limit", "0"}; }

  std::vector<std::string> create_items(int n) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      const auto res =
          client().post("/items", R"({"name":"page item )" + std::to_string(i) + R"("})");
      EXPECT_EQ(res.status, 201) << describe(res);
      ids.push_back(string_at(data_of(res), "id"));
    }
    return ids;
  }

  // The lastKey of a list response; empty for null.
  static std::string last_key(const http_response& res) {
    const auto body = json_of(res);
    const auto& pagination = body.at("pagination").as_object();
    return string_at(pagination, "lastKey");
  }
};

TEST_F(PaginationE2e, WalkUnderChurnSeesEveryStableItemOnceInOrder) {
  const auto created = create_items(250);
  ASSERT_TRUE(std::is_sorted(created.begin(), created.end()));
  ASSERT_EQ(std::set<std::string>(created.begin(), created.end()).size(), 250U);

  // Some of the 250 are deleted during the walk: they did not exist throughout, and their
  // absence or presence must not disturb the others.
  std::mt19937 rng(std::random_device{}());
  std::vector<std::string> doomed;
  std::sample(created.begin(), created.end(), std::back_inserter(doomed), 40, rng);
  std::shuffle(doomed.begin(), doomed.end(), rng);
  const std::set<std::string> doomed_set(doomed.begin(), doomed.end());
  std::vector<std::string> stable;
  std::copy_if(created.begin(), created.end(), std::back_inserter(stable),
               [&](const std::string& id) { return doomed_set.count(id) == 0; });

  std::atomic<bool> walking{true};
  std::atomic<int> churn_failures{0};
  std::atomic<int> churn_ops{0};
  std::thread churn([&, port = server().port()] {
    http_client c(port);
    std::vector<std::string> mine;
    std::size_t next_doomed = 0;
    for (int i = 0; i < 3000 && walking; ++i) {
      const auto res = c.post("/items", R"({"name":"churn"})");
      churn_failures += res.status == 201 ? 0 : 1;
      mine.push_back(string_at(data_of(res), "id"));
      if (i % 2 == 1) {
        // Alternate hard and soft deletes of the churn's own items.
        const auto target = mine[mine.size() - 2];
        const auto del = c.del(item_path(target) + (i % 4 == 1 ? "?mode=soft" : "?mode=hard"));
        churn_failures += del.status == 200 ? 0 : 1;
      }
      if (i % 3 == 0 && next_doomed < doomed.size()) {
        const auto del = c.del(item_path(doomed[next_doomed++]));
        churn_failures += del.status == 200 ? 0 : 1;
      }
      ++churn_ops;
    }
  });

  // Start walking once the churn is under way (bounded wait).
  for (int i = 0; i < 500 && churn_ops < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::vector<std::string> seen;
  std::string key;
  int pages = 0;
  for (; pages < 400; ++pages) {
    const auto target = "/items?limit=7" + (key.empty() ? "" : "&lastKey=" + url_encode(key));
    const auto res = client().get(target);
    ASSERT_TRUE(is_success(res, 200)) << target;
    const auto ids = ids_of(res);
    EXPECT_LE(ids.size(), 7U);
    EXPECT_EQ(int_at(json_of(res).at("pagination").as_object(), "count"),
              static_cast<std::int64_t>(ids.size()));
    seen.insert(seen.end(), ids.begin(), ids.end());
    key = last_key(res);
    if (key.empty()) {
      break;
    }
  }
  walking = false;
  churn.join();
  ASSERT_LT(pages, 400) << "the walk did not end";
  EXPECT_EQ(churn_failures, 0);
  EXPECT_GT(churn_ops, 0);

  // Strictly ascending ids: no item twice, and creation order throughout.
  for (std::size_t i = 1; i < seen.size(); ++i) {
    ASSERT_LT(seen[i - 1], seen[i]) << "page order broken at " << i;
  }
  const std::set<std::string> seen_set(seen.begin(), seen.end());
  std::vector<std::string> stable_seen;
  std::copy_if(
      seen.begin(), seen.end(), std::back_inserter(stable_seen),
      [&](const std::string& id) { return std::binary_search(stable.begin(), stable.end(), id); });
  EXPECT_EQ(stable_seen, stable);
  EXPECT_GE(pages, 250 / 7 - 40 / 7);
}

TEST_F(PaginationE2e, TamperedLastKeyGets400) {
  create_items(10);
  const auto first = client().get("/items?limit=3");
  ASSERT_TRUE(is_success(first, 200));
  const auto key = last_key(first);
  ASSERT_GE(key.size(), 8U) << describe(first);
  ASSERT_TRUE(is_success(client().get("/items?limit=3&lastKey=" + url_encode(key)), 200));

  const auto flip = [](std::string k, std::size_t at) {
    k[at] = (k[at] == 'A' || k[at] == 'a') ? 'B' : 'A';
    return k;
  };
  std::vector<std::string> forged{
      flip(key, 0),
      flip(key, key.size() / 2),
      flip(key, key.size() - 2),
      key.substr(0, key.size() - 1),
      key.substr(0, key.size() / 2),
      key + "A",
      key + key,
      "x" + key,
      "garbage",
  };
  for (const auto& bad : forged) {
    SCOPED_TRACE("lastKey=" + bad);
    const auto res = client().get("/items?limit=3&lastKey=" + url_encode(bad));
    EXPECT_TRUE(is_error(res, 400, "VALIDATION_FAILED"));
    EXPECT_EQ(detail_fields(res), std::vector<std::string>{"lastKey"});
  }
}

TEST_F(PaginationE2e, LastKeySurvivesARestart) {
  const auto created = create_items(6);
  const auto first = client().get("/items?limit=4");
  ASSERT_TRUE(is_success(first, 200));
  const auto key = last_key(first);
  ASSERT_FALSE(key.empty());

  restart({"--rate-limit", "0"});
  const auto second = client().get("/items?limit=4&lastKey=" + url_encode(key));
  ASSERT_TRUE(is_success(second, 200));
  EXPECT_EQ(ids_of(second), std::vector<std::string>(created.begin() + 4, created.end()));
}

TEST_F(PaginationE2e, LastKeyFromAnotherDatabaseGets400) {
  create_items(4);
  const auto key = last_key(client().get("/items?limit=2"));
  ASSERT_FALSE(key.empty());

  // A second server on its own store (database or table) holds its own cursor key.
  server_process other(other_store(), {"--rate-limit", "0"});
  http_client other_client(other.port());
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(other_client.post("/items", R"({"name":"other"})").status, 201);
  }
  const auto res = other_client.get("/items?limit=2&lastKey=" + url_encode(key));
  EXPECT_TRUE(is_error(res, 400, "VALIDATION_FAILED"));
  EXPECT_EQ(other.stop(), 0);
}

}  // namespace
}  // namespace crud::e2e

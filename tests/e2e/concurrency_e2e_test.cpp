// Conditional writes under contention: many connections released together by a barrier, all
// carrying the same precondition. Exactly one may win; the rest must be told they lost.

#include <barrier>
#include <boost/json.hpp>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/contract_checks.hpp"
#include "support/server_fixture.hpp"

namespace crud::e2e {
namespace {

class ConcurrencyE2e : public server_fixture {
 protected:
  std::vector<std::string> server_args() const override { return {"--rate-limit", "0"}; }

  // Sends one request per connection, all released at once; their responses in order.
  std::vector<http_response> race(int n, const std::function<http_request(int)>& make) {
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
    const auto answers = race(20, [&](int i) {
      return http_request{"PUT",
                          item_path(item),
                          {{"Content-Type", "application/json"}, {"If-Match", etag}},
                          R"({"name":"writer )" + std::to_string(i) + R"("})"};
    });
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
  const auto answers = race(20, [&](int i) {
    return http_request{"PATCH",
                        item_path(item),
                        {{"Content-Type", "application/merge-patch+json"}},
                        R"({"description":"writer )" + std::to_string(i) + R"(","version":1})"};
  });
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

TEST_F(ConcurrencyE2e, ConcurrentCreatesAllLand) {
  const auto answers = race(20, [](int i) {
    return http_request{"POST",
                        "/items",
                        {{"Content-Type", "application/json"}},
                        R"({"name":"parallel )" + std::to_string(i) + R"("})"};
  });
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

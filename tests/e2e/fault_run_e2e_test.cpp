// The fault run (docs/reliability.md, "Faults on DynamoDB"; `make faults`): `crud-api serve` on
// dynalite under a steady mixed load while the fault proxy throttles, answers 500, drops
// connections, loses answers and stalls, and then while dynalite is killed and restarted. For
// each fault it reports what the clients got while it lasted and how long service took to come
// back after it ended. It is a measurement, minutes long, so it runs only when asked
// (CRUD_FAULT_RUN=1) and skips in the ordinary test runs.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/contract_checks.hpp"
#include "support/fault_proxy.hpp"
#include "support/server_fixture.hpp"
#include "support/server_process.hpp"
#include "support/store_backend.hpp"
#include "support/temp_dir.hpp"

namespace crud::e2e {
namespace {

using fault = fault_proxy::fault;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

struct outcome {
  double sent_s;  // since the run began
  double took_ms;
  int status;
  bool retry_after;
};

// Paced clients, each on its own items: POST, GET, list, PUT with If-Match, DELETE with
// If-Match. A write that got 503 may still have happened (its answer was lost), so a later 404
// or 412 on that item is an expected consequence, not a fault.
class load {
 public:
  load(std::uint16_t port, int clients, double rps_each, clock_type::time_point epoch)
      : epoch_(epoch) {
    for (int i = 0; i < clients; ++i)
      threads_.emplace_back([this, port, rps_each, i] { run(port, rps_each, i); });
  }
  ~load() { stop(); }
  load(const load&) = delete;
  load& operator=(const load&) = delete;

  void stop() {
    stop_ = true;
    for (auto& t : threads_)
      if (t.joinable())
        t.join();
  }
  std::vector<outcome> outcomes() const {
    std::lock_guard lock(mutex_);
    return outcomes_;
  }

 private:
  struct item {
    std::string id;
    std::string etag;
  };

  void run(std::uint16_t port, double rps, int seed) {
    http_client client(port, 30s);
    std::mt19937 random(static_cast<unsigned>(seed) * 7919U + 1);
    std::uniform_real_distribution<double> unit(0, 1);
    std::vector<item> items;
    const auto period = std::chrono::duration<double>(1.0 / rps);
    auto next = clock_type::now();
    int n = 0;
    while (!stop_) {
      std::this_thread::sleep_until(next);
      next += std::chrono::duration_cast<clock_type::duration>(period);
      const double r = unit(random);
      http_request req;
      std::size_t index = 0;
      enum { create, read, list, replace, remove } op = create;
      if (items.empty() || r < 0.25) {
        op = create;
        req = {"POST", "/items", {{"Content-Type", "application/json"}}, R"({"name":"fault run"})"};
      } else {
        index = random() % items.size();
        const auto& it = items[index];
        if (r < 0.55) {
          op = read;
          req = {"GET", "/items/" + it.id, {}, std::nullopt};
        } else if (r < 0.65) {
          op = list;
          req = {"GET", "/items?limit=20", {}, std::nullopt};
        } else if (r < 0.9) {
          op = replace;
          req = {"PUT",
                 "/items/" + it.id,
                 {{"Content-Type", "application/json"}, {"If-Match", it.etag}},
                 R"({"name":"fault run )" + std::to_string(++n) + R"("})"};
        } else {
          op = remove;
          req = {"DELETE", "/items/" + it.id, {{"If-Match", it.etag}}, std::nullopt};
        }
      }
      const auto start = clock_type::now();
      const auto res = client.send(req);
      const auto took = clock_type::now() - start;
      {
        std::lock_guard lock(mutex_);
        outcomes_.push_back({std::chrono::duration<double>(start - epoch_).count(),
                             std::chrono::duration<double, std::milli>(took).count(), res.status,
                             res.header("Retry-After").has_value()});
      }
      const auto etag = res.header("ETag").value_or("");
      if (op == create && res.status == 201) {
        items.push_back({string_at(data_of(res), "id"), etag});
      } else if ((op == read || op == replace) && res.status == 200) {
        items[index].etag = etag;
      } else if (op == remove && (res.status == 200 || res.status == 404)) {
        items.erase(items.begin() + static_cast<std::ptrdiff_t>(index));
      } else if (op == replace && res.status == 412) {
        // An earlier PUT whose answer was lost moved the item on: learn its tag again.
        const auto now = client.get("/items/" + items[index].id);
        if (now.status == 200)
          items[index].etag = now.header("ETag").value_or("");
      } else if (op == read && res.status == 404) {
        items.erase(items.begin() + static_cast<std::ptrdiff_t>(index));
      }
      if (items.size() > 100)
        items.erase(items.begin());
    }
  }

  clock_type::time_point epoch_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<outcome> outcomes_;
  std::vector<std::thread> threads_;
};

double env_number(const char* name, double fallback) {
  const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): set before the run
  return v != nullptr && *v != '\0' ? std::atof(v) : fallback;
}

struct phase {
  std::string name;
  double begin_s;  // the fault starts
  double end_s;    // the fault ends (cleared, or dynalite is back)
  double until_s;  // the next phase begins
};

// What the clients got for some of the requests.
struct tally {
  int requests = 0;
  int ok = 0;            // 2xx
  int unavailable = 0;   // 503 with Retry-After
  int consequences = 0;  // 404 or 412 after an unacknowledged write
  int other = 0;         // anything else: a fault reached the client as something else
  double p99_ms = 0;
  std::map<int, int> statuses;
};

// The requests sent in [from, to) and answered before `answered_by` (later, the next phase's
// fault may have met them).
tally count(const std::vector<outcome>& all, double from, double to, double answered_by) {
  tally t;
  std::vector<double> took;
  for (const auto& o : all) {
    if (o.sent_s < from || o.sent_s >= to || o.sent_s + o.took_ms / 1000 >= answered_by)
      continue;
    ++t.requests;
    ++t.statuses[o.status];
    took.push_back(o.took_ms);
    if (o.status >= 200 && o.status < 300)
      ++t.ok;
    else if (o.status == 503 && o.retry_after)
      ++t.unavailable;
    else if (o.status == 404 || o.status == 412)
      ++t.consequences;
    else
      ++t.other;
  }
  if (!took.empty()) {
    std::sort(took.begin(), took.end());
    t.p99_ms = took[std::min(took.size() - 1, took.size() * 99 / 100)];
  }
  return t;
}

// Seconds from `p.end_s` until the first success answered to a request sent after it, when
// nothing failed after that; negative when service had not come back by `p.until_s`.
double recovery_s(const std::vector<outcome>& all, const phase& p) {
  auto answered = [](const outcome& o) { return o.sent_s + o.took_ms / 1000; };
  auto failed = [](const outcome& o) {
    return (o.status < 200 || o.status >= 300) && o.status != 404 && o.status != 412;
  };
  double last_failure = -1;
  for (const auto& o : all)
    if (o.sent_s >= p.end_s && answered(o) < p.until_s && failed(o))
      last_failure = std::max(last_failure, o.sent_s);
  double first_success = -1;
  for (const auto& o : all)
    if (o.sent_s >= p.end_s && o.sent_s > last_failure && answered(o) < p.until_s && !failed(o) &&
        (first_success < 0 || answered(o) < first_success))
      first_success = answered(o);
  return first_success < 0 ? -1 : first_success - p.end_s;
}

std::string describe(const std::map<int, int>& statuses) {
  std::string out;
  for (const auto& [status, n] : statuses)
    out += (out.empty() ? "" : ", ") + std::to_string(status) + " x" + std::to_string(n);
  return out;
}

TEST(DynamoDbFaultRun, RecoversFromEachFaultUnderLoad) {
  if (!on_dynamodb() || std::getenv("CRUD_FAULT_RUN") == nullptr)  // NOLINT(concurrency-mt-unsafe)
    GTEST_SKIP() << "a measurement: CRUD_E2E_STORE=dynamodb CRUD_FAULT_RUN=1 (make faults)";
  const double fault_s = env_number("FAULT_SECONDS", 5);
  const double settle_s = env_number("FAULT_SETTLE_SECONDS", 5);
  const int clients = static_cast<int>(env_number("FAULT_CLIENTS", 4));
  const double rps_each = env_number("FAULT_RPS", 100) / clients;

  temp_dir dir;
  dynamodb_backend backend(dir.path() / "leveldb");
  if (!backend.process().keeps_tables_across_restart())
    GTEST_SKIP() << "needs dynalite with LevelDB, which keeps its tables across a restart";
  fault_proxy proxy(backend.port());
  // One server through the proxy for the injected faults, and one straight to dynalite, so
  // that killing dynalite is all the outage there is.
  server_process proxied(backend.table("items", proxy.endpoint()), {"--rate-limit", "0"});
  server_process direct(backend.table("items"), {"--rate-limit", "0"});

  const auto epoch = clock_type::now();
  auto since = [&] { return std::chrono::duration<double>(clock_type::now() - epoch).count(); };
  auto wait_s = [](double s) { std::this_thread::sleep_for(std::chrono::duration<double>(s)); };
  std::vector<phase> phases;
  std::vector<outcome> outcomes;
  {
    load clients_load(proxied.port(), clients, rps_each, epoch);
    wait_s(settle_s);
    phases.push_back({"none (baseline)", 0, since(), 0});
    const std::vector<std::pair<std::string, fault>> injected{
        {"throttling (every request)", fault::throttle},
        {"500 InternalServerError (every request)", fault::server_error},
        {"connection dropped before the engine saw the request", fault::drop},
        {"connection dropped after the engine handled the request", fault::lose_answer},
        {"no answer at all (stall)", fault::stall},
    };
    for (const auto& [name, f] : injected) {
      const double begin = since();
      proxy.inject(f);
      wait_s(fault_s);
      proxy.clear();
      const double end = since();
      wait_s(settle_s);
      phases.push_back({name, begin, end, since()});
    }
    clients_load.stop();
    outcomes = clients_load.outcomes();
  }
  {
    load clients_load(direct.port(), clients, rps_each, epoch);
    wait_s(settle_s);
    const double begin = since();
    backend.process().kill();
    wait_s(fault_s);
    const double restart = since();
    ASSERT_TRUE(backend.process().start()) << backend.process().error();
    const double end = since();
    wait_s(settle_s);
    char name[96];
    std::snprintf(name, sizeof name, "dynalite killed, restarted after %.0f s (up %.1f s later)",
                  fault_s, end - restart);
    phases.push_back({name, begin, end, since()});
    clients_load.stop();
    const auto more = clients_load.outcomes();
    outcomes.insert(outcomes.end(), more.begin(), more.end());
  }

  std::printf(
      "| fault (%.0f s) | requests during | answers during | p99 during | answers in the "
      "%.0f s after | time to recover |\n|---|---:|---|---:|---|---:|\n",
      fault_s, settle_s);
  for (const auto& p : phases) {
    const bool baseline = p.until_s == 0;
    const tally t = baseline ? count(outcomes, 0, p.end_s, p.end_s)
                             : count(outcomes, p.begin_s, p.end_s, p.until_s);
    const tally after = baseline ? tally{} : count(outcomes, p.end_s, p.until_s, p.until_s);
    const double back = baseline ? 0 : recovery_s(outcomes, p);
    char recovered[32] = "-";
    if (!baseline && back < 0)
      std::snprintf(recovered, sizeof recovered, "not recovered");
    else if (!baseline)
      std::snprintf(recovered, sizeof recovered, "%.2f s", back);
    std::printf("| %s | %d | %s | %.0f ms | %s | %s |\n", p.name.c_str(), t.requests,
                describe(t.statuses).c_str(), t.p99_ms, describe(after.statuses).c_str(),
                recovered);
    EXPECT_EQ(t.other, 0) << p.name << ": " << describe(t.statuses);
    if (!baseline) {
      EXPECT_GE(back, 0) << p.name << ": service did not come back";
      EXPECT_EQ(after.other, 0) << p.name << " (after): " << describe(after.statuses);
    }
  }
  std::fflush(stdout);
  EXPECT_EQ(proxied.stop(), 0);
  EXPECT_EQ(direct.stop(), 0);
}

}  // namespace
}  // namespace crud::e2e

#pragma once
// The key set behind `serve --jwt-jwks-url`, held in memory. It is loaded once at start-up;
// afterwards a token whose `kid` the set does not hold triggers a refresh, at most once per
// interval (a minute), so a flood of made-up kids costs the identity provider one fetch a
// minute. Fetching is the caller's (an HTTP GET in main); the time is passed in.
//
// A refresh runs on the thread that asked, bounded by the fetch's own short timeout; one runs
// at a time, and a thread that misses while another refreshes does not wait for it
// (decisions/0015-jwks.md). A refresh that fails keeps the set already held.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <boost/system/result.hpp>

#include "core/jwks.hpp"

namespace crud::core {

struct jwks_cache_options {
  std::int64_t min_refresh_interval_s = 60;
  std::int64_t load_timeout_ms = 5000;     // the start-up fetch
  std::int64_t refresh_timeout_ms = 2000;  // a refresh, which a request waits for
};

class jwks_cache {
 public:
  // The document at the set's URL, or a one-line reason; within `timeout_ms`.
  using fetch_fn =
      std::function<boost::system::result<std::string, std::string>(std::int64_t timeout_ms)>;

  explicit jwks_cache(fetch_fn fetch, jwks_cache_options options = {});

  // Fetches and parses the set (start-up). The error is a one-line reason.
  boost::system::result<void, std::string> load();

  // The key named `kid` for `alg`: from the set held, else from a refresh when none was tried in
  // the last interval before `now_s`; else why there is none (for the log).
  boost::system::result<jwk, std::string> find(std::string_view kid, jws_alg alg,
                                               std::int64_t now_s);

  // How many fetches were made (load and refreshes), successful or not.
  std::uint64_t fetches() const;

 private:
  fetch_fn fetch_;
  jwks_cache_options options_;
  mutable std::mutex mutex_;
  std::shared_ptr<const jwk_set> keys_;  // replaced whole, so a reader keeps a consistent set
  bool refreshed_ = false;               // whether a refresh was tried yet
  std::int64_t last_refresh_s_ = 0;
  bool refreshing_ = false;
  std::uint64_t fetches_ = 0;
};

}  // namespace crud::core

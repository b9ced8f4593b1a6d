#include "core/jwks_cache.hpp"

#include <utility>

namespace crud::core {

namespace {

std::string no_key(std::string_view kid, jws_alg alg) {
  return "no " + std::string(jws_alg_name(alg)) + " key with kid \"" + std::string(kid) +
         "\" in the key set";
}

}  // namespace

jwks_cache::jwks_cache(fetch_fn fetch, jwks_cache_options options)
    : fetch_(std::move(fetch)), options_(options) {}

boost::system::result<void, std::string> jwks_cache::load() {
  {
    std::lock_guard lock(mutex_);
    ++fetches_;
  }
  auto document = fetch_(options_.load_timeout_ms);
  if (!document)
    return document.error();
  auto set = jwk_set::parse(*document);
  if (!set)
    return set.error();
  std::lock_guard lock(mutex_);
  keys_ = std::make_shared<const jwk_set>(std::move(*set));
  return {};
}

boost::system::result<jwk, std::string> jwks_cache::find(std::string_view kid, jws_alg alg,
                                                         std::int64_t now_s) {
  {
    std::lock_guard lock(mutex_);
    if (keys_) {
      if (const jwk* k = keys_->find(kid, alg))
        return *k;
    }
    if (refreshing_)
      return no_key(kid, alg) + " (a refresh is under way)";
    // Compared without a sum that could overflow: the clock is the caller's.
    const std::int64_t interval = options_.min_refresh_interval_s;
    if (refreshed_ && now_s >= last_refresh_s_ && now_s - last_refresh_s_ < interval)
      return no_key(kid, alg) + " (refreshed less than " + std::to_string(interval) + " s ago)";
    if (refreshed_ && now_s < last_refresh_s_)
      return no_key(kid, alg) + " (the clock went back since the last refresh)";
    refreshing_ = true;
    refreshed_ = true;
    last_refresh_s_ = now_s;
    ++fetches_;
  }
  // The fetch runs unlocked: finds of known kids go on meanwhile.
  auto document = fetch_(options_.refresh_timeout_ms);
  boost::system::result<jwk_set, std::string> set =
      document ? jwk_set::parse(*document)
               : boost::system::result<jwk_set, std::string>(boost::system::in_place_error,
                                                             document.error());
  std::lock_guard lock(mutex_);
  refreshing_ = false;
  if (!set)
    return no_key(kid, alg) + " (the refresh failed: " + set.error() + ")";
  keys_ = std::make_shared<const jwk_set>(std::move(*set));
  if (const jwk* k = keys_->find(kid, alg))
    return *k;
  return no_key(kid, alg) + " (refreshed just now)";
}

std::uint64_t jwks_cache::fetches() const {
  std::lock_guard lock(mutex_);
  return fetches_;
}

}  // namespace crud::core

#pragma once
// The errors a store reports, as a boost::system error category ("crud.store"). They are
// store-neutral: SQLite and DynamoDB map their own failures onto these, and the app maps these
// onto the contract's codes (not_found -> 404, condition_failed -> 409/412,
// unavailable -> 503, anything else -> 500).

#include <boost/system/error_code.hpp>

namespace crud::store {

enum class errc {
  not_found = 1,     // no such item (or no such record)
  condition_failed,  // the item exists, but not at the expected version
  already_exists,    // a create found the key taken
  unavailable,       // busy, throttled or unreachable after retries: worth retrying later
  internal,          // anything else; details go to the log, never to the client
};

const boost::system::error_category& store_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), store_category()};
}

}  // namespace crud::store

template <>
struct boost::system::is_error_code_enum<crud::store::errc> : std::true_type {};

#pragma once
// The one mapping from the store's error codes to the API's errors: a missing item is 404,
// an unreachable or throttled store 503 with Retry-After, anything else a clean 500. The
// store's own message goes to the log line's `cause`, never to the client.

#include <boost/system/error_code.hpp>

#include "core/error.hpp"

namespace crud::app {

core::api_error from_store_error(const boost::system::error_code& ec);

// 404 for an item that does not exist (or not for this owner).
core::api_error item_not_found();

}  // namespace crud::app

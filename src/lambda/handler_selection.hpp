#pragma once
// The Lambda function's Handler setting (`_HANDLER`) as the set of operations it serves
// (CONTRACT §1), so one artifact can back four least-privilege functions. The app answers
// 405 for the rest. Only `main` reads the environment; it passes the value in here.

#include <string>
#include <string_view>

#include <boost/system/result.hpp>

#include "app/api.hpp"

namespace crud::lambda {

// Accepts `create`, `read`, `update`, `delete` or `all` (empty or `bootstrap` means `all`), or a
// comma-separated list of them (`read,update`), case-insensitively and ignoring blanks around
// each name. Anything else is a configuration error: the result is a one-line message naming
// the bad value.
boost::system::result<app::operation_set, std::string> parse_handler(std::string_view handler);

}  // namespace crud::lambda

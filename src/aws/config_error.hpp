#pragma once
// The one error the aws layer's configuration code reports: a sentence naming what is wrong
// (which variable, which profile, which file line), fit for main's one-line start-up message.
// Nothing in it is secret: messages name settings, never their values.

#include <string>

#include <boost/system/result.hpp>

namespace crud::aws {

struct config_error {
  std::string message;
};

template <class T>
using config_result = boost::system::result<T, config_error>;

// Lets config_result<T>::value() report an error by throwing; found by ADL.
[[noreturn]] void throw_exception_from_error(const config_error& e,
                                             const boost::source_location& loc);

}  // namespace crud::aws

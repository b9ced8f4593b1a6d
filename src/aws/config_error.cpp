#include "aws/config_error.hpp"

#include <stdexcept>

#include <boost/throw_exception.hpp>

namespace crud::aws {

void throw_exception_from_error(const config_error& e, const boost::source_location& loc) {
  boost::throw_exception(std::runtime_error(e.message), loc);
}

}  // namespace crud::aws

#include "lambda/runtime_api.hpp"

#include <stdexcept>

#include "core/json_text.hpp"

namespace crud::lambda {

std::string error_body(const std::string& error_type, const std::string& message) {
  std::string body = R"({"errorMessage":)";
  core::append_json_string(body, message);
  body.append(R"(,"errorType":)");
  core::append_json_string(body, error_type);
  body.append(R"(,"stackTrace":[]})");
  return body;
}

void throw_exception_from_error(const runtime_failure& f, const boost::source_location&) {
  throw std::runtime_error(f.message);
}

}  // namespace crud::lambda

#include "lambda/runtime_api.hpp"

#include <charconv>
#include <stdexcept>

#include "core/json_text.hpp"

namespace crud::lambda {

runtime_result<invocation> parse_invocation_headers(
    const std::function<std::string_view(std::string_view)>& header, std::string payload) {
  invocation inv;
  inv.request_id = std::string(header("Lambda-Runtime-Aws-Request-Id"));
  const std::string_view deadline = header("Lambda-Runtime-Deadline-Ms");
  // A deadline that is not a number leaves 0, which the request takes as "no deadline": better
  // than refusing an event the Runtime API did deliver.
  std::from_chars(deadline.data(), deadline.data() + deadline.size(), inv.deadline_ms);
  inv.function_arn = std::string(header("Lambda-Runtime-Invoked-Function-Arn"));
  inv.trace_id = std::string(header("Lambda-Runtime-Trace-Id"));
  inv.client_context = std::string(header("Lambda-Runtime-Client-Context"));
  inv.cognito_identity = std::string(header("Lambda-Runtime-Cognito-Identity"));
  inv.payload = std::move(payload);
  if (inv.request_id.empty())
    return runtime_failure{"next: no request id", false};
  return inv;
}

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

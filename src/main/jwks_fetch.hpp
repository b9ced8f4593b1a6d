#pragma once
// Fetching the JWK set of `serve --jwt-jwks-url` over the project's HTTP client (http or https,
// certificates checked against the same trust store as DynamoDB's): one GET per fetch, a 200
// with the document or a one-line reason. The cache (core/jwks_cache.hpp) decides when.

#include <memory>
#include <string>
#include <string_view>

#include <boost/system/result.hpp>

#include "aws/http_client.hpp"
#include "core/jwks_cache.hpp"

namespace crud::main {

// The fetch for `url` (already checked by the options to be an absolute http or https URL);
// the error is a one-line reason.
boost::system::result<core::jwks_cache::fetch_fn, std::string> make_jwks_fetch(
    std::shared_ptr<aws::http_client> http, std::string_view url);

}  // namespace crud::main

#pragma once
// What the DynamoDB store needs from the process: its options from the command line, AWS
// credentials from the standard sources (the environment, then the shared files with
// AWS_PROFILE, then the container credentials endpoint), the region, and an HTTP client trusting
// the system CA store (or SSL_CERT_FILE). This is where the environment and the shared files are
// read, since only main may.

#include <string>

#include <boost/system/result.hpp>

#include "main/options.hpp"
#include "main/wiring.hpp"
#include "store/dynamodb_store.hpp"

namespace crud::main {

struct dynamodb_setup {
  store::dynamodb_options options;
  store::dynamodb_store_deps deps;
};

// The error is a one-line reason naming the setting that is wrong.
boost::system::result<dynamodb_setup, std::string> make_dynamodb_setup(process& p,
                                                                       const options& o);

}  // namespace crud::main

#pragma once
// What the DynamoDB store and the table's provisioning (dynamodb_table) share, inside the store
// layer: the client built from the options, the cursor secret's meta item, and the one-line
// descriptions that name the table and the failure in their error messages.

#include <memory>
#include <string>

#include <boost/system/result.hpp>

#include "aws/dynamodb_client.hpp"
#include "core/random_source.hpp"
#include "store/dynamodb_store.hpp"

namespace crud::store::dynamodb_detail {

// The client for `options`; the error names what is missing or malformed.
boost::system::result<std::unique_ptr<aws::dynamodb_client>, std::string> make_client(
    const dynamodb_options& options, const dynamodb_store_deps& deps);

// "DynamoDB table <name> at <endpoint>"
std::string where(const dynamodb_options& options);

// The failure in a few words: the error type, or what went wrong on the wire.
std::string describe(const aws::dynamodb_error& e);

// The secret in the meta item ("META"/"CURSOR_SECRET"), created with a conditional put when
// absent, so that concurrent first opens agree on one.
boost::system::result<std::string, aws::dynamodb_error> ensure_cursor_secret(
    aws::dynamodb_client& client, const std::string& table, core::random_source& random);

}  // namespace crud::store::dynamodb_detail

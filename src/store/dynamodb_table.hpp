#pragma once
// Provisioning of the DynamoDB table behind `crud-api init --store dynamodb`: the table of
// CONTRACT §4 (PAY_PER_REQUEST, pk/sk), TTL on `expiresAt`, and the cursor secret's meta item.
// It runs once per deployment, not on the request path, so it may wait for DynamoDB's slow
// control-plane operations.

#include <string>
#include <vector>

#include <boost/system/result.hpp>

#include "store/dynamodb_store.hpp"

namespace crud::store {

struct dynamodb_init_report {
  bool created = false;               // the table did not exist and was created
  std::vector<std::string> warnings;  // what could not be set up but is not fatal
};

// Creates the table if missing, waits until it is ACTIVE, makes sure TTL is on expiresAt, and
// writes the cursor secret. Running it again is harmless: TTL is changed only when
// DescribeTimeToLive says it is off, since DynamoDB rejects any UpdateTimeToLive for an hour
// after one. An engine without UpdateTimeToLive (dynalite) gives a warning, not an error; TTL
// on another attribute, or being disabled, is an error.
boost::system::result<dynamodb_init_report, std::string> init_dynamodb_table(
    const dynamodb_options& options, const dynamodb_store_deps& deps);

}  // namespace crud::store

#pragma once
// item_transfer on the DynamoDB table of CONTRACT §4.
//
// Export: the layout has no index of owners, so one Scan finds them: keys only
// (ProjectionExpression pk), items only (begins_with(sk, "ITEM#"); idempotency records and the
// META items stay behind). Each owner's partition is then read with Query, which returns it in
// id order; owners go in byte order. Both read strongly consistent, so an export misses no
// acknowledged write. Scan is used here alone, never on the request path; see
// docs/decisions/0017-export-scans-for-owners.md for its cost and its IAM statement.
//
// Import: BatchWriteItem, 25 puts a request, sending UnprocessedItems again after a capped
// exponential backoff with jitter; four chunks of 100 records are in flight at once. BatchWriteItem
// takes no condition, so without overwrite a consistent BatchGetItem (keys only) first finds the
// items that exist, and only the others are written. A write of the same id between that read and
// the write would be replaced; ids are ULIDs that only the API makes, so only another import of the
// same item can race this way (the decision record says why that is acceptable).

#include <memory>

#include "store/dynamodb_store.hpp"
#include "store/item_transfer.hpp"

namespace crud::store {

// Needs no table access to open: the first call reports a missing table or a refused
// permission, naming the table.
transfer_result<std::unique_ptr<item_transfer>> open_dynamodb_transfer(
    const dynamodb_options& options, const dynamodb_store_deps& deps);

}  // namespace crud::store

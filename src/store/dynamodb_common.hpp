#pragma once
// What the DynamoDB store and the table's provisioning (dynamodb_table) share, inside the store
// layer: the client built from the options, the cursor secret's meta item, and the one-line
// descriptions that name the table and the failure in their error messages.

#include <memory>
#include <optional>
#include <string>

#include <boost/system/result.hpp>

#include "aws/dynamodb_client.hpp"
#include "core/item.hpp"
#include "core/random_source.hpp"
#include "store/dynamodb_store.hpp"

namespace crud::store::dynamodb_detail {

// The attributes the store writes for `it`: its key, its fields and, when it is soft-deleted,
// `expiresAt` (epoch seconds): `expires_at` when given (an exported record keeps its own), else
// the end of the soft-delete retention.
aws::attribute_map item_attributes(std::string_view owner, const core::item& it,
                                   std::optional<std::int64_t> expires_at = std::nullopt);

// The item in stored attributes, or which field is missing or malformed.
boost::system::result<core::item, std::string> parse_item(const aws::attribute_map& m);

// The string attribute `name`, or null when it is absent or not a string.
const std::string* string_attr(const aws::attribute_map& m, std::string_view name);

// The client for `options`; the error names what is missing or malformed.
boost::system::result<std::unique_ptr<aws::dynamodb_client>, std::string> make_client(
    const dynamodb_options& options, const dynamodb_store_deps& deps);

// "DynamoDB table <name> at <endpoint>"
std::string where(const dynamodb_options& options);

// The failure in a few words: the error type, or what went wrong on the wire.
std::string describe(const aws::dynamodb_error& e);

// The secret in the meta item ("META"/cursor_key_sk(key_id)), created with a conditional put
// when absent, so that concurrent first opens in one region agree on one. Only the region named
// `key_id` writes that item: conditional puts hold within a region, not across replicas.
boost::system::result<std::string, aws::dynamodb_error> ensure_cursor_secret(
    aws::dynamodb_client& client, const std::string& table, const std::string& key_id,
    core::random_source& random);

// The secret of the key `key_id`, read (strongly consistent, from this region's replica)
// without creating it: nullopt when there is no such item.
boost::system::result<std::optional<std::string>, aws::dynamodb_error> read_cursor_secret(
    aws::dynamodb_client& client, const aws::request_context& context, const std::string& table,
    std::string_view key_id);

// The cursor key id the options name: cursor_key_id, else the region. The error says why it is
// unusable.
boost::system::result<std::string, std::string> cursor_key_id_of(const dynamodb_options& options);

}  // namespace crud::store::dynamodb_detail

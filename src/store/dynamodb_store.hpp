#pragma once
// The DynamoDB store: item_store on one table with the layout of CONTRACT §4, shared by every
// Lambda instance and server. An owner is a partition ("OWNER#<owner>"); items sort by
// "ITEM#<id>" in it, so a listing is one Query in creation order, never a Scan. Every write is
// conditional (attribute_not_exists on create, `version` on replace and delete), and a failed
// condition asks for the old item (ALL_OLD) to tell 404 from 409 without a second read; engines
// that do not send it back (dynalite) get a consistent GetItem instead.
//
// Soft-deleted items and idempotency records carry `expiresAt` (epoch seconds) for DynamoDB's
// TTL, so purge_expired does nothing here. The cursor secret lives in the table, in a meta item
// per region ("META"/"CURSOR_SECRET#<region>") created once with a conditional put, so every
// process of a region agrees on it; cursors name their region's key, which any replica can read.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/system/result.hpp>

#include "aws/credentials.hpp"
#include "aws/dynamodb_client.hpp"
#include "aws/http_client.hpp"
#include "core/clock.hpp"
#include "core/random_source.hpp"
#include "store/item_store.hpp"

namespace crud::store {

struct dynamodb_options {
  std::string table = "items";
  std::string region = "us-east-1";
  std::string endpoint;  // override URL (http or https); empty = the regional AWS endpoint
  // The id of this process's cursor key (its meta item CURSOR_SECRET#<id>); empty = the region.
  // Each region writes only its own key, so replicas never race on one (decision 0021).
  std::string cursor_key_id;
  // false: the open makes no call, and the cursor secret is read (or created) when first
  // needed. For a one-shot `invoke`, whose one request rarely lists: a round trip fewer, but a
  // missing table shows only as a failed call, which the caller has to diagnose.
  bool cursor_secret_at_open = true;
  std::int64_t attempt_timeout_ms = 3000;
  aws::retry_policy retry;
  // init: how long to wait for a new table to become ACTIVE, and how often to look.
  std::int64_t table_active_timeout_ms = 300'000;
  std::int64_t table_poll_interval_ms = 500;
};

struct dynamodb_store_deps {
  std::shared_ptr<aws::http_client> http;
  std::shared_ptr<aws::credentials_provider> credentials;
  const core::clock& clock;
  core::random_source& random;  // backoff jitter, and the cursor secret when first created
  std::function<void(std::int64_t ms)> sleep;
  aws::call_observer* observer = nullptr;  // sees every DynamoDB call (X-Ray); may be null
};

// The attribute layout, for tests and tools that read the table directly.
std::string owner_pk(std::string_view owner);
std::string item_sk(std::string_view id);
std::string idempotency_sk(std::string_view key);
// The meta item holding the cursor key `key_id` ("" = the single key of version 1 cursors).
std::string cursor_key_sk(std::string_view key_id);

// Opens the store: checks the table is reachable and reads (creating if absent) the cursor
// secret, unless options.cursor_secret_at_open is false. The error is a one-line reason naming
// the table or endpoint.
boost::system::result<std::unique_ptr<item_store>, std::string> open_dynamodb_store(
    const dynamodb_options& options, const dynamodb_store_deps& deps);

}  // namespace crud::store

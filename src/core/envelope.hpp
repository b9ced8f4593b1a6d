#pragma once
// The response envelope of the contract, written as JSON text:
//   success {"statusCode":201,"data":{...},"message":"..."}
//   list    {"statusCode":200,"data":[...],"pagination":{"limit":..,"count":..,"lastKey":..}}
//   error   {"statusCode":400,"message":"..","error":{"code":..,"message":..,"details":[..]},
//            "requestId":".."}

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/item.hpp"

namespace crud::core {

// `data_json` is already-serialized JSON; `message` is omitted when empty.
std::string success_envelope(int status, std::string_view data_json, std::string_view message);

std::string item_envelope(int status, const item& it, std::string_view message);

std::string list_envelope(std::span<const item> items, int limit,
                          const std::optional<std::string>& last_key);

std::string error_envelope(const api_error& error, std::string_view request_id);

}  // namespace crud::core

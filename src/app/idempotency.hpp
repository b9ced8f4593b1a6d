#pragma once
// The pieces of idempotent POST that are pure: validating an Idempotency-Key, hashing the
// request payload that a key is bound to, and the stored form of a response to replay.
// The claim/complete/release protocol itself runs in api.cpp against the store.

#include <optional>
#include <string>
#include <string_view>

#include "app/http_types.hpp"
#include "core/item_input.hpp"

namespace crud::app {

inline constexpr std::size_t max_idempotency_key_length = 255;

// 1-255 printable ASCII characters (0x20-0x7E).
bool is_valid_idempotency_key(std::string_view key) noexcept;

// A hash of what the request asks for (the validated fields), so that a retry that differs
// only in JSON formatting still replays, and one that asks for something else is refused.
std::string payload_hash(const core::item_fields& fields);

// The response as the idempotency record keeps it: status, replayable headers and body.
std::string encode_stored_response(const response& res);
std::optional<response> decode_stored_response(std::string_view stored);

}  // namespace crud::app

// `lastKey`: a client-held token that must never decode unless this server made it for this
// owner. Checks decode on hostile text, and the encode -> decode round trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <fuzzer/FuzzedDataProvider.h>

#include "core/cursor.hpp"
#include "core/ulid.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace crud::core;
  static const cursor_codec codec(std::string("fuzz-cursor-key-0123456789abcdef"));
  const std::string_view whole(reinterpret_cast<const char*>(data), size);
  // A token from outside: whatever decodes must be an item id.
  if (auto id = codec.decode("owner-a", whole); id && !is_item_id(*id))
    std::abort();

  FuzzedDataProvider in(data, size);
  const std::string owner = in.ConsumeRandomLengthString(64);
  const std::string last_id = in.ConsumeRandomLengthString(64);
  const std::string token = codec.encode(owner, last_id);
  const auto back = codec.decode(owner, token);
  // Only item ids are ever encoded by the stores; those must come back unchanged.
  if (is_item_id(last_id) && back != last_id)
    std::abort();
  if (back && *back != last_id)
    std::abort();
  // Another owner's cursor is refused.
  if (back && codec.decode(owner + "x", token))
    std::abort();
  // A token with one byte changed is refused (or, for base64url's spare bits, means the same id).
  if (!token.empty()) {
    std::string garbled = token;
    const std::size_t at = in.ConsumeIntegralInRange<std::size_t>(0, garbled.size() - 1);
    garbled[at] = static_cast<char>(garbled[at] ^ in.ConsumeIntegralInRange<int>(1, 255));
    if (auto other = codec.decode(owner, garbled); other && *other != last_id)
      std::abort();
  }
  return 0;
}

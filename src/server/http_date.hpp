#pragma once
// The HTTP Date header value (IMF-fixdate, RFC 9110 §5.6.7), e.g.
// "Sun, 06 Nov 1994 08:49:37 GMT", from the injected clock's wall time.

#include <cstdint>
#include <string>
#include <string_view>

namespace crud::server {

std::string format_http_date(std::int64_t wall_ms);

// format_http_date with a per-thread cache of the current second, for the response path.
// The view stays valid until the calling thread's next call.
std::string_view cached_http_date(std::int64_t wall_ms);

}  // namespace crud::server

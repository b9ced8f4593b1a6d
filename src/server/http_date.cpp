#include "server/http_date.hpp"

#include <cstdint>
#include <cstdio>
#include <ctime>

namespace crud::server {

std::string format_http_date(std::int64_t wall_ms) {
  // Floor division, so instants before the epoch land in the right second.
  std::int64_t seconds = wall_ms / 1000;
  if (wall_ms % 1000 < 0)
    --seconds;
  const auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr)
    return "Thu, 01 Jan 1970 00:00:00 GMT";
  // Fixed English names: strftime's %a and %b would follow the process locale.
  static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  const int n = std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT",
                              days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
                              tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
}

std::string_view cached_http_date(std::int64_t wall_ms) {
  thread_local std::int64_t cached_second = INT64_MIN;
  thread_local std::string cached;
  const std::int64_t second = wall_ms / 1000;  // any per-second key will do
  if (second != cached_second) {
    cached = format_http_date(wall_ms);
    cached_second = second;
  }
  return cached;
}

}  // namespace crud::server

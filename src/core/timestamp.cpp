#include "core/timestamp.hpp"

namespace crud::core {
namespace {

// Days from 1970-01-01 to a civil date and back (Howard Hinnant's public-domain algorithms,
// written out from their description).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
}

void put_digits(char* at, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    at[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

bool read_digits(std::string_view s, std::size_t at, int width, unsigned& value) {
  value = 0;
  for (int i = 0; i < width; ++i) {
    char c = s[at + static_cast<std::size_t>(i)];
    if (c < '0' || c > '9')
      return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return true;
}

}  // namespace

void append_timestamp(std::string& out, std::int64_t epoch_ms) {
  std::int64_t days = epoch_ms >= 0 ? epoch_ms / 86'400'000 : (epoch_ms - 86'399'999) / 86'400'000;
  std::int64_t ms_of_day = epoch_ms - days * 86'400'000;
  std::int64_t y = 0;
  unsigned m = 0;
  unsigned d = 0;
  civil_from_days(days, y, m, d);
  char buf[25] = "0000-00-00T00:00:00.000Z";
  put_digits(buf, static_cast<unsigned>(y), 4);
  put_digits(buf + 5, m, 2);
  put_digits(buf + 8, d, 2);
  auto secs = static_cast<unsigned>(ms_of_day / 1000);
  put_digits(buf + 11, secs / 3600, 2);
  put_digits(buf + 14, secs / 60 % 60, 2);
  put_digits(buf + 17, secs % 60, 2);
  put_digits(buf + 20, static_cast<unsigned>(ms_of_day % 1000), 3);
  out.append(buf, 24);
}

std::string format_timestamp(std::int64_t epoch_ms) {
  std::string out;
  out.reserve(24);
  append_timestamp(out, epoch_ms);
  return out;
}

std::optional<std::int64_t> parse_timestamp(std::string_view s) {
  if (s.size() != 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
      s[16] != ':' || s[19] != '.' || s[23] != 'Z') {
    return std::nullopt;
  }
  unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0, ms = 0;
  if (!read_digits(s, 0, 4, y) || !read_digits(s, 5, 2, mo) || !read_digits(s, 8, 2, d) ||
      !read_digits(s, 11, 2, h) || !read_digits(s, 14, 2, mi) || !read_digits(s, 17, 2, se) ||
      !read_digits(s, 20, 3, ms)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59)
    return std::nullopt;
  std::int64_t days = days_from_civil(y, mo, d);
  std::int64_t check_y = 0;
  unsigned check_m = 0, check_d = 0;
  civil_from_days(days, check_y, check_m, check_d);
  if (check_m != mo || check_d != d)
    return std::nullopt;  // e.g. February 30th
  return days * 86'400'000 + (h * 3600 + mi * 60 + se) * 1000LL + ms;
}

}  // namespace crud::core

#include "protocol/headers.h"

#include <cstdio>

#include "protocol/decimal.h"

namespace durablestreams::protocol {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Reads exactly n digits at s[*i].
bool Digits(std::string_view s, size_t* i, int n, int* out) {
  uint64_t v = 0;
  if (*i + n > s.size() || !ParseDigits(s.substr(*i, n), &v)) return false;
  *i += n;
  *out = static_cast<int>(v);
  return true;
}

bool Expect(std::string_view s, size_t* i, char c) {
  if (*i >= s.size() || s[*i] != c) return false;
  ++*i;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's method).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (*m <= 2);
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

constexpr int64_t kMaxRfc3339Millis = 253402300799999LL;  // 9999-12-31T23:59:59.999Z

bool IsTokenChar(char c) {
  if (c >= 'a' && c <= 'z') return true;
  if (c >= 'A' && c <= 'Z') return true;
  if (IsDigit(c)) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*':
    case '+': case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

}  // namespace

std::string_view TrimWhitespace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

Result<int64_t> ParseTtlSeconds(std::string_view text) {
  if (text.empty() || text.size() > 13) {
    return Status::InvalidArgument("Stream-TTL must be a non-negative integer of seconds");
  }
  if (text.size() > 1 && text[0] == '0') {
    return Status::InvalidArgument("Stream-TTL must not have leading zeros");
  }
  uint64_t v = 0;
  if (!ParseDigits(text, &v)) {
    return Status::InvalidArgument("Stream-TTL must be a non-negative integer of seconds");
  }
  if (v > 1000000000000ULL) return Status::InvalidArgument("Stream-TTL is too large");
  return static_cast<int64_t>(v);
}

Result<uint64_t> ParseDecimal(std::string_view text, uint64_t max) {
  auto bad = [] { return Status::InvalidArgument("expected a non-negative decimal integer"); };
  if (text.empty() || text.size() > 19 || (text.size() > 1 && text[0] == '0')) return bad();
  uint64_t v = 0;
  if (!ParseDigits(text, &v)) return bad();
  if (v > max) return Status::InvalidArgument("value is too large");
  return v;
}

Result<int64_t> ParseRfc3339Millis(std::string_view s) {
  auto bad = [] {
    return Status::InvalidArgument("Stream-Expires-At must be an RFC 3339 timestamp");
  };
  size_t i = 0;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!Digits(s, &i, 4, &year) || !Expect(s, &i, '-') || !Digits(s, &i, 2, &month) ||
      !Expect(s, &i, '-') || !Digits(s, &i, 2, &day)) {
    return bad();
  }
  if (i >= s.size() || (s[i] != 'T' && s[i] != 't' && s[i] != ' ')) return bad();
  ++i;
  if (!Digits(s, &i, 2, &hour) || !Expect(s, &i, ':') || !Digits(s, &i, 2, &minute) ||
      !Expect(s, &i, ':') || !Digits(s, &i, 2, &second)) {
    return bad();
  }
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1) return bad();
  int max_day = kDays[month - 1] + (month == 2 && IsLeap(year) ? 1 : 0);
  if (day > max_day || hour > 23 || minute > 59 || second > 60) return bad();
  int64_t millis = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t start = i;
    int64_t scale = 100;
    while (i < s.size() && IsDigit(s[i])) {
      millis += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start) return bad();
  }
  if (i >= s.size()) return bad();
  int64_t offset_minutes = 0;
  if (s[i] == 'Z' || s[i] == 'z') {
    ++i;
  } else if (s[i] == '+' || s[i] == '-') {
    int sign = s[i] == '-' ? -1 : 1;
    ++i;
    int oh, om;
    if (!Digits(s, &i, 2, &oh) || !Expect(s, &i, ':') || !Digits(s, &i, 2, &om) || oh > 23 ||
        om > 59) {
      return bad();
    }
    offset_minutes = sign * (oh * 60 + om);
  } else {
    return bad();
  }
  if (i != s.size()) return bad();
  if (second == 60) second = 59;  // a leap second counts as the second before it
  int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
  int64_t result = secs * 1000 + millis;
  // Only instants that RFC 3339 can write back in UTC (found by fuzz_headers:
  // "0000-01-01T00:00:60+02:00" is in year -1).
  if (result < 0 || result > kMaxRfc3339Millis) {
    return Status::InvalidArgument("Stream-Expires-At must be between 1970 and 9999 (UTC)");
  }
  return result;
}

std::string FormatRfc3339Millis(int64_t millis) {
  int64_t secs = millis >= 0 ? millis / 1000 : (millis - 999) / 1000;
  int64_t ms = millis - secs * 1000;
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int64_t rem = secs - days * 86400;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[96];  // room for any int64 year; real dates use 24 bytes
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600),
                static_cast<long long>((rem / 60) % 60), static_cast<long long>(rem % 60),
                static_cast<long long>(ms));
  return buf;
}

Result<int64_t> ParseProducerInteger(std::string_view text) {
  if (text.empty() || text.size() > 16) {
    return Status::InvalidArgument("producer epoch and seq must be integers from 0 to 2^53-1");
  }
  uint64_t v = 0;
  if (!ParseDigits(text, &v)) {
    return Status::InvalidArgument("producer epoch and seq must be integers from 0 to 2^53-1");
  }
  if (v > static_cast<uint64_t>(kMaxSafeInteger)) {
    return Status::InvalidArgument("producer epoch and seq must be at most 2^53-1");
  }
  return static_cast<int64_t>(v);
}

bool IsTrueFlag(const std::string* value) {
  return value != nullptr && EqualsIgnoreCase(TrimWhitespace(*value), "true");
}

std::string MediaType(std::string_view content_type) {
  size_t semi = content_type.find(';');
  std::string_view t = TrimWhitespace(content_type.substr(0, semi));
  std::string out(t);
  for (char& c : out) c = Lower(c);
  return out;
}

bool IsJsonMediaType(std::string_view media_type) { return media_type == "application/json"; }

bool IsTextMediaType(std::string_view media_type) {
  return media_type.substr(0, 5) == "text/" || IsJsonMediaType(media_type);
}

bool IsValidMediaType(std::string_view media_type) {
  size_t slash = media_type.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == media_type.size()) {
    return false;
  }
  for (size_t i = 0; i < media_type.size(); ++i) {
    if (i == slash) continue;
    if (!IsTokenChar(media_type[i])) return false;
  }
  return true;
}

}  // namespace durablestreams::protocol

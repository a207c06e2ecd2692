#include "protocol/cursor.h"

#include <algorithm>

#include "protocol/decimal.h"

namespace durablestreams::protocol {

std::string NextCursor(int64_t now_millis, std::string_view client_cursor,
                       int64_t jitter_seconds) {
  int64_t current = (now_millis - kCursorEpochMillis) / kCursorIntervalMillis;
  if (current < 0) current = 0;
  if (client_cursor.empty() || client_cursor.size() > 18) return std::to_string(current);
  uint64_t digits = 0;
  if (!ParseDigits(client_cursor, &digits)) return std::to_string(current);
  int64_t client = static_cast<int64_t>(digits);  // at most 18 digits
  if (client < current) return std::to_string(current);
  jitter_seconds = std::clamp<int64_t>(jitter_seconds, 1, 3600);
  int64_t jitter_intervals = std::max<int64_t>(1, jitter_seconds * 1000 / kCursorIntervalMillis);
  return std::to_string(client + jitter_intervals);
}

}  // namespace durablestreams::protocol

#include "protocol/cursor.h"

#include <algorithm>

namespace durablestreams::protocol {

std::string NextCursor(int64_t now_millis, std::string_view client_cursor,
                       int64_t jitter_seconds) {
  int64_t current = (now_millis - kCursorEpochMillis) / kCursorIntervalMillis;
  if (current < 0) current = 0;
  if (client_cursor.empty() || client_cursor.size() > 18) return std::to_string(current);
  int64_t client = 0;
  for (char c : client_cursor) {
    if (c < '0' || c > '9') return std::to_string(current);
    client = client * 10 + (c - '0');
  }
  if (client < current) return std::to_string(current);
  jitter_seconds = std::clamp<int64_t>(jitter_seconds, 1, 3600);
  int64_t jitter_intervals = std::max<int64_t>(1, jitter_seconds * 1000 / kCursorIntervalMillis);
  return std::to_string(client + jitter_intervals);
}

}  // namespace durablestreams::protocol

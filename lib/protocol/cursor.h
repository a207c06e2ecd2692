// lib/protocol/cursor.h
//
// Stream-Cursor (PROTOCOL.md §10.1): time is cut into 20-second intervals
// counted from 2024-10-09T00:00:00Z; the cursor is the current interval
// number. When the client echoes a cursor that is not behind the current
// interval, the answer must be strictly greater: the client's cursor plus a
// random jitter of 1..3600 seconds, in intervals (at least one).
#ifndef DURABLESTREAMS_LIB_PROTOCOL_CURSOR_H_
#define DURABLESTREAMS_LIB_PROTOCOL_CURSOR_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace durablestreams::protocol {

inline constexpr int64_t kCursorEpochMillis = 1728432000000LL;  // 2024-10-09T00:00:00Z
inline constexpr int64_t kCursorIntervalMillis = 20000;

// `client_cursor` is the request's ?cursor= ("" when absent; a value that is
// not a decimal number is ignored). `jitter_seconds` is the caller's random
// draw from [1, 3600]; passing it in keeps this function pure.
std::string NextCursor(int64_t now_millis, std::string_view client_cursor,
                       int64_t jitter_seconds);

}  // namespace durablestreams::protocol

#endif  // DURABLESTREAMS_LIB_PROTOCOL_CURSOR_H_

// lib/protocol/headers.h
//
// Parsers for the protocol's header values. Pure functions: no I/O, no clock.
#ifndef DURABLESTREAMS_LIB_PROTOCOL_HEADERS_H_
#define DURABLESTREAMS_LIB_PROTOCOL_HEADERS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "durablestreams/status.h"

namespace durablestreams::protocol {

// Largest integer JavaScript represents exactly: the bound for producer
// epochs and sequence numbers (PROTOCOL.md §5.2.1).
inline constexpr int64_t kMaxSafeInteger = 9007199254740991LL;

// Stream-TTL: a non-negative decimal integer without sign, leading zeros,
// decimal point or exponent ("0" itself is allowed). At most 10^12 seconds.
Result<int64_t> ParseTtlSeconds(std::string_view text);

// A plain decimal integer (no sign, leading zeros, point or exponent) up to
// `max`: Stream-Fork-Sub-Offset.
Result<uint64_t> ParseDecimal(std::string_view text, uint64_t max);

// Stream-Expires-At: an RFC 3339 date-time ("2025-01-01T00:00:00Z",
// "2025-01-01T00:00:00.123+02:00"). Returns milliseconds since the epoch.
Result<int64_t> ParseRfc3339Millis(std::string_view text);

// Formats milliseconds since the epoch as RFC 3339 in UTC with milliseconds.
std::string FormatRfc3339Millis(int64_t millis);

// Producer-Epoch / Producer-Seq: decimal digits only, 0 .. 2^53-1.
Result<int64_t> ParseProducerInteger(std::string_view text);

// Stream-Closed is present only when its value is "true" (any case).
bool IsTrueFlag(const std::string* value);

// The media type of a Content-Type value: the part before ';', trimmed and
// lower-cased. "Application/JSON; charset=utf-8" -> "application/json".
std::string MediaType(std::string_view content_type);

// A JSON stream (PROTOCOL.md §9.1).
bool IsJsonMediaType(std::string_view media_type);

// SSE data events carry text for text/* and application/json; every other
// type is base64-encoded (PROTOCOL.md §5.8).
bool IsTextMediaType(std::string_view media_type);

// A syntactically valid media type: "type/subtype" of token characters.
bool IsValidMediaType(std::string_view media_type);

std::string_view TrimWhitespace(std::string_view s);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace durablestreams::protocol

#endif  // DURABLESTREAMS_LIB_PROTOCOL_HEADERS_H_

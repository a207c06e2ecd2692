// lib/protocol/decimal.h: the protocol layer's one parser of unsigned
// decimal integers, for the headers, cursors and offset fields that carry
// one. (The server reads Content-Length and its command-line flags with
// std::from_chars directly.)
//
// Thread safety: a pure function.
#ifndef DURABLESTREAMS_PROTOCOL_DECIMAL_H_
#define DURABLESTREAMS_PROTOCOL_DECIMAL_H_

#include <charconv>
#include <cstdint>
#include <string_view>
#include <system_error>

namespace durablestreams::protocol {

// Parses `text`, which must be ASCII digits only (no sign, no spaces; leading
// zeros are the caller's to refuse), into *out. False, leaving *out as it
// was, when `text` is empty, holds anything but digits, or is above
// UINT64_MAX.
inline bool ParseDigits(std::string_view text, uint64_t* out) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  uint64_t v = 0;
  auto [at, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || at != end) return false;
  *out = v;
  return true;
}

}  // namespace durablestreams::protocol

#endif  // DURABLESTREAMS_PROTOCOL_DECIMAL_H_

// lib/protocol/offset.h
//
// Stream offsets. On the wire an offset is the fixed-width token
//
//     RRRRRRRRRRRRRRRR_BBBBBBBBBBBBBBBB
//
// two 16-digit zero-padded decimal numbers: R, the read sequence, and B, the
// byte position in the stream (for JSON streams, the sum of the lengths of
// the stored messages before it). Fixed width makes byte-wise comparison of
// tokens agree with numeric order of (R, B).
//
// B is a logical position: it never depends on where the bytes are stored,
// so moving history into cold segments never changes or invalidates an
// offset. R is 0 for every offset this version mints; it is reserved for a
// future change of numbering that must still sort after every old token.
//
// Do not change the format of existing tokens: clients persist them.
#ifndef DURABLESTREAMS_LIB_PROTOCOL_OFFSET_H_
#define DURABLESTREAMS_LIB_PROTOCOL_OFFSET_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "durablestreams/status.h"

namespace durablestreams::protocol {

struct Offset {
  uint64_t read_seq = 0;
  uint64_t pos = 0;
  friend bool operator==(const Offset& a, const Offset& b) {
    return a.read_seq == b.read_seq && a.pos == b.pos;
  }
};

// What a client asked for with ?offset=.
struct OffsetRequest {
  enum class Kind { kStart, kNow, kAt };
  Kind kind = Kind::kStart;
  Offset at;  // for kAt
};

inline constexpr size_t kOffsetTokenLength = 33;
// Largest value one 16-digit field can hold.
inline constexpr uint64_t kMaxOffsetField = 9999999999999999ULL;

std::string FormatOffset(Offset offset);
inline std::string FormatPosition(uint64_t pos) { return FormatOffset(Offset{0, pos}); }

// Parses "-1", "now" or a token. Anything else is kInvalidArgument.
Result<OffsetRequest> ParseOffset(std::string_view text);

}  // namespace durablestreams::protocol

#endif  // DURABLESTREAMS_LIB_PROTOCOL_OFFSET_H_

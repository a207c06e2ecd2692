// lib/protocol/path.h
//
// Stream paths as the engine accepts them: the part of the URL after the
// stream root, percent-decoded, 1 to 1024 bytes, no control characters, no
// "." or ".." segment. Paths whose first segment is "__ds" are reserved for
// the protocol's control APIs (PROTOCOL.md §6).
#ifndef DURABLESTREAMS_LIB_PROTOCOL_PATH_H_
#define DURABLESTREAMS_LIB_PROTOCOL_PATH_H_

#include <string_view>

namespace durablestreams::protocol {

inline constexpr size_t kMaxPathLength = 1024;

enum class PathCheck { kOk, kEmpty, kTooLong, kControlCharacter, kDotSegment, kReserved };

PathCheck CheckStreamPath(std::string_view path);

// A sentence saying what is wrong, for error bodies.
const char* PathCheckMessage(PathCheck check);

}  // namespace durablestreams::protocol

#endif  // DURABLESTREAMS_LIB_PROTOCOL_PATH_H_

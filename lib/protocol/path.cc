#include "protocol/path.h"

namespace durablestreams::protocol {

PathCheck CheckStreamPath(std::string_view path) {
  if (path.empty()) return PathCheck::kEmpty;
  if (path.size() > kMaxPathLength) return PathCheck::kTooLong;
  for (unsigned char c : path) {
    if (c < 0x20 || c == 0x7f) return PathCheck::kControlCharacter;
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(start, end - start);
    if (seg == "." || seg == "..") return PathCheck::kDotSegment;
    if (start == 0 && seg == "__ds") return PathCheck::kReserved;
    start = end + 1;
  }
  return PathCheck::kOk;
}

const char* PathCheckMessage(PathCheck check) {
  switch (check) {
    case PathCheck::kOk: return "ok";
    case PathCheck::kEmpty: return "the stream path is empty";
    case PathCheck::kTooLong: return "the stream path is longer than 1024 bytes";
    case PathCheck::kControlCharacter: return "the stream path holds a control character";
    case PathCheck::kDotSegment: return "the stream path has a '.' or '..' segment";
    case PathCheck::kReserved: return "the __ds paths are reserved for the control APIs";
  }
  return "invalid stream path";
}

}  // namespace durablestreams::protocol

#include "protocol/offset.h"

#include <cstdio>

#include "protocol/decimal.h"

namespace durablestreams::protocol {

std::string FormatOffset(Offset offset) {
  char buf[kOffsetTokenLength + 1];
  std::snprintf(buf, sizeof buf, "%016llu_%016llu",
                static_cast<unsigned long long>(offset.read_seq),
                static_cast<unsigned long long>(offset.pos));
  return std::string(buf, kOffsetTokenLength);
}

Result<OffsetRequest> ParseOffset(std::string_view text) {
  OffsetRequest r;
  if (text == "-1") {
    r.kind = OffsetRequest::Kind::kStart;
    return r;
  }
  if (text == "now") {
    r.kind = OffsetRequest::Kind::kNow;
    return r;
  }
  if (text.size() != kOffsetTokenLength || text[16] != '_' ||
      !ParseDigits(text.substr(0, 16), &r.at.read_seq) ||
      !ParseDigits(text.substr(17), &r.at.pos)) {
    return Status::InvalidArgument("offset must be -1, now, or a token returned by the server");
  }
  r.kind = OffsetRequest::Kind::kAt;
  return r;
}

}  // namespace durablestreams::protocol

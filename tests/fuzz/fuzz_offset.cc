// Fuzz target: ?offset= values. Parsing never crashes, and every token it
// accepts formats back to the same text.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "protocol/offset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto r = durablestreams::protocol::ParseOffset(text);
  if (r.ok() && r->kind == durablestreams::protocol::OffsetRequest::Kind::kAt) {
    if (durablestreams::protocol::FormatOffset(r->at) != text) std::abort();
  }
  return 0;
}

// Fuzz target: segment objects as they come back from a store (possibly
// damaged or hostile). Decoding never crashes or reads out of bounds, and
// whatever it accepts is consistent: frames tile [start, end) and a
// re-encoding of them decodes to the same messages.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "storage/segment_format.h"

using namespace durablestreams;
using namespace durablestreams::storage;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view obj(reinterpret_cast<const char*>(data), size);
  // The index row's start and end: taken from the object where it has them,
  // so well-formed inputs get past the first checks.
  uint64_t start = 0, end = 0;
  if (size >= 16) std::memcpy(&start, data + 8, 8);
  if (size >= 40) std::memcpy(&end, data + size - 40, 8);
  std::vector<StoredMessage> out;
  Status s = DecodeSegment(obj, start, end, &out);
  if (s.ok()) {
    uint64_t pos = start;
    for (const StoredMessage& m : out) {
      if (m.start != pos || m.end != pos + m.data.size() || m.data.empty()) std::abort();
      pos = m.end;
    }
    if (pos != end) std::abort();
    if (!out.empty()) {
      std::vector<StoredMessage> again;
      if (!DecodeSegment(EncodeSegment(out), start, end, &again).ok() || again.size() != out.size()) {
        std::abort();
      }
    }
  }
  SegmentLayout layout;
  uint64_t need = 0;
  (void)DecodeSegmentLayout(obj, size, start, end, &layout, &need);
  out.clear();
  (void)DecodeFrames(obj, start, &out);
  return 0;
}

// Fuzz target: the protocol's header values (Stream-TTL, Stream-Expires-At,
// Producer-Epoch/Seq, Stream-Closed, Content-Type, Stream-Fork-Sub-Offset) and
// stream paths. The first byte picks the parser; properties are checked
// where the parser promises one.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "protocol/headers.h"
#include "protocol/path.h"

using namespace durablestreams::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 7) {
    case 0: {
      auto v = ParseTtlSeconds(text);
      if (v.ok() && std::to_string(*v) != text) std::abort();  // canonical form only
      break;
    }
    case 1: {
      auto v = ParseRfc3339Millis(text);
      if (v.ok()) {
        auto back = ParseRfc3339Millis(FormatRfc3339Millis(*v));
        if (!back.ok() || *back != *v) std::abort();
      }
      break;
    }
    case 2: {
      auto v = ParseProducerInteger(text);
      if (v.ok() && (*v < 0 || *v > kMaxSafeInteger)) std::abort();
      break;
    }
    case 3: {
      std::string s(text);
      (void)IsTrueFlag(&s);
      break;
    }
    case 4: {
      std::string media = MediaType(text);
      if (IsValidMediaType(media) && MediaType(media) != media) std::abort();  // idempotent
      (void)IsTextMediaType(media);
      break;
    }
    case 5: {
      auto v = ParseDecimal(text, kMaxSafeInteger);
      if (v.ok() && std::to_string(*v) != text) std::abort();
      break;
    }
    case 6: {
      PathCheck c = CheckStreamPath(text);
      if (c == PathCheck::kOk && (text.empty() || text.size() > kMaxPathLength)) std::abort();
      if (c == PathCheck::kOk && text.find("/../") != std::string_view::npos) std::abort();
      break;
    }
  }
  return 0;
}

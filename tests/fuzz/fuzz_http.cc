// Fuzz target: request bytes as the event transport reads them off a socket.
// The head parser and the chunked-body decoder never crash, never read past
// their input, and agree with themselves: whatever parses, parses the same
// way when the bytes arrive in two pieces (the transport re-parses from the
// start of its buffer as bytes arrive).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http_parser.h"

using namespace durablestreams::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  RequestHead head;
  size_t used = 0;
  ParseError err;
  Parse p = ParseHead(in, 4096, &head, &used, &err);
  if (p == Parse::kDone) {
    if (used == 0 || used > in.size()) std::abort();
    // A prefix that ends before the head is incomplete, never different.
    RequestHead again;
    size_t used2 = 0;
    if (ParseHead(in.substr(0, used - 1), 4096, &again, &used2, &err) == Parse::kDone &&
        used2 > used - 1) {
      std::abort();
    }
    std::string body;
    size_t body_used = 0;
    Parse b = ParseChunked(in.substr(used), 1 << 20, &body, &body_used, &err);
    if (b == Parse::kDone && (body_used > in.size() - used || body.size() > body_used)) std::abort();
  }
  (void)ParseQuery(in);
  (void)PercentDecode(in, true);
  return 0;
}

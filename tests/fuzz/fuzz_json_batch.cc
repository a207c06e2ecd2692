// Fuzz target: JSON batching. Whatever is accepted is split into messages
// that are each valid JSON on their own; wrapping them back into one array
// and splitting again gives the same messages.
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/json_batch.h"

using namespace durablestreams::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  JsonBatch batch = SplitJsonBatch(body);
  if (batch.error != JsonBatchError::kNone) {
    if (!batch.messages.empty()) std::abort();
    return 0;
  }
  if (batch.messages.empty()) std::abort();
  const std::vector<std::string> messages = batch.messages.Strings();
  for (const std::string& m : messages) {
    if (m.empty()) std::abort();
    // Each message is a JSON document of its own (an array stays one).
    JsonBatch again = SplitJsonBatch(m);
    if (again.error == JsonBatchError::kInvalidJson) std::abort();
  }
  std::vector<std::string_view> views(messages.begin(), messages.end());
  std::string wrapped;
  AppendJsonArray(views, &wrapped);
  JsonBatch rewrapped = SplitJsonBatch(wrapped);
  if (rewrapped.error != JsonBatchError::kNone || rewrapped.messages.Strings() != messages) {
    std::abort();
  }
  // Where simdjson takes the document, it agrees on the element count.
  static simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (!parser.parse(simdjson::padded_string(wrapped)).get(root)) {
    simdjson::dom::array arr;
    if (root.get_array().get(arr) || arr.size() != batch.messages.size()) std::abort();
  }
  return 0;
}

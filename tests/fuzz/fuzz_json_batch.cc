// Fuzz target: JSON batching. Whatever simdjson accepts is split into
// messages that are each valid JSON on their own, and wrapping them back into
// one array gives a document with as many elements.
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
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
  static simdjson::dom::parser parser;
  for (const std::string& m : batch.messages) {
    if (m.empty()) std::abort();
    simdjson::dom::element e;
    if (parser.parse(simdjson::padded_string(m)).get(e)) std::abort();
  }
  std::vector<std::string_view> views(batch.messages.begin(), batch.messages.end());
  std::string wrapped;
  AppendJsonArray(views, &wrapped);
  simdjson::dom::element root;
  if (parser.parse(simdjson::padded_string(wrapped)).get(root)) std::abort();
  simdjson::dom::array arr;
  if (root.get_array().get(arr) || arr.size() != batch.messages.size()) std::abort();
  return 0;
}

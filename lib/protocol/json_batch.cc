#include "protocol/json_batch.h"

#include <simdjson.h>

namespace durablestreams::protocol {

namespace {

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view TrimJson(std::string_view s) {
  while (!s.empty() && IsJsonSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsJsonSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Splits the elements of a top-level array. REQUIRES: `array` is valid JSON
// whose first and last non-space characters are '[' and ']'.
void SplitArray(std::string_view array, std::vector<std::string>* out) {
  std::string_view inner = array.substr(1, array.size() - 2);
  int depth = 0;
  bool in_string = false;
  size_t start = 0;
  for (size_t i = 0; i < inner.size(); ++i) {
    char c = inner[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '[': case '{': ++depth; break;
      case ']': case '}': --depth; break;
      case ',':
        if (depth == 0) {
          out->emplace_back(TrimJson(inner.substr(start, i - start)));
          start = i + 1;
        }
        break;
      default: break;
    }
  }
  std::string_view last = TrimJson(inner.substr(start));
  if (!last.empty()) out->emplace_back(last);
}

}  // namespace

JsonBatch SplitJsonBatch(std::string_view body) {
  JsonBatch batch;
  // One parser per thread: parsers are reusable and not thread-safe.
  thread_local simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::element root;
  auto err = parser.parse(padded).get(root);
  if (err) {
    batch.error = JsonBatchError::kInvalidJson;
    batch.message = std::string("invalid JSON: ") + simdjson::error_message(err);
    return batch;
  }
  std::string_view trimmed = TrimJson(body);
  if (root.type() == simdjson::dom::element_type::ARRAY) {
    simdjson::dom::array array = root.get_array().value_unsafe();
    if (array.size() == 0) {
      batch.error = JsonBatchError::kEmptyArray;
      batch.message = "empty JSON array: nothing to append";
      return batch;
    }
    batch.messages.reserve(array.size());
    SplitArray(trimmed, &batch.messages);
  } else {
    batch.messages.emplace_back(trimmed);
  }
  return batch;
}

void AppendJsonArray(const std::vector<std::string_view>& messages, std::string* out) {
  size_t n = 2;
  for (auto m : messages) n += m.size() + 1;
  out->reserve(out->size() + n);
  out->push_back('[');
  for (size_t i = 0; i < messages.size(); ++i) {
    if (i) out->push_back(',');
    out->append(messages[i]);
  }
  out->push_back(']');
}

}  // namespace durablestreams::protocol

#include "protocol/json_batch.h"

#include <simdjson.h>

#include <cctype>

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
void SplitArray(std::string_view array, MessageList* out) {
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
          out->push_back(TrimJson(inner.substr(start, i - start)));
          start = i + 1;
        }
        break;
      default: break;
    }
  }
  std::string_view last = TrimJson(inner.substr(start));
  out->push_back(last);
}

// A strict JSON grammar check (RFC 8259) that puts no limit on numbers. Used
// only when simdjson refuses a document for a number it cannot represent
// (more than 64 bits, or beyond double range), which is still valid JSON.
class GrammarCheck {
 public:
  explicit GrammarCheck(std::string_view s) : s_(s) {}
  bool Document() {
    Space();
    if (!Value(0)) return false;
    Space();
    return i_ == s_.size();
  }

 private:
  static constexpr int kMaxDepth = 1024;  // as simdjson
  bool More() const { return i_ < s_.size(); }
  char Peek() const { return s_[i_]; }
  void Space() {
    while (More() && IsJsonSpace(Peek())) ++i_;
  }
  bool Literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }
  bool Digits() {
    size_t start = i_;
    while (More() && Peek() >= '0' && Peek() <= '9') ++i_;
    return i_ > start;
  }
  bool Number() {
    if (More() && Peek() == '-') ++i_;
    if (More() && Peek() == '0') {
      ++i_;
    } else if (!More() || Peek() < '1' || Peek() > '9' || !Digits()) {
      return false;
    }
    if (More() && Peek() == '.') {
      ++i_;
      if (!Digits()) return false;
    }
    if (More() && (Peek() == 'e' || Peek() == 'E')) {
      ++i_;
      if (More() && (Peek() == '+' || Peek() == '-')) ++i_;
      if (!Digits()) return false;
    }
    return true;
  }
  bool String() {
    ++i_;  // the opening quote
    while (More()) {
      unsigned char c = static_cast<unsigned char>(s_[i_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c != '\\') continue;
      if (!More()) return false;
      char e = s_[i_++];
      if (e == 'u') {
        // As simdjson: a surrogate escape must be a high one followed by an
        // escaped low one, or the document is refused.
        int unit = Hex4();
        if (unit < 0 || (unit >= 0xDC00 && unit <= 0xDFFF)) return false;
        if (unit >= 0xD800 && unit <= 0xDBFF) {
          if (!Literal("\\u")) return false;
          int low = Hex4();
          if (low < 0xDC00 || low > 0xDFFF) return false;
        }
      } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
        return false;
      }
    }
    return false;
  }
  // The four hex digits of a \u escape as a UTF-16 code unit; -1 if they
  // are not four hex digits.
  int Hex4() {
    int unit = 0;
    for (int k = 0; k < 4; ++k) {
      if (!More()) return -1;
      char h = s_[i_++];
      int v = h >= '0' && h <= '9'   ? h - '0'
              : h >= 'a' && h <= 'f' ? h - 'a' + 10
              : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                     : -1;
      if (v < 0) return -1;
      unit = unit * 16 + v;
    }
    return unit;
  }
  bool Value(int depth) {
    if (!More() || depth > kMaxDepth) return false;
    char c = Peek();
    if (c == '"') return String();
    if (c == '{' || c == '[') {
      char close = c == '{' ? '}' : ']';
      ++i_;
      Space();
      if (More() && Peek() == close) {
        ++i_;
        return true;
      }
      for (;;) {
        if (c == '{') {
          if (!More() || Peek() != '"' || !String()) return false;
          Space();
          if (!More() || Peek() != ':') return false;
          ++i_;
          Space();
        }
        if (!Value(depth + 1)) return false;
        Space();
        if (!More()) return false;
        if (Peek() == ',') {
          ++i_;
          Space();
          continue;
        }
        if (Peek() != close) return false;
        ++i_;
        return true;
      }
    }
    if (c == 't') return Literal("true");
    if (c == 'f') return Literal("false");
    if (c == 'n') return Literal("null");
    return Number();
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

JsonBatch SplitJsonBatch(std::string_view body) {
  JsonBatch batch;
  // One parser per thread: parsers are reusable and not thread-safe.
  thread_local simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::element root;
  auto err = parser.parse(padded).get(root);
  std::string_view trimmed = TrimJson(body);
  if (err) {
    // simdjson refuses numbers it cannot hold; such a document is still
    // JSON if the grammar holds (simdjson validates UTF-8 first, so a
    // number error means the encoding was fine).
    bool number_only = err == simdjson::NUMBER_ERROR || err == simdjson::NUMBER_OUT_OF_RANGE;
    if (!number_only || !simdjson::validate_utf8(body.data(), body.size()) ||
        !GrammarCheck(body).Document()) {
      batch.error = JsonBatchError::kInvalidJson;
      batch.message = std::string("invalid JSON: ") + simdjson::error_message(err);
      return batch;
    }
    if (trimmed.front() != '[') {
      batch.messages.push_back(trimmed);
      return batch;
    }
    if (TrimJson(trimmed.substr(1, trimmed.size() - 2)).empty()) {
      batch.error = JsonBatchError::kEmptyArray;
      batch.message = "empty JSON array: nothing to append";
      return batch;
    }
    SplitArray(trimmed, &batch.messages);
    return batch;
  }
  if (root.type() == simdjson::dom::element_type::ARRAY) {
    simdjson::dom::array array = root.get_array().value_unsafe();
    if (array.size() == 0) {
      batch.error = JsonBatchError::kEmptyArray;
      batch.message = "empty JSON array: nothing to append";
      return batch;
    }
    batch.messages.data.reserve(trimmed.size());
    batch.messages.sizes.reserve(array.size());
    SplitArray(trimmed, &batch.messages);
  } else {
    batch.messages.push_back(trimmed);
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

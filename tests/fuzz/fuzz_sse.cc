// Fuzz target: SSE framing. Any payload becomes exactly one event: parsing
// the output as a client would (RFC 8895 / WHATWG rules) yields one "data"
// event whose data is the payload with CR and CRLF turned into LF; its base64
// form decodes back to the payload.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/sse.h"

using namespace durablestreams::protocol;

namespace {

std::string Normalize(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < in.size() && in[i + 1] == '\n') ++i;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

int Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::string DecodeBase64(std::string_view s) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    if (c == '=') break;
    int v = Value(c);
    if (v < 0) std::abort();
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

// Returns the events of `stream` as (type, data) pairs, client-style.
std::vector<std::pair<std::string, std::string>> Parse(const std::string& stream) {
  std::vector<std::pair<std::string, std::string>> events;
  std::string type, data;
  bool has_data = false;
  size_t start = 0;
  while (start < stream.size()) {
    size_t end = stream.find('\n', start);
    if (end == std::string::npos) std::abort();  // every line is terminated
    std::string line = stream.substr(start, end - start);
    start = end + 1;
    if (line.find('\r') != std::string::npos) std::abort();
    if (line.empty()) {
      if (has_data) events.emplace_back(type.empty() ? "message" : type, data);
      type.clear();
      data.clear();
      has_data = false;
    } else if (line.rfind("event: ", 0) == 0) {
      type = line.substr(7);
    } else if (line.rfind("data:", 0) == 0) {
      if (has_data) data.push_back('\n');
      data += line.substr(5);
      has_data = true;
    } else if (line[0] != ':') {
      std::abort();  // a field we never write
    }
  }
  return events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  std::string_view payload(reinterpret_cast<const char*>(bytes), size);
  std::string out;
  AppendSseEvent("data", payload, &out);
  auto events = Parse(out);
  if (events.size() != 1 || events[0].first != "data") std::abort();
  if (events[0].second != Normalize(payload)) std::abort();

  std::string b64, framed;
  AppendBase64(payload, &b64);
  if (b64.size() % 4 != 0) std::abort();
  AppendSseEvent("data", b64, &framed);
  AppendSseHeartbeat(&framed);
  auto b64_events = Parse(framed);
  if (b64_events.size() != 1 || DecodeBase64(b64_events[0].second) != payload) std::abort();
  return 0;
}

#include "protocol/sse.h"

namespace durablestreams::protocol {

void AppendSseEvent(std::string_view event, std::string_view payload, std::string* out) {
  out->reserve(out->size() + payload.size() + event.size() + 16);
  out->append("event: ").append(event).push_back('\n');
  size_t start = 0;
  for (size_t i = 0; i <= payload.size(); ++i) {
    if (i == payload.size() || payload[i] == '\n' || payload[i] == '\r') {
      out->append("data:");
      out->append(payload.substr(start, i - start));
      out->push_back('\n');
      if (i < payload.size() && payload[i] == '\r' && i + 1 < payload.size() &&
          payload[i + 1] == '\n') {
        ++i;
      }
      start = i + 1;
    }
  }
  out->push_back('\n');
}

void AppendBase64(std::string_view bytes, std::string* out) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  out->reserve(out->size() + (bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (p[i] << 16) | (p[i + 1] << 8) | p[i + 2];
    out->push_back(kAlphabet[(v >> 18) & 63]);
    out->push_back(kAlphabet[(v >> 12) & 63]);
    out->push_back(kAlphabet[(v >> 6) & 63]);
    out->push_back(kAlphabet[v & 63]);
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t v = p[i] << 16;
    out->push_back(kAlphabet[(v >> 18) & 63]);
    out->push_back(kAlphabet[(v >> 12) & 63]);
    out->append("==");
  } else if (rest == 2) {
    uint32_t v = (p[i] << 16) | (p[i + 1] << 8);
    out->push_back(kAlphabet[(v >> 18) & 63]);
    out->push_back(kAlphabet[(v >> 12) & 63]);
    out->push_back(kAlphabet[(v >> 6) & 63]);
    out->push_back('=');
  }
}

void AppendSseHeartbeat(std::string* out) { out->append(":\n\n"); }

std::string ControlJson(const ControlFields& f) {
  // Offsets and cursors are digits and '_' only: nothing to escape.
  std::string json = "{\"streamNextOffset\":\"" + f.next_offset + "\"";
  if (!f.cursor.empty()) json += ",\"streamCursor\":\"" + f.cursor + "\"";
  if (f.up_to_date) json += ",\"upToDate\":true";
  if (f.closed) json += ",\"streamClosed\":true";
  json += "}";
  return json;
}

}  // namespace durablestreams::protocol

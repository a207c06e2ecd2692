// lib/protocol/sse.h
//
// Server-Sent Events framing (PROTOCOL.md §5.8). A payload is split on every
// line terminator SSE knows (CRLF, LF, CR) into `data:` lines, so bytes in a
// payload can never end an event or start a new field. Binary payloads are
// base64-encoded (RFC 4648, standard alphabet) first.
#ifndef DURABLESTREAMS_LIB_PROTOCOL_SSE_H_
#define DURABLESTREAMS_LIB_PROTOCOL_SSE_H_

#include <string>
#include <string_view>

namespace durablestreams::protocol {

// Appends "event: <event>\n" + one "data:" line per payload line + "\n".
void AppendSseEvent(std::string_view event, std::string_view payload, std::string* out);

// Appends the standard base64 encoding of `bytes`.
void AppendBase64(std::string_view bytes, std::string* out);

// Appends a comment line (ignored by clients) that keeps proxies from
// cutting an idle connection.
void AppendSseHeartbeat(std::string* out);

struct ControlFields {
  std::string next_offset;
  std::string cursor;  // omitted when empty
  bool up_to_date = false;
  bool closed = false;
};

// The JSON of a control event: {"streamNextOffset":..., "streamCursor":...,
// "upToDate":true, "streamClosed":true}; false flags and an empty cursor are
// left out.
std::string ControlJson(const ControlFields& fields);

}  // namespace durablestreams::protocol

#endif  // DURABLESTREAMS_LIB_PROTOCOL_SSE_H_

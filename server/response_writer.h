// server/response_writer.h
//
// A Response as HTTP/1.1 bytes, for the event transport: the status line
// and header fields, and the chunks of a live (SSE) body.
//
// Thread safety: pure functions.
#ifndef DURABLESTREAMS_SERVER_RESPONSE_WRITER_H_
#define DURABLESTREAMS_SERVER_RESPONSE_WRITER_H_

#include <string>
#include <string_view>

#include "durablestreams/request.h"

namespace durablestreams::event {

// Appends the status line and the header fields of `r` to *out, then the
// framing: chunked for a live response, else Content-Length (none for 1xx,
// 204 and 304), and "Connection: close" unless `keep_alive`. Framing fields
// the engine set itself (Transfer-Encoding, Connection) are dropped.
void AppendResponseHead(const Response& r, bool keep_alive, std::string* out);

// Appends `data` as one chunk of a chunked body.
void AppendChunk(std::string_view data, std::string* out);

}  // namespace durablestreams::event

#endif  // DURABLESTREAMS_SERVER_RESPONSE_WRITER_H_

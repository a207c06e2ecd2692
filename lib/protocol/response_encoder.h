// lib/protocol/response_encoder.h
//
// The HTTP side of every outcome (outcomes.h): status numbers, header names,
// CORS and the security headers every response carries (PROTOCOL.md §12.7),
// and the one JSON error body, {"code":"<NAME>","error":"<message>"}.
//
// Thread safety: pure functions.
#ifndef DURABLESTREAMS_LIB_PROTOCOL_RESPONSE_ENCODER_H_
#define DURABLESTREAMS_LIB_PROTOCOL_RESPONSE_ENCODER_H_

#include <string_view>

#include "durablestreams/outcomes.h"
#include "durablestreams/request.h"

namespace durablestreams::protocol {

// Cache-Control of a response that must not be cached.
inline constexpr std::string_view kNoStore = "no-store";

Response EncodeError(const StreamError& error);
// 405 METHOD_NOT_ALLOWED with `message` and `Allow: GET, HEAD`: a read-only
// resource (the registry stream, the inspect API).
Response EncodeReadOnly(std::string message);
Response Encode(const CreateOutcome& outcome);
Response Encode(const AppendOutcome& outcome);
// `cache_scope` says who may keep cacheable data (a deployment choice):
// "public" (a CDN), "private" (the client alone), or a whole Cache-Control
// value such as "no-store" or "private, no-store" that is used as it is.
// The lifetimes are the table in docs/http.md ("Caching"): catch-up data
// behind the tail max-age=60, stale-while-revalidate=300; a catch-up read
// that reaches the tail no-store; a long-poll's data max-age=20; all
// capped by the stream's time left.
Response Encode(ReadOutcome outcome, std::string_view cache_scope);
Response Encode(const InfoOutcome& outcome);
Response Encode(const DeleteOutcome& outcome);
// The answer to a CORS preflight (OPTIONS).
Response EncodePreflight();

// Sets the headers every response carries; the encoders above call it.
void AddCommonHeaders(Response* response);

}  // namespace durablestreams::protocol

#endif  // DURABLESTREAMS_LIB_PROTOCOL_RESPONSE_ENCODER_H_

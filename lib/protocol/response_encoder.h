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
// `data_cache_control` is the Cache-Control of cacheable data (a deployment
// choice: public behind a CDN, private, or no-store).
Response Encode(ReadOutcome outcome, std::string_view data_cache_control);
Response Encode(const InfoOutcome& outcome);
Response Encode(const DeleteOutcome& outcome);
// The answer to a CORS preflight (OPTIONS).
Response EncodePreflight();

// Sets the headers every response carries; the encoders above call it.
void AddCommonHeaders(Response* response);

}  // namespace durablestreams::protocol

#endif  // DURABLESTREAMS_LIB_PROTOCOL_RESPONSE_ENCODER_H_

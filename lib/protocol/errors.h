// lib/protocol/errors.h
//
// Protocol outcomes that are errors, with their stable machine codes and the
// one table that maps them to HTTP status codes.
#ifndef DURABLESTREAMS_LIB_PROTOCOL_ERRORS_H_
#define DURABLESTREAMS_LIB_PROTOCOL_ERRORS_H_

#include <string>
#include <string_view>

namespace durablestreams::protocol {

enum class ErrorCode {
  kBadRequest,            // 400 BAD_REQUEST: a malformed header or parameter
  kInvalidOffset,         // 400 INVALID_OFFSET
  kInvalidTtl,            // 400 INVALID_TTL
  kInvalidExpiresAt,      // 400 INVALID_EXPIRES_AT
  kTtlAndExpiresAt,       // 400 TTL_AND_EXPIRES_AT: both given
  kInvalidProducer,       // 400 INVALID_PRODUCER: partial or malformed producer headers
  kEpochSeqNotZero,       // 400 INVALID_PRODUCER_SEQ: a new epoch must start at seq 0
  kEmptyBody,             // 400 EMPTY_BODY
  kInvalidJson,           // 400 INVALID_JSON
  kEmptyJsonArray,        // 400 EMPTY_JSON_ARRAY
  kMissingContentType,    // 400 MISSING_CONTENT_TYPE
  kInvalidContentType,    // 400 INVALID_CONTENT_TYPE
  kInvalidPath,           // 400 INVALID_PATH
  kInvalidFork,           // 400 INVALID_FORK: fork headers malformed, offset past the tail
  kStaleEpoch,            // 403 STALE_PRODUCER_EPOCH
  kNotFound,              // 404 STREAM_NOT_FOUND
  kGone,                  // 410 STREAM_GONE: soft-deleted, kept for its forks
  kMethodNotAllowed,      // 405 METHOD_NOT_ALLOWED
  kStreamExists,          // 409 STREAM_EXISTS: same path, other configuration
  kSourceGone,            // 409 FORK_SOURCE_DELETED: forking a soft-deleted stream
  kContentTypeMismatch,   // 409 CONTENT_TYPE_MISMATCH
  kStreamClosed,          // 409 STREAM_CLOSED
  kSeqConflict,           // 409 STREAM_SEQ_CONFLICT: Stream-Seq did not increase
  kProducerSeqGap,        // 409 PRODUCER_SEQ_GAP
  kPayloadTooLarge,       // 413 PAYLOAD_TOO_LARGE
  kNotImplemented,        // 501 NOT_IMPLEMENTED
  kUnavailable,           // 503 UNAVAILABLE: shutting down or storage busy
  kStorageFull,           // 507 STORAGE_FULL
  kInternal,              // 500 INTERNAL
};

int HttpStatus(ErrorCode code);
std::string_view CodeName(ErrorCode code);

// {"code":"<name>","error":"<message>"} with the message JSON-escaped.
std::string ErrorJson(std::string_view code_name, std::string_view message);

// Appends `s` as a JSON string literal (with quotes).
void AppendJsonString(std::string_view s, std::string* out);

}  // namespace durablestreams::protocol

#endif  // DURABLESTREAMS_LIB_PROTOCOL_ERRORS_H_

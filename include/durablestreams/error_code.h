// include/durablestreams/error_code.h
//
// The protocol's error outcomes, each with a stable machine name (the "code"
// of the JSON error body). The HTTP status of each is the transport's
// business (lib/protocol/errors.cc holds the one table).
//
// Thread safety: plain values and pure functions.
#ifndef DURABLESTREAMS_ERROR_CODE_H_
#define DURABLESTREAMS_ERROR_CODE_H_

#include <string_view>

namespace durablestreams {

enum class ErrorCode {
  kBadRequest,            // BAD_REQUEST: a malformed header or parameter
  kInvalidOffset,         // INVALID_OFFSET
  kInvalidTtl,            // INVALID_TTL
  kInvalidExpiresAt,      // INVALID_EXPIRES_AT
  kTtlAndExpiresAt,       // TTL_AND_EXPIRES_AT: both given
  kInvalidProducer,       // INVALID_PRODUCER: partial or malformed producer fields
  kEpochSeqNotZero,       // INVALID_PRODUCER_SEQ: a new epoch must start at seq 0
  kEmptyBody,             // EMPTY_BODY
  kInvalidJson,           // INVALID_JSON
  kEmptyJsonArray,        // EMPTY_JSON_ARRAY
  kMissingContentType,    // MISSING_CONTENT_TYPE
  kInvalidContentType,    // INVALID_CONTENT_TYPE
  kInvalidPath,           // INVALID_PATH
  kInvalidFork,           // INVALID_FORK: fork fields malformed, offset past the tail
  kStaleEpoch,            // STALE_PRODUCER_EPOCH
  kNotFound,              // STREAM_NOT_FOUND
  kGone,                  // STREAM_GONE: soft-deleted, kept for its forks
  kMethodNotAllowed,      // METHOD_NOT_ALLOWED
  kStreamExists,          // STREAM_EXISTS: same path, other configuration
  kSourceGone,            // FORK_SOURCE_DELETED: forking a soft-deleted stream
  kContentTypeMismatch,   // CONTENT_TYPE_MISMATCH
  kStreamClosed,          // STREAM_CLOSED
  kSeqConflict,           // STREAM_SEQ_CONFLICT: Stream-Seq did not increase
  kProducerSeqGap,        // PRODUCER_SEQ_GAP
  kPayloadTooLarge,       // PAYLOAD_TOO_LARGE
  kEstuaryNotFound,       // ESTUARY_NOT_FOUND: no session stream there (estuary.h)
  kNotImplemented,        // NOT_IMPLEMENTED
  kUnavailable,           // UNAVAILABLE: shutting down or storage busy; retry
  kStorageFull,           // STORAGE_FULL
  kInternal,              // INTERNAL
};

// The machine name, e.g. "STREAM_NOT_FOUND".
std::string_view ErrorCodeName(ErrorCode code);

}  // namespace durablestreams

#endif  // DURABLESTREAMS_ERROR_CODE_H_

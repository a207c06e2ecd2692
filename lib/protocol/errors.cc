#include "protocol/errors.h"

#include <cstdio>

namespace durablestreams::protocol {

namespace {
struct Row {
  ErrorCode code;
  int status;
  const char* name;
};
// The one table from protocol outcome to HTTP status.
constexpr Row kTable[] = {
    {ErrorCode::kBadRequest, 400, "BAD_REQUEST"},
    {ErrorCode::kInvalidOffset, 400, "INVALID_OFFSET"},
    {ErrorCode::kInvalidTtl, 400, "INVALID_TTL"},
    {ErrorCode::kInvalidExpiresAt, 400, "INVALID_EXPIRES_AT"},
    {ErrorCode::kTtlAndExpiresAt, 400, "TTL_AND_EXPIRES_AT"},
    {ErrorCode::kInvalidProducer, 400, "INVALID_PRODUCER"},
    {ErrorCode::kEpochSeqNotZero, 400, "INVALID_PRODUCER_SEQ"},
    {ErrorCode::kEmptyBody, 400, "EMPTY_BODY"},
    {ErrorCode::kInvalidJson, 400, "INVALID_JSON"},
    {ErrorCode::kEmptyJsonArray, 400, "EMPTY_JSON_ARRAY"},
    {ErrorCode::kMissingContentType, 400, "MISSING_CONTENT_TYPE"},
    {ErrorCode::kInvalidContentType, 400, "INVALID_CONTENT_TYPE"},
    {ErrorCode::kInvalidPath, 400, "INVALID_PATH"},
    {ErrorCode::kInvalidFork, 400, "INVALID_FORK"},
    {ErrorCode::kStaleEpoch, 403, "STALE_PRODUCER_EPOCH"},
    {ErrorCode::kNotFound, 404, "STREAM_NOT_FOUND"},
    {ErrorCode::kGone, 410, "STREAM_GONE"},
    {ErrorCode::kMethodNotAllowed, 405, "METHOD_NOT_ALLOWED"},
    {ErrorCode::kStreamExists, 409, "STREAM_EXISTS"},
    {ErrorCode::kSourceGone, 409, "FORK_SOURCE_DELETED"},
    {ErrorCode::kContentTypeMismatch, 409, "CONTENT_TYPE_MISMATCH"},
    {ErrorCode::kStreamClosed, 409, "STREAM_CLOSED"},
    {ErrorCode::kSeqConflict, 409, "STREAM_SEQ_CONFLICT"},
    {ErrorCode::kProducerSeqGap, 409, "PRODUCER_SEQ_GAP"},
    {ErrorCode::kPayloadTooLarge, 413, "PAYLOAD_TOO_LARGE"},
    {ErrorCode::kEstuaryNotFound, 404, "ESTUARY_NOT_FOUND"},
    {ErrorCode::kNotImplemented, 501, "NOT_IMPLEMENTED"},
    {ErrorCode::kUnavailable, 503, "UNAVAILABLE"},
    {ErrorCode::kStorageFull, 507, "STORAGE_FULL"},
    {ErrorCode::kInternal, 500, "INTERNAL"},
};

const Row& Find(ErrorCode code) {
  for (const Row& r : kTable) {
    if (r.code == code) return r;
  }
  return kTable[sizeof kTable / sizeof kTable[0] - 1];
}
}  // namespace

int HttpStatus(ErrorCode code) { return Find(code).status; }
std::string_view CodeName(ErrorCode code) { return Find(code).name; }

}  // namespace durablestreams::protocol

namespace durablestreams {
std::string_view ErrorCodeName(ErrorCode code) { return protocol::CodeName(code); }
}  // namespace durablestreams

namespace durablestreams::protocol {

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

std::string ErrorJson(std::string_view code_name, std::string_view message) {
  std::string out = "{\"code\":";
  AppendJsonString(code_name, &out);
  out += ",\"error\":";
  AppendJsonString(message, &out);
  out += "}";
  return out;
}

}  // namespace durablestreams::protocol

// include/durablestreams/outcomes.h
//
// What StreamEngine answers to each command (commands.h), as typed values.
// Every outcome either has `error` set, and nothing else means anything, or
// describes what was done. lib/protocol/response_encoder.cc turns them into
// HTTP responses (status, headers, the JSON error body).
//
// Thread safety: plain values; ReadOutcome::live is itself thread-safe.
// Ownership: by value, except `live`, shared with the engine.
#ifndef DURABLESTREAMS_OUTCOMES_H_
#define DURABLESTREAMS_OUTCOMES_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "durablestreams/error_code.h"

namespace durablestreams {

class LiveStream;

// Why a command was refused or failed. Refused commands changed nothing.
struct StreamError {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  // kStaleEpoch: the producer's current epoch.
  std::optional<int64_t> current_epoch;
  // kProducerSeqGap: the sequence number expected next, and the one sent.
  std::optional<int64_t> expected_seq;
  std::optional<int64_t> received_seq;
  // kStreamClosed: where the closed stream ends.
  std::optional<uint64_t> next_offset;
};

// A stream's configuration and extent.
struct StreamInfo {
  std::string content_type;
  uint64_t next_offset = 0;  // the tail
  bool closed = false;
  std::optional<int64_t> ttl_seconds;
  std::optional<int64_t> expires_at_ms;
  bool public_read = false;
  std::string reader_key;  // empty for a public stream
};

// How long a mutation waited for the writer, and how long its batch took
// to decide and commit (Server-Timing: queue, commit). Milliseconds.
struct CommitTiming {
  double queue_ms = 0;
  double commit_ms = 0;
};

struct CreateOutcome {
  std::optional<StreamError> error;
  bool created = false;  // false: it existed with this configuration
  StreamInfo stream;
  std::string location;  // CreateCommand::location, when created
  CommitTiming timing;
};

struct AppendOutcome {
  std::optional<StreamError> error;
  uint64_t next_offset = 0;
  bool closed = false;
  // A producer's append: the state acknowledged (after a duplicate, the
  // state the duplicate had already reached).
  std::optional<int64_t> producer_epoch;
  std::optional<int64_t> producer_seq;
  // New data was stored under a producer (HTTP answers 200, else 204).
  bool stored_with_producer = false;
  CommitTiming timing;
};

struct ReadOutcome {
  enum class Kind {
    kData,         // `body` holds data from the offset (maybe none)
    kUpToDate,     // a long-poll that timed out, or a closed stream's tail
    kNotModified,  // if_none_match matched
    kLive,         // an SSE response: `live` yields the events
  };
  std::optional<StreamError> error;
  Kind kind = Kind::kData;
  std::string content_type;
  std::string body;  // JSON mode: a JSON array of the messages
  uint64_t next_offset = 0;
  bool up_to_date = false;
  bool closed = false;    // the read reached the end of a closed stream
  std::string cursor;     // empty: none (catch-up reads)
  std::string etag;       // empty: none
  bool cacheable = false; // may be cached as data (CDN); else no-store
  bool long_poll = false; // a long-poll's data: cached briefly (docs/http.md)
  // The stream's time left, in seconds, when it has a TTL or an expiry: a
  // cache keeps the response no longer.
  std::optional<int64_t> ttl_left_seconds;
  // A shared cache may keep it: the stream is public, or the read carried
  // its reader key. (Only project auth tells the two apart.)
  bool shareable = false;
  std::shared_ptr<LiveStream> live;  // kLive
  bool base64 = false;               // kLive: data events are base64
};

struct InfoOutcome {
  std::optional<StreamError> error;
  StreamInfo stream;
};

struct DeleteOutcome {
  std::optional<StreamError> error;
  CommitTiming timing;
};

}  // namespace durablestreams

#endif  // DURABLESTREAMS_OUTCOMES_H_

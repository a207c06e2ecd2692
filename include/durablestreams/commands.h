// include/durablestreams/commands.h
//
// What a caller asks of StreamEngine, as typed values: the protocol's
// operations (PROTOCOL.md §4-§5) with no HTTP in them. A transport decodes
// a request into one of these (lib/protocol/request_decoder.cc); an
// embedder fills them in directly.
//
// Offsets are byte positions (uint64_t): what outcomes return as
// `next_offset`, and what the HTTP encoding prints as an offset token.
//
// Thread safety: plain values. Ownership: everything by value.
#ifndef DURABLESTREAMS_COMMANDS_H_
#define DURABLESTREAMS_COMMANDS_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace durablestreams {

// An idempotent producer's identity and sequence (PROTOCOL.md §5.2).
struct ProducerFields {
  std::string id;  // 1 to 256 bytes
  int64_t epoch = 0;
  int64_t seq = 0;
};

// Where a fork starts in its source (PROTOCOL.md §4.2).
struct ForkPoint {
  std::string source;  // the source stream's path
  // An offset the source returned; none: the source's tail.
  std::optional<uint64_t> offset;
  // Bytes (binary) or messages (JSON) past `offset`, inside the append that
  // holds it. Non-zero needs `offset`.
  uint64_t sub_offset = 0;
};

// Creates a stream, or confirms one with the same configuration.
struct CreateCommand {
  std::string path;  // relative to the stream root, e.g. "chat/42"
  // Echoed back when the stream is created (the HTTP Location header).
  std::string location;
  // None: application/octet-stream, or a fork's source's type.
  std::optional<std::string> content_type;
  std::optional<int64_t> ttl_seconds;    // sliding: from the last read or write
  std::optional<int64_t> expires_at_ms;  // absolute, Unix milliseconds
  bool close = false;                    // created closed
  // Readable without credentials (project auth); none: private. Fixed at
  // creation: a later create that differs is refused (kStreamExists).
  std::optional<bool> public_read;
  std::optional<ForkPoint> fork;
  std::string body;  // the first append; a JSON array in JSON mode
};

// Appends to a stream, closes it, or both.
struct AppendCommand {
  std::string path;
  std::string content_type;  // needed with a body; must match the stream's
  std::string body;          // a JSON value or array in JSON mode
  bool close = false;        // close after this append (no body: close only)
  std::optional<ProducerFields> producer;
  // Must increase from one append to the next (byte-wise), when given.
  std::optional<std::string> stream_seq;
};

// Closes a stream: an append with no body and close = true.
struct CloseCommand {
  std::string path;
  std::optional<ProducerFields> producer;
};

enum class LiveMode {
  kNone,      // answer with what is there
  kLongPoll,  // at the tail: wait for data, closure or the timeout
  kSse,       // a Server-Sent Events response that follows the stream
};

struct ReadCommand {
  enum class From { kBeginning, kNow, kOffset };
  std::string path;
  From from = From::kBeginning;
  uint64_t offset = 0;  // for kOffset
  LiveMode live = LiveMode::kNone;
  std::string cursor;  // the client's last cursor (CDN collapsing, §8.1)
  // An ETag from an earlier read: unchanged data answers "not modified".
  std::optional<std::string> if_none_match;
  // A live read ends after at most this long, if it is sooner than the
  // engine's long-poll timeout or SSE duration (a credential's expiry).
  std::optional<std::chrono::milliseconds> live_limit;
  // The stream's reader key, if the caller has it (ReadOutcome::shareable).
  std::string reader_key;
  // The caller has no credential: answer only for a public stream; any
  // other is refused as not found.
  bool public_only = false;
};

// A stream's metadata without its data (HTTP HEAD).
struct InfoCommand {
  std::string path;
  bool public_only = false;  // as ReadCommand::public_only
};

struct DeleteCommand {
  std::string path;
};

}  // namespace durablestreams

#endif  // DURABLESTREAMS_COMMANDS_H_

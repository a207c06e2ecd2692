// include/durablestreams/estuary.h
//
// Estuaries: pub/sub fan-out into per-client session streams. A session
// stream is an ordinary stream (readable, live, forkable, closable) that is
// subscribed to any number of source streams; every append to a source is
// also appended to each session stream subscribed to it, so a client that
// follows many streams reads one.
//
// Guarantees (the engine's commit pipeline, lib/engine/fanout.cc):
//   - Exactly once, in order: the copies of an append are written in the
//     same storage transaction as the append itself. A publish that is
//     acknowledged was copied; one that failed was copied nowhere; an
//     idempotent producer's retry that is a duplicate is not copied again.
//     Copies from one source arrive in the source's order.
//   - A subscription starts at the source's tail at the moment it commits:
//     the appends committed after it are copied, none before. An
//     unsubscribe acknowledged before a publish is committed means the
//     publish is not copied.
//   - A closed session stream takes no more copies; its sources go on.
//   - Copies are plain appends of the same message(s): no producer headers,
//     no Stream-Seq, and a source's closure is not copied.
//
// Lifecycle: a subscribe creates the session stream (with the source's
// content type) if there is none, and sets its expiry to now plus
// Options::estuary_ttl (renewed by each subscribe). When it expires, or is
// deleted, its links go with it in the same commit; deleting a source
// removes the links from it. A session stream is never a source.
//
// Thread safety: the StreamEngine methods taking these commands may be
// called from any thread; each callback is called once, possibly on
// another thread. Ownership: plain values.
#ifndef DURABLESTREAMS_ESTUARY_H_
#define DURABLESTREAMS_ESTUARY_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "durablestreams/outcomes.h"

namespace durablestreams {

// Subscribes the session stream `estuary` to the stream `source` (both
// paths relative to the stream root), creating the session stream if
// needed. Refused: kNotFound (no source), kGone (the source was deleted
// while forks read it), kStreamExists (a stream that is not a session
// stream is at `estuary`, or a deleted one that forks still read),
// kContentTypeMismatch (the session stream has another content type),
// kBadRequest (`source` is itself a session stream).
struct EstuarySubscribeCommand {
  std::string source;
  std::string estuary;
};

struct EstuarySubscribeOutcome {
  std::optional<StreamError> error;
  bool created = false;       // the session stream was made by this subscribe
  int64_t expires_at_ms = 0;  // the session stream's new expiry
  std::string content_type;
};

// Removes the link from `source` to `estuary`, if there is one. Refused
// only with kEstuaryNotFound when there is no session stream at `estuary`.
struct EstuaryUnsubscribeCommand {
  std::string source;
  std::string estuary;
};

struct EstuaryUnsubscribeOutcome {
  std::optional<StreamError> error;
  bool removed = false;  // false: it was not subscribed
};

// A session stream's sources. Refused with kEstuaryNotFound when there is
// no session stream at `estuary`.
struct EstuaryInfoCommand {
  std::string estuary;
};

struct EstuarySource {
  std::string path;  // the source's path
  int64_t subscribed_at_ms = 0;
};

struct EstuaryInfoOutcome {
  std::optional<StreamError> error;
  std::string content_type;
  int64_t expires_at_ms = 0;
  std::vector<EstuarySource> sources;  // by path
};

// Deletes a session stream (and its links); kEstuaryNotFound when there
// is no session stream at `estuary` (an ordinary stream there is left
// alone).
struct EstuaryDeleteCommand {
  std::string estuary;
};

using EstuarySubscribeCallback = std::function<void(EstuarySubscribeOutcome)>;
using EstuaryUnsubscribeCallback = std::function<void(EstuaryUnsubscribeOutcome)>;
using EstuaryInfoCallback = std::function<void(EstuaryInfoOutcome)>;

}  // namespace durablestreams

#endif  // DURABLESTREAMS_ESTUARY_H_

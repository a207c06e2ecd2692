// include/durablestreams/inspect.h
//
// Inspection: what the engine knows of one stream, for operators (the
// inspect API, inspect_api.h, and the admin page). Its metadata, where its
// data is (hot rows and cold segments, Storage::Describe), the idempotent
// producers it remembers and the live readers waiting on it.
//
// The producers and readers are read by the commit thread between two
// commits (an inspect goes through the pipeline like an append), so they
// are exact at that point; the storage figures are read just before, from
// a snapshot of the store. A producer's last offset is known for appends
// accepted since the engine started.
//
// Thread safety: StreamEngine::Inspect may be called from any thread; its
// callback is called once, possibly on another thread. It reads the store
// on the calling thread (a few SQLite queries): do not call it from a
// thread that must never wait. Ownership: plain values.
#ifndef DURABLESTREAMS_INSPECT_H_
#define DURABLESTREAMS_INSPECT_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "durablestreams/outcomes.h"
#include "durablestreams/storage.h"

namespace durablestreams {

struct InspectCommand {
  std::string path;
};

struct ProducerInspection {
  std::string id;
  int64_t epoch = 0;
  int64_t last_seq = 0;
  std::optional<uint64_t> last_offset;  // the stream's tail after its last append
  int64_t updated_at_ms = 0;            // its last accepted append
};

struct InspectOutcome {
  std::optional<StreamError> error;  // kNotFound: no such stream
  StreamRecord record;               // the stream as committed (tail included)
  StreamStorageInfo storage;
  std::optional<std::string> storage_error;  // the store could not say
  std::vector<ProducerInspection> producers;  // by id
  size_t sse_readers = 0;                     // SSE responses following it
  size_t long_polls = 0;                      // long-polls waiting on it
  size_t subscribers = 0;                     // session streams subscribed to it
  size_t sources = 0;                         // a session stream's sources
};

using InspectCallback = std::function<void(InspectOutcome)>;

}  // namespace durablestreams

#endif  // DURABLESTREAMS_INSPECT_H_

// lib/engine/stream_state.h
//
// The engine's in-memory state of a stream: the published snapshot of its
// record, the Stream object readers and the writer meet on, and the live
// readers (long-poll waiters, SSE readers) registered on it.
//
// Thread safety: as each member says; Stream::mu guards what is marked so.
#ifndef DURABLESTREAMS_LIB_ENGINE_STREAM_STATE_H_
#define DURABLESTREAMS_LIB_ENGINE_STREAM_STATE_H_

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "durablestreams/storage.h"
#include "durablestreams/stream_engine.h"
#include "engine/sse_session.h"
#include "engine/timer.h"
#include "protocol/headers.h"

namespace durablestreams::engine {

// A published snapshot of one stream: immutable, replaced after every
// commit that changes the stream.
struct StreamMeta {
  StreamRecord rec;
  std::string media_type;
  bool json = false;
  bool text = false;
};

inline std::shared_ptr<const StreamMeta> MakeMeta(const StreamRecord& rec) {
  auto m = std::make_shared<StreamMeta>();
  m->rec = rec;
  m->media_type = protocol::MediaType(rec.content_type);
  m->json = protocol::IsJsonMediaType(m->media_type);
  m->text = protocol::IsTextMediaType(m->media_type);
  return m;
}

// What outcomes say of a stream's configuration and extent.
inline StreamInfo DescribeStream(const StreamRecord& rec) {
  StreamInfo info;
  info.content_type = rec.content_type;
  info.next_offset = rec.tail;
  info.closed = rec.closed;
  info.ttl_seconds = rec.ttl_seconds;
  info.expires_at_ms = rec.expires_at_ms;
  info.public_read = rec.public_read;
  info.reader_key = rec.reader_key;
  return info;
}

struct LongPollWaiter;
struct LiveReader;

// One live stream. Readers copy `meta` and read storage below its tail;
// the writer swaps it under `mu`, and takes the waiters and readers to wake
// under the same lock.
struct Stream {
  Stream(int64_t id_in, std::string path_in) : id(id_in), path(std::move(path_in)) {}

  std::shared_ptr<const StreamMeta> Snapshot(bool* gone_out) {
    std::lock_guard<std::mutex> lock(mu);
    *gone_out = gone;
    return meta;
  }
  void Touch(int64_t now) {
    int64_t prev = last_access_ms.load();
    while (prev < now && !last_access_ms.compare_exchange_weak(prev, now)) {
    }
    touched = true;
  }

  const int64_t id;
  const std::string path;
  std::atomic<int64_t> last_access_ms{0};  // newest read or write
  std::atomic<bool> touched{false};        // a read moved last_access_ms

  std::mutex mu;
  std::shared_ptr<const StreamMeta> meta;                // guarded by mu
  bool gone = false;                                     // guarded by mu
  std::vector<std::shared_ptr<LongPollWaiter>> waiters;  // guarded by mu
  std::vector<std::shared_ptr<LiveReader>> readers;      // guarded by mu
};

// Whether `rec` (with `s`'s newest access, when given) has expired at `now`.
inline bool Expired(const StreamRecord& rec, const Stream* s, int64_t now) {
  if (rec.expires_at_ms && now >= *rec.expires_at_ms) return true;
  if (rec.ttl_seconds) {
    int64_t last = rec.last_access_ms;
    if (s) last = std::max(last, s->last_access_ms.load());
    if (now >= last + *rec.ttl_seconds * 1000) return true;
  }
  return false;
}

// A long-poll waiting at the tail. Claim() decides who answers it: the
// writer that brings data, the timeout, or shutdown.
struct LongPollWaiter {
  std::shared_ptr<Stream> stream;
  uint64_t offset = 0;
  std::string client_cursor;
  bool shareable = false;  // ReadOutcome::shareable of its answer
  ReadCallback done;
  std::atomic<bool> fired{false};
  Timer::Id timer = 0;
  bool Claim() { return !fired.exchange(true); }
};

// An SSE response following a stream.
struct LiveReader {
  std::shared_ptr<SseSession> session;
  std::string client_cursor;
  bool base64 = false;
  bool json = false;
  uint64_t next_pos = 0;  // after registration: the writer only (writer_busy_)
  // While catching up: the snapshot being read (then null).
  std::shared_ptr<const StreamMeta> catchup_meta;
  bool sent_control = false;
  Timer::Id lifetime_timer = 0;
  Timer::Id heartbeat_timer = 0;
};

}  // namespace durablestreams::engine

#endif  // DURABLESTREAMS_LIB_ENGINE_STREAM_STATE_H_

// include/durablestreams/stream_watch.h
//
// Watching the set of streams from beside the engine, as subscriptions do:
// StreamEngine::ListStreams gives the published streams under a path
// prefix, and Options::on_stream_change is told, after each group commit,
// which streams it created or appended to and where their tails now are.
// Between the two nothing is missed: a change published after a listing
// began is reported to on_stream_change as well (it may also appear in the
// listing, so a watcher takes the larger tail).
//
// Thread safety: on_stream_change runs on the thread that committed (the
// commit thread, or a caller of Append with Options::commit_on_caller),
// once the batch is visible to readers and before its answers (whatever a
// client does after its append is acknowledged comes after the hook heard
// of the append), with no engine lock held. It must not block and must not
// wait for the engine: it delays every answer of the batch. Handing the
// summaries to a thread of its own is the expected use.
#ifndef DURABLESTREAMS_STREAM_WATCH_H_
#define DURABLESTREAMS_STREAM_WATCH_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace durablestreams {

struct StreamSummary {
  std::string path;
  uint64_t tail = 0;  // the position after the last byte: the next offset
  int64_t created_at_ms = 0;
  bool closed = false;
};

using StreamChangeFn = std::function<void(const std::vector<StreamSummary>& changed)>;

}  // namespace durablestreams

#endif  // DURABLESTREAMS_STREAM_WATCH_H_

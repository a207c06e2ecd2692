// include/durablestreams/options.h
//
// Options for StreamEngine. Every field has a default; each paragraph says
// what the setting trades.
//
// Thread safety: Options is a plain value, copied into the engine at Open().
#ifndef DURABLESTREAMS_OPTIONS_H_
#define DURABLESTREAMS_OPTIONS_H_

#include <chrono>
#include <functional>
#include <cstddef>
#include <memory>
#include <string>

#include "durablestreams/auth.h"
#include "durablestreams/clock.h"
#include "durablestreams/metrics.h"
#include "durablestreams/node_ring.h"
#include "durablestreams/request.h"
#include "durablestreams/segment_store.h"
#include "durablestreams/storage.h"
#include "durablestreams/stream_watch.h"

namespace durablestreams {

// Cache-Control for catch-up and long-poll reads (PROTOCOL.md §10.1).
enum class CacheVisibility { kPublic, kPrivate, kNoStore };

struct Options {
  // Storage to use. Shared so the embedder may keep a reference; the engine
  // uses it until it is destroyed. Null: the engine opens the default one,
  // OpenDefaultStorage(default_storage) (storage.h): the SQLite hot log in
  // default_storage.data_dir with the cold tier in a directory beside it.
  std::shared_ptr<Storage> storage;
  DefaultStorageOptions default_storage;

  // How long a long-poll read waits for data before answering 204. Longer
  // means fewer round trips for idle streams; shorter frees proxies sooner.
  std::chrono::milliseconds long_poll_timeout{30000};

  // An SSE response is ended after this long so CDNs can collapse readers
  // (PROTOCOL.md §10.2 suggests about 60 s). The client reconnects.
  std::chrono::milliseconds sse_max_duration{60000};

  // An SSE comment line is sent after this much silence so idle proxies do
  // not cut the connection. Zero disables heartbeats.
  std::chrono::milliseconds sse_heartbeat{15000};

  // Largest request body accepted (413 above it). Bounds memory per request.
  size_t max_body_bytes = 8 * 1024 * 1024;

  // Largest catch-up response body (a read returns at least one message even
  // if it is larger). Smaller chunks cache better; larger ones need fewer
  // round trips.
  size_t max_read_bytes = 1024 * 1024;

  // Identical catch-up reads (same stream, offset and tail) share one
  // storage read and one encoded body: a read waits for an identical one
  // in flight, and recent results are kept, up to this many bytes of
  // bodies in all (least recently used dropped first). 0: every read goes
  // to the store.
  size_t read_cache_bytes = 32 * 1024 * 1024;

  // Most operations that share one commit. Larger batches amortize fsync
  // better but hold more memory.
  size_t max_batch_ops = 4096;

  // An append that finds no commit running and none queued, while the last
  // batch held a single operation, is committed on the thread that called
  // Handle() instead of the commit thread: a lone writer then pays no thread
  // hand-offs, and concurrent writers still share commits on the commit
  // thread. Handle() then returns after the commit (and the callback has
  // run). false: Handle() never waits for storage.
  bool commit_on_caller = true;

  // An idempotent producer's state (PROTOCOL.md §5.2) that no accepted
  // append has used for this long is dropped; that producer's next append
  // must then start at seq 0, as a new producer's does. Zero keeps every
  // producer's state as long as its stream lives. The check runs once a
  // minute, so state may outlive the limit by up to a minute.
  std::chrono::seconds producer_ttl{7 * 24 * 3600};

  // A session stream (estuary.h) expires this long after its last
  // subscribe. Each subscribe renews it.
  std::chrono::seconds estuary_ttl{24 * 3600};

  // Cache-Control of catch-up and long-poll 200 responses.
  CacheVisibility cache_visibility = CacheVisibility::kPublic;

  // Wall clock for TTL, expiry and cursors; SystemClock() when null.
  std::shared_ptr<Clock> clock;

  // Authorization hooks (see auth.h). Empty functions allow everything.
  AuthorizeFn authorize_read;
  AuthorizeFn authorize_mutation;

  // The Access-Control-Allow-Origin of the answer to a request that carries
  // an Origin header (preflights too): none, "*" (the default when this is
  // empty); "", no such header (the browser refuses the response); or the
  // origin to allow (with Vary: Origin). ProjectJwtAuth answers per project.
  CorsOriginFn cors_origin;

  // Told after each group commit which streams it created or appended to
  // (stream_watch.h). Empty: nothing is collected, no cost.
  StreamChangeFn on_stream_change;

  // Called first by Handle() (after CORS and preflights) with every
  // request: returns true if it took the request, and will answer `done`
  // itself; false to let the engine handle it. The reserved `__ds` control
  // APIs are served this way (subscriptions). Empty: nothing is taken.
  std::function<bool(Request& request, const std::function<void(Response)>& done)> intercept;

  // The registry (docs/registry.md): the path of the JSON stream that the
  // creation and deletion of the stream `path` are announced in, appended
  // in the same commit as the change; "" for none. A registry stream is
  // made by its first event, is never announced itself, and refuses writes
  // through Handle() (405). Empty: no registry. The server's --registry
  // sets "__registry__" (per project, "{project}/__registry__").
  std::function<std::string(std::string_view path)> registry_path;

  // Where the engine counts its work: appends, commits, reads, live
  // readers, auth refusals, the store's StorageStats (docs/operations.md
  // lists every series). Counting is relaxed atomics on the paths it
  // touches. Null: nothing is counted.
  std::shared_ptr<Metrics> metrics;

  // Every response of Handle() carries a Server-Timing header (parse,
  // auth, queue, commit, read, encode), not only those to requests that
  // ask with `X-Debug-Timing: 1`.
  bool server_timing = false;

  // This server is one node of a cluster (node_ring.h): Handle() answers a
  // request for a stream another node owns with 421 Misdirected Request,
  // {"code":"MISDIRECTED"} and that node's name in X-Owner-Node, before
  // looking at it further, so a misrouted write changes nothing; a fork of
  // a stream another node owns is refused with 409 FORK_SOURCE_ELSEWHERE.
  // Reads of the registry stream (each node keeps its own) are served.
  // Null: this server owns every stream.
  std::shared_ptr<const NodeRing> node_ring;
};

}  // namespace durablestreams

#endif  // DURABLESTREAMS_OPTIONS_H_

// include/durablestreams/server/event_server.h
//
// EventServer serves a StreamEngine over HTTP/1.1 with a few event-loop
// threads (epoll), however many connections are open: a waiting long-poll or
// an idle SSE reader costs a connection's buffers, not a thread. It is the
// transport of `durable-streams-server` for many live readers; the
// cpp-httplib adapter (httplib_adapter.h) stays the simple way to embed the
// engine into an existing httplib server.
//
// The wire behaviour matches the httplib adapter: streams under `prefix`,
// `GET /health`, JSON error bodies for malformed requests, 413 for bodies
// over the engine's max_body_bytes without reading them. Requests on one
// connection are answered in order (pipelining works, one at a time).
//
// With the engine's Options::commit_on_caller (the default), the append of a
// lone writer commits on the loop thread that read it: that loop waits for
// one commit (an fsync at full sync) instead of two thread hand-offs. Appends
// that arrive together still go to the commit thread and share its commits.
//
// Thread safety: Start() and Stop() from one thread; port() from any. The
// engine must outlive the server. Linux only (epoll, eventfd, timerfd).
#ifndef DURABLESTREAMS_SERVER_EVENT_SERVER_H_
#define DURABLESTREAMS_SERVER_EVENT_SERVER_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "durablestreams/server/access_log.h"
#include "durablestreams/server/request_metrics.h"
#include "durablestreams/server/route.h"
#include "durablestreams/status.h"
#include "durablestreams/stream_engine.h"

namespace durablestreams {

struct EventServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: the system picks one (see port())
  // Event-loop threads; 0 means one per CPU core.
  int threads = 0;
  // Threads that run GET and HEAD requests: a read may wait for storage
  // (SQLite, or a cold segment in object storage) and the loops must not.
  // 0 runs reads on the loops (fine when all data is local and hot).
  int read_threads = 8;
  // Streams live under this path prefix (as HttplibAdapterOptions::prefix).
  std::string prefix = "/v1/stream/";
  bool health = true;
  // Other routes (route.h), each answered on the loop thread that read it.
  std::vector<Route> routes;
  // A keep-alive connection with no request in flight is closed after this.
  std::chrono::milliseconds idle_timeout{120000};
  // Largest request head (request line and headers): 431 above it.
  size_t max_head_bytes = 64 * 1024;
  // A line per answered request (access_log.h); null: none.
  std::shared_ptr<AccessLog> access_log;
  // Requests counted by method and status class (request_metrics.h); null: none.
  std::shared_ptr<RequestMetrics> request_metrics;
};

class EventServer {
 public:
  virtual ~EventServer() = default;

  // Binds, listens and starts the event loops.
  static Result<std::unique_ptr<EventServer>> Start(StreamEngine& engine,
                                                    const EventServerOptions& options);

  // The port listened on.
  virtual int port() const = 0;

  // Stops accepting, lets responses in flight finish writing (up to about
  // two seconds), closes every connection and joins the loops. Call
  // StreamEngine::Shutdown() first so long-polls and SSE responses end.
  // Idempotent; the destructor calls it.
  virtual void Stop() = 0;
};

}  // namespace durablestreams

#endif  // DURABLESTREAMS_SERVER_EVENT_SERVER_H_

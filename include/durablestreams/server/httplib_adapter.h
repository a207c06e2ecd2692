// include/durablestreams/server/httplib_adapter.h
//
// Serves a StreamEngine from a cpp-httplib server: the simple, blocking
// transport. cpp-httplib gives every connection a worker thread for its
// lifetime, so a waiting long-poll or an open SSE response holds one thread
// (that thread blocks; the engine does not). GrowingThreadPool below gives
// the server as many threads as it has connections, up to a limit, so live
// readers never starve other requests.
//
// Thread safety: Mount() must be called before the server starts listening.
// The engine must outlive the server's last request.
//
// Part of the durablestreams::server library; the engine library never sees
// httplib.
#ifndef DURABLESTREAMS_SERVER_HTTPLIB_ADAPTER_H_
#define DURABLESTREAMS_SERVER_HTTPLIB_ADAPTER_H_

#include <httplib.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "durablestreams/server/access_log.h"
#include "durablestreams/server/request_metrics.h"
#include "durablestreams/server/route.h"
#include "durablestreams/stream_engine.h"

namespace durablestreams {

struct HttplibAdapterOptions {
  // Streams live under this path prefix: `/v1/stream/chat/42` is stream
  // `chat/42`. Must start and end with '/'.
  std::string prefix = "/v1/stream/";
  // Also serve `GET /health` (200 {"status":"ok"}).
  bool health = true;
  // Other routes (route.h).
  std::vector<Route> routes;
  // A line per answered request (access_log.h); null: none. Mount() sets
  // the server's logger (and its pre-routing handler, to time requests).
  std::shared_ptr<AccessLog> access_log;
  // Requests counted by method and status class (request_metrics.h); null:
  // none. Also set through the server's logger.
  std::shared_ptr<RequestMetrics> request_metrics;
};

// Registers the protocol's routes on `server`, sets its body limit to the
// engine's max_body_bytes (413 without reading the body) and gives its own
// error responses JSON bodies.
void Mount(httplib::Server& server, StreamEngine& engine,
           const HttplibAdapterOptions& options = {});

// cpp-httplib 0.11 (Debian 12) listens with a backlog of 5, so a burst of
// connections (many readers reconnecting at once) overflows the accept queue
// and clients wait seconds for SYN retries. Call this after bind_to_port()
// / bind_to_any_port() with the bound port: it finds this process's listening
// socket on that port and raises its backlog. Returns false if none was found.
bool WidenListenBacklog(int port, int backlog = 4096);

// A task queue for httplib::Server::new_task_queue that starts a thread
// whenever no worker is idle (up to `max_threads`; beyond that tasks queue)
// and lets a thread go after a minute without work.
class GrowingThreadPool final : public httplib::TaskQueue {
 public:
  explicit GrowingThreadPool(size_t max_threads) : max_threads_(max_threads) {}
  ~GrowingThreadPool() override { shutdown(); }

  void enqueue(std::function<void()> fn) override;
  void shutdown() override;

 private:
  void Work();

  const size_t max_threads_;
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable exit_cv_;
  std::deque<std::function<void()>> jobs_;  // guarded by mu_
  size_t threads_ = 0;                      // guarded by mu_
  size_t idle_ = 0;                         // guarded by mu_
  bool shutdown_ = false;                   // guarded by mu_
};

}  // namespace durablestreams

#endif  // DURABLESTREAMS_SERVER_HTTPLIB_ADAPTER_H_

// include/durablestreams/server/access_log.h
//
// The access log: one JSON line per request a transport answered. The
// event transport writes it when the response head goes out (for a live
// read, when the event stream starts); the httplib transport once the
// response is sent (for a live read, when it ends). Off unless a transport
// is given one (EventServerOptions, HttplibAdapterOptions;
// durable-streams-server --access-log).
//
//   {"time":"2026-12-07T10:05:00.123Z","method":"GET","path":"/v1/stream/chat/1",
//    "status":200,"bytes":512,"duration_ms":0.412,"project":"demo","live":false}
//
// `path` is the request path without its query (a query may carry a
// reader key), JSON-escaped like every string in the line, so nothing a
// client sends can break a line or forge another. `bytes` is the response
// body (for a live read, what went out with the head). `project` is what
// AccessLogOptions::project_of says of the path ("" when unset).
//
// Thread safety: Write() may be called from any thread; lines never
// interleave. Ownership: the log owns its file (not stderr).
#ifndef DURABLESTREAMS_SERVER_ACCESS_LOG_H_
#define DURABLESTREAMS_SERVER_ACCESS_LOG_H_

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "durablestreams/status.h"

namespace durablestreams {

struct AccessLogOptions {
  // "stderr", or a file to append to (created with mode 0640).
  std::string target = "stderr";
  // The project of a request path; empty: no project is logged.
  std::function<std::string(std::string_view path)> project_of;
};

struct AccessLogEntry {
  int64_t time_ms = 0;  // Unix milliseconds, when the request came in
  std::string_view method;
  std::string_view path;
  int status = 0;
  uint64_t bytes = 0;
  double duration_ms = 0;  // from the request's head read to its answer
  bool live = false;       // an SSE response
};

class AccessLog {
 public:
  static Result<std::shared_ptr<AccessLog>> Open(AccessLogOptions options);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  void Write(const AccessLogEntry& entry);

 private:
  AccessLog(AccessLogOptions options, std::FILE* file, bool owned)
      : options_(std::move(options)), file_(file), owned_(owned) {}

  AccessLogOptions options_;
  std::mutex mu_;
  std::FILE* file_;  // guarded by mu_
  bool owned_;
};

}  // namespace durablestreams

#endif  // DURABLESTREAMS_SERVER_ACCESS_LOG_H_

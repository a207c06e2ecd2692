// lib/engine/server_timing.h
//
// The Server-Timing header of one request (StreamEngine::Handle, when the
// request sends `X-Debug-Timing: 1` or Options::server_timing is on):
//
//   Server-Timing: parse;dur=0.004, auth;dur=0.011, queue;desc="queue wait";dur=0.052,
//                  commit;dur=1.204, encode;dur=0.003
//
// parse: decoding the request into a command; auth: the authorization
// hook; queue and commit: a mutation's wait for the writer and its batch
// (CommitTiming); read: a read or HEAD from dispatch to its outcome;
// encode: the outcome into the response. Milliseconds; a phase a request
// did not go through is left out.
//
// Thread safety: one request's, handed from thread to thread with it.
#ifndef DURABLESTREAMS_LIB_ENGINE_SERVER_TIMING_H_
#define DURABLESTREAMS_LIB_ENGINE_SERVER_TIMING_H_

#include <chrono>
#include <cstdio>
#include <string>

#include "durablestreams/outcomes.h"
#include "durablestreams/request.h"

namespace durablestreams::engine {

struct ServerTiming {
  using Clock = std::chrono::steady_clock;
  static double Since(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
  }

  double parse_ms = -1, auth_ms = -1, queue_ms = -1, commit_ms = -1, read_ms = -1,
         encode_ms = -1;
  Clock::time_point dispatched;

  std::string Header() const {
    std::string h;
    auto add = [&h](const char* name, const char* desc, double ms) {
      if (ms < 0) return;
      char buf[96];
      std::snprintf(buf, sizeof buf, "%s%s%s%s;dur=%.3f", h.empty() ? "" : ", ", name,
                    desc ? ";desc=" : "", desc ? desc : "", ms);
      h += buf;
    };
    add("parse", nullptr, parse_ms);
    add("auth", nullptr, auth_ms);
    add("queue", "\"queue wait\"", queue_ms);
    add("commit", nullptr, commit_ms);
    add("read", nullptr, read_ms);
    add("encode", nullptr, encode_ms);
    return h;
  }

  // Encodes with `encode`, notes the phases and sets the header.
  template <typename Encode>
  Response Finish(const CommitTiming* commit, Encode&& encode) {
    if (commit) {
      queue_ms = commit->queue_ms;
      commit_ms = commit->commit_ms;
    } else {
      read_ms = Since(dispatched);
    }
    Clock::time_point t = Clock::now();
    Response r = encode();
    encode_ms = Since(t);
    r.headers.Set("Server-Timing", Header());
    return r;
  }
};

}  // namespace durablestreams::engine

#endif  // DURABLESTREAMS_LIB_ENGINE_SERVER_TIMING_H_

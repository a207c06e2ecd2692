// lib/subscriptions/subscription_service.h
//
// Reserved subscriptions (PROTOCOL.md §6–7) beside a StreamEngine: the
// `__ds` control APIs, webhook and pull-wake delivery, durable in
// subscriptions.db.
//
// One thread of its own owns every subscription's state (wake_machine.h):
// requests, stream changes (from Options::on_stream_change), delivery
// answers and timers are posted to it and run in order, so no state is
// shared and no transport or commit thread ever waits on SQLite or the
// network. A state change is saved before its effect is carried out (a
// webhook sent, a wake event appended), so after a crash the effect is
// carried out again: at-least-once.
//
// Paths: the engine's stream paths are split into a project and a path
// within it by `split` (identity with project "" when there are no
// projects); subscriptions belong to a project and see its streams only.
//
// Thread safety: every method may be called from any thread. Handle's
// `done` runs on the service thread.
#ifndef DURABLESTREAMS_LIB_SUBSCRIPTIONS_SUBSCRIPTION_SERVICE_H_
#define DURABLESTREAMS_LIB_SUBSCRIPTIONS_SUBSCRIPTION_SERVICE_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "durablestreams/clock.h"
#include "durablestreams/request.h"
#include "durablestreams/status.h"
#include "durablestreams/stream_engine.h"
#include "durablestreams/stream_watch.h"
#include "subscriptions/webhook_sender.h"

namespace durablestreams::subscriptions {

struct SubscriptionServiceOptions {
  std::string data_dir;
  // The stream root as clients reach it, ending in '/', e.g.
  // "https://streams.example/v1/stream/": callback and JWKS URLs are made
  // from it (a project's root is root + project + '/').
  std::string public_root;
  // Engine path -> (project, path within it), and back.
  std::function<std::pair<std::string, std::string>(const std::string&)> split;
  std::function<std::string(const std::string& project, const std::string& path)> join;
  WebhookSenderOptions sender;
  std::shared_ptr<Clock> clock;  // SystemClock() when null
};

class SubscriptionService {
 public:
  // Opens subscriptions.db and the signing key; Attach before use.
  static Result<std::unique_ptr<SubscriptionService>> Open(SubscriptionServiceOptions options);
  virtual ~SubscriptionService() = default;

  // What the engine's Options::on_stream_change should call.
  virtual StreamChangeFn ChangeHook() = 0;
  // Loads the subscriptions, reads their streams' tails from `engine`
  // (which must outlive Stop) and starts the thread.
  virtual Status Attach(StreamEngine* engine) = 0;

  // A request of `project` under its `__ds/`: `rest` is the path after it.
  virtual void Handle(std::string project, std::string rest, Request request,
                      ResponseCallback done) = 0;

  // The stream root as clients reach it, when it is known only after the
  // transport has started (port 0).
  virtual void SetPublicRoot(std::string root) = 0;

  virtual void Stop() = 0;
};

}  // namespace durablestreams::subscriptions

#endif  // DURABLESTREAMS_LIB_SUBSCRIPTIONS_SUBSCRIPTION_SERVICE_H_

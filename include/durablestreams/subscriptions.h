// include/durablestreams/subscriptions.h
//
// Reserved subscriptions (PROTOCOL.md §6–7) beside a StreamEngine: the
// `__ds` control APIs, webhook and pull-wake delivery, durable in
// subscriptions.db in the data directory (docs/subscriptions.md). Wiring:
//
//   auto service = SubscriptionService::Open({.data_dir = dir, ...});
//   UseSubscriptions(&options, service->get());   // before StreamEngine::Open
//   auto engine = StreamEngine::Open(options);
//   (*service)->Attach(engine->get());            // before serving
//   ... serve ...
//   stop the transport, then service->Stop(), then the engine.
//
// One thread of the service's own owns every subscription's state:
// requests, stream changes (Options::on_stream_change), webhook answers and
// timers are posted to it and run in order, so no transport or commit
// thread ever waits on SQLite or the network. A state change is saved
// before its effect is carried out (a webhook sent, a wake event appended),
// so after a crash the effect is carried out again: at-least-once.
//
// Paths: without projects, `__ds/...` at the stream root. With projects
// (`projects = true`, as with project auth, project_auth.h), each project
// has its own under its path, `{project}/__ds/...` (`__ds/...` for
// `_default`), and its subscriptions see its streams only. The control
// APIs (subscriptions, their streams, claim) ask `authorize_control`;
// callback, ack and release carry the wake's own token; jwks.json is open.
//
// Thread safety: every method may be called from any thread; Handle's
// `done` runs on the service thread. Ownership: the caller owns the
// service; it must outlive the engine's use of the hooks (Stop it after
// the transport and before the engine).
#ifndef DURABLESTREAMS_SUBSCRIPTIONS_H_
#define DURABLESTREAMS_SUBSCRIPTIONS_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "durablestreams/auth.h"
#include "durablestreams/clock.h"
#include "durablestreams/options.h"
#include "durablestreams/request.h"
#include "durablestreams/status.h"
#include "durablestreams/stream_engine.h"
#include "durablestreams/stream_watch.h"

namespace durablestreams::subscriptions {

// Bounds on outbound webhook requests.
struct WebhookLimits {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds total_timeout{10000};
  size_t max_concurrent = 64;           // deliveries in flight; more wait
  size_t max_answer_bytes = 64 * 1024;  // a longer answer fails the delivery
};

struct SubscriptionServiceOptions {
  std::string data_dir;  // required: subscriptions.db and the signing keys
  // The stream root as clients reach it, ending in '/', e.g.
  // "https://streams.example/v1/stream/": callback and JWKS URLs are made
  // from it. May be set later (SetPublicRoot) when it is known only after
  // the transport has bound its port.
  std::string public_root;
  bool projects = false;                 // stream paths begin with their project (above)
  ControlAuthorizeFn authorize_control;  // null: every control request allowed
  WebhookLimits webhooks;
  std::shared_ptr<Clock> clock;  // SystemClock() when null
  // Counts webhook deliveries (durable_streams_webhook_deliveries_total)
  // and failures (durable_streams_webhook_failures_total). Null: none.
  std::shared_ptr<Metrics> metrics;
};

class SubscriptionService {
 public:
  // Opens subscriptions.db and the signing key (made on first use).
  static Result<std::unique_ptr<SubscriptionService>> Open(SubscriptionServiceOptions options);
  virtual ~SubscriptionService() = default;

  // What the engine's Options::on_stream_change should call.
  virtual StreamChangeFn ChangeHook() = 0;
  // Loads the subscriptions, reads their streams' tails from `engine`
  // (which must outlive Stop) and starts the thread.
  virtual Status Attach(StreamEngine* engine) = 0;

  // Options::intercept: takes a request whose path is a `__ds` path (see
  // Paths above) and answers it; returns false for any other.
  virtual bool Intercept(Request& request, const ResponseCallback& done) = 0;

  virtual void SetPublicRoot(std::string root) = 0;

  virtual void Stop() = 0;
};

// Sets options->on_stream_change and options->intercept to `service`'s.
void UseSubscriptions(Options* options, SubscriptionService* service);

// Webhook signing keys (docs/subscriptions.md, "Key rotation"): Rotate
// makes a new active key and keeps the one before it as the previous key
// (replacing an older previous key); a service opened after it signs with
// the new key and publishes both in its JWKS. Retire removes the previous
// key. Both are for a data directory no service has open, or one that is
// restarted after: a running service keeps the keys it opened with.
Status RotateWebhookKey(const std::string& data_dir);
Status RetireWebhookKey(const std::string& data_dir);

}  // namespace durablestreams::subscriptions

#endif  // DURABLESTREAMS_SUBSCRIPTIONS_H_

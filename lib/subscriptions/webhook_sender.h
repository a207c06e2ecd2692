// lib/subscriptions/webhook_sender.h
//
// Sends webhook deliveries: libcurl's multi interface on one thread of its
// own, so no delivery ever waits on the commit thread or a transport's
// loop, and a slow receiver holds nothing but its own transfer.
//
// Every delivery is bounded: a connect timeout and a total timeout, no
// redirects followed, http and https only, no proxy from the environment
// (a proxy would hide the address connected to), a cap on the answer's
// bytes kept, and a cap on deliveries at once (more wait their turn). The
// address a name resolves to is checked when the socket is opened
// (url_policy.h: AddressAllowed), so DNS cannot point a delivery inside.
//
// Thread safety: Send and Stop may be called from any thread. `done` runs
// on the sender's thread, once per Send (with ok = false if the sender
// stops first); it must not block.
#ifndef DURABLESTREAMS_LIB_SUBSCRIPTIONS_WEBHOOK_SENDER_H_
#define DURABLESTREAMS_LIB_SUBSCRIPTIONS_WEBHOOK_SENDER_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "durablestreams/status.h"

namespace durablestreams::subscriptions {

struct WebhookSenderOptions {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds total_timeout{10000};
  size_t max_concurrent = 64;
  size_t max_answer_bytes = 64 * 1024;
  std::string user_agent = "durable-streams-webhook";
};

struct DeliveryResult {
  bool ok = false;    // answered 2xx
  bool done = false;  // and the answer was {"done": true, ...}
  long status = 0;    // the HTTP status, 0 if there was none
  std::string error;  // why not, for logs
};

struct Delivery {
  std::string url;
  std::string body;
  std::string signature;  // the Webhook-Signature value
  std::function<void(DeliveryResult)> done;
};

class WebhookSender {
 public:
  static Result<std::unique_ptr<WebhookSender>> Start(WebhookSenderOptions options);
  virtual ~WebhookSender() = default;

  virtual void Send(Delivery delivery) = 0;
  // Ends every transfer (their `done` gets ok = false) and the thread.
  virtual void Stop() = 0;
};

}  // namespace durablestreams::subscriptions

#endif  // DURABLESTREAMS_LIB_SUBSCRIPTIONS_WEBHOOK_SENDER_H_

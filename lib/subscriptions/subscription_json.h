// lib/subscriptions/subscription_json.h
//
// The JSON bodies of the control APIs and deliveries (PROTOCOL.md §6.3,
// §7.1, §7.2), written from a subscription's state, and the body of a
// callback, ack or release, read. Every string goes
// through the one JSON string encoder (protocol/errors.h), so nothing a
// client sent can break out of its value.
//
// Thread safety: pure functions.
#ifndef DURABLESTREAMS_LIB_SUBSCRIPTIONS_SUBSCRIPTION_JSON_H_
#define DURABLESTREAMS_LIB_SUBSCRIPTIONS_SUBSCRIPTION_JSON_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "subscriptions/wake_machine.h"

namespace durablestreams::subscriptions {

// Where the server is reached and how it signs, for the bodies that say so.
struct Endpoints {
  std::string root;  // the stream root as clients reach it, ending in '/'
  std::string kid;   // the active webhook signing key
  std::string jwks_url() const { return root + "__ds/jwks.json"; }
  std::string action_url(const std::string& id, const char* action) const;
};

// GET/PUT …/__ds/subscriptions/{id}.
std::string SubscriptionBody(const std::string& id, int64_t created_ms, const WakeMachine& m,
                             const Endpoints& at);

// The webhook POST of the current wake.
std::string WakeNotificationBody(const std::string& id, const WakeMachine& m,
                                 const std::string& callback_token, const Endpoints& at);

// A pull-wake event appended to the wake stream (a JSON array of one, as
// JSON-mode appends take them).
std::string WakeEventBody(const std::string& id, const std::string& stream, int64_t generation,
                          int64_t now_ms);

// A successful claim.
std::string ClaimBody(const WakeMachine& m, const std::string& token);

// The body of a callback, ack or release: {"wake_id", "generation",
// "acks": [{"stream", "offset"}], "done"}; none if it is not that.
struct WakeRequest {
  std::string wake_id;
  int64_t generation = -1;
  std::vector<Ack> acks;
  bool done = false;
};
std::optional<WakeRequest> ParseWakeRequest(const std::string& body);

// `"2026-05-09T00:00:00.000Z"` for Unix milliseconds.
std::string IsoTime(int64_t unix_ms);

}  // namespace durablestreams::subscriptions

#endif  // DURABLESTREAMS_LIB_SUBSCRIPTIONS_SUBSCRIPTION_JSON_H_

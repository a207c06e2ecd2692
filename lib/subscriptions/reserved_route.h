// lib/subscriptions/reserved_route.h
//
// Which control API a request under the reserved `__ds/` prefix names
// (PROTOCOL.md §6–7), from its method and the path after `__ds/`
// (percent-decoded, as the engine sees paths):
//
//   PUT|GET|DELETE subscriptions/{id}
//   POST           subscriptions/{id}/streams
//   DELETE         subscriptions/{id}/streams/{path...}   (path may hold '/')
//   POST           subscriptions/{id}/callback | claim | ack | release
//   GET|HEAD       jwks.json
//
// A path that is none of these is kNotFound (404 SUBSCRIPTION_NOT_FOUND);
// a known path with another method is kMethodNotAllowed (405, with the
// methods it takes). Subscription ids are 1 to 256 bytes of
// [A-Za-z0-9._~:@-] (no '/', so the id ends at the next segment).
//
// Thread safety: pure function.
#ifndef DURABLESTREAMS_LIB_SUBSCRIPTIONS_RESERVED_ROUTE_H_
#define DURABLESTREAMS_LIB_SUBSCRIPTIONS_RESERVED_ROUTE_H_

#include <string>
#include <string_view>

#include "durablestreams/request.h"

namespace durablestreams::subscriptions {

enum class ReservedRoute {
  kNotFound,
  kMethodNotAllowed,
  kPutSubscription,
  kGetSubscription,
  kDeleteSubscription,
  kAddStreams,
  kRemoveStream,
  kCallback,
  kClaim,
  kAck,
  kRelease,
  kJwks,
};

struct ReservedTarget {
  ReservedRoute route = ReservedRoute::kNotFound;
  std::string id;      // the subscription, for its routes
  std::string stream;  // kRemoveStream: the stream path
  std::string allow;   // kMethodNotAllowed: the Allow header's value
};

inline constexpr size_t kMaxSubscriptionIdBytes = 256;

ReservedTarget RouteReserved(Method method, std::string_view rest);

}  // namespace durablestreams::subscriptions

#endif  // DURABLESTREAMS_LIB_SUBSCRIPTIONS_RESERVED_ROUTE_H_

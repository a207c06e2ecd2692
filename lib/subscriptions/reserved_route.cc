// lib/subscriptions/reserved_route.cc: routing under __ds/ (reserved_route.h).
#include "subscriptions/reserved_route.h"

namespace durablestreams::subscriptions {

namespace {

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~' || c == ':' || c == '@';
}

bool IsId(std::string_view id) {
  if (id.empty() || id.size() > kMaxSubscriptionIdBytes || id == "." || id == "..") return false;
  for (char c : id) {
    if (!IsIdChar(c)) return false;
  }
  return true;
}

ReservedTarget Only(Method method, Method a, ReservedRoute route, const char* allow,
                    std::string id = {}) {
  ReservedTarget t;
  t.id = std::move(id);
  if (method == a) {
    t.route = route;
  } else {
    t.route = ReservedRoute::kMethodNotAllowed;
    t.allow = allow;
  }
  return t;
}

}  // namespace

ReservedTarget RouteReserved(Method method, std::string_view rest) {
  ReservedTarget t;
  if (rest == "jwks.json") {
    if (method == Method::kGet || method == Method::kHead) {
      t.route = ReservedRoute::kJwks;
    } else {
      t.route = ReservedRoute::kMethodNotAllowed;
      t.allow = "GET, HEAD";
    }
    return t;
  }
  constexpr std::string_view kSubs = "subscriptions/";
  if (rest.substr(0, kSubs.size()) != kSubs) return t;
  rest.remove_prefix(kSubs.size());
  size_t slash = rest.find('/');
  std::string_view id = rest.substr(0, slash);
  if (!IsId(id)) return t;
  if (slash == std::string_view::npos) {
    t.id = std::string(id);
    switch (method) {
      case Method::kPut: t.route = ReservedRoute::kPutSubscription; break;
      case Method::kGet: t.route = ReservedRoute::kGetSubscription; break;
      case Method::kDelete: t.route = ReservedRoute::kDeleteSubscription; break;
      default: t.route = ReservedRoute::kMethodNotAllowed; t.allow = "GET, PUT, DELETE";
    }
    return t;
  }
  std::string_view action = rest.substr(slash + 1);
  std::string sid(id);
  if (action == "streams") {
    return Only(method, Method::kPost, ReservedRoute::kAddStreams, "POST", sid);
  }
  if (action.substr(0, 8) == "streams/" && action.size() > 8) {
    ReservedTarget r = Only(method, Method::kDelete, ReservedRoute::kRemoveStream, "DELETE", sid);
    r.stream = std::string(action.substr(8));
    return r;
  }
  if (action == "callback")
    return Only(method, Method::kPost, ReservedRoute::kCallback, "POST", sid);
  if (action == "claim") return Only(method, Method::kPost, ReservedRoute::kClaim, "POST", sid);
  if (action == "ack") return Only(method, Method::kPost, ReservedRoute::kAck, "POST", sid);
  if (action == "release") return Only(method, Method::kPost, ReservedRoute::kRelease, "POST", sid);
  return t;
}

}  // namespace durablestreams::subscriptions

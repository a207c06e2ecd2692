// Unit tests of routing under __ds/ (lib/subscriptions/reserved_route.h).
#include "subscriptions/reserved_route.h"

#include <catch2/catch.hpp>

using namespace durablestreams;
using namespace durablestreams::subscriptions;

TEST_CASE("reserved routes: each control API by method and path; the rest 404 or 405") {
  auto row = GENERATE(table<Method, const char*, ReservedRoute, const char*>({
      {Method::kPut, "subscriptions/sub-1", ReservedRoute::kPutSubscription, "sub-1"},
      {Method::kGet, "subscriptions/sub-1", ReservedRoute::kGetSubscription, "sub-1"},
      {Method::kDelete, "subscriptions/sub-1", ReservedRoute::kDeleteSubscription, "sub-1"},
      {Method::kPost, "subscriptions/sub-1", ReservedRoute::kMethodNotAllowed, "sub-1"},
      {Method::kPost, "subscriptions/s/streams", ReservedRoute::kAddStreams, "s"},
      {Method::kGet, "subscriptions/s/streams", ReservedRoute::kMethodNotAllowed, "s"},
      {Method::kDelete, "subscriptions/s/streams/a/b", ReservedRoute::kRemoveStream, "s"},
      {Method::kPost, "subscriptions/s/callback", ReservedRoute::kCallback, "s"},
      {Method::kPost, "subscriptions/s/claim", ReservedRoute::kClaim, "s"},
      {Method::kPost, "subscriptions/s/ack", ReservedRoute::kAck, "s"},
      {Method::kPost, "subscriptions/s/release", ReservedRoute::kRelease, "s"},
      {Method::kGet, "subscriptions/s/release", ReservedRoute::kMethodNotAllowed, "s"},
      {Method::kGet, "jwks.json", ReservedRoute::kJwks, ""},
      {Method::kHead, "jwks.json", ReservedRoute::kJwks, ""},
      {Method::kPost, "jwks.json", ReservedRoute::kMethodNotAllowed, ""},
      {Method::kGet, "subscriptions/s/other", ReservedRoute::kNotFound, ""},
      {Method::kGet, "subscriptions/", ReservedRoute::kNotFound, ""},
      {Method::kGet, "subscriptions/..", ReservedRoute::kNotFound, ""},
      {Method::kGet, "subscriptions/a b", ReservedRoute::kNotFound, ""},
      {Method::kGet, "subscriptions", ReservedRoute::kNotFound, ""},
      {Method::kGet, "anything", ReservedRoute::kNotFound, ""},
      {Method::kDelete, "subscriptions/s/streams/", ReservedRoute::kNotFound, ""},
  }));
  CAPTURE(std::get<1>(row));
  ReservedTarget t = RouteReserved(std::get<0>(row), std::get<1>(row));
  CHECK(t.route == std::get<2>(row));
  CHECK(t.id == std::get<3>(row));
  if (t.route == ReservedRoute::kMethodNotAllowed) CHECK_FALSE(t.allow.empty());
  if (t.route == ReservedRoute::kRemoveStream) CHECK(t.stream == "a/b");
}

TEST_CASE("reserved routes: an id is at most 256 bytes") {
  CHECK(RouteReserved(Method::kGet, "subscriptions/" + std::string(256, 'a')).route ==
        ReservedRoute::kGetSubscription);
  CHECK(RouteReserved(Method::kGet, "subscriptions/" + std::string(257, 'a')).route ==
        ReservedRoute::kNotFound);
}

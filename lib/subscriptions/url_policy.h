// lib/subscriptions/url_policy.h
//
// Which webhook URLs a subscription may name, and which addresses a
// delivery may connect to (PROTOCOL.md §6.2, against SSRF):
//
// - `https://` to a public address: never loopback, private (RFC 1918),
//   carrier-grade NAT, link-local, unique-local, multicast, reserved or
//   documentation ranges, in IPv4 or IPv6 (IPv4-mapped and NAT64 addresses
//   are judged by the IPv4 address inside);
// - `http://` only to loopback (`localhost`, 127.0.0.0/8, [::1]): the
//   spec's development exception;
// - nothing else: no other scheme, no user:password@, no fragment.
//
// The URL text is checked when a subscription is made (CheckWebhookUrl);
// the address a name resolves to is checked again on every connection
// (AddressAllowed, from libcurl's socket callback), so a DNS name that
// later points inside is refused then.
//
// Thread safety: pure functions.
#ifndef DURABLESTREAMS_LIB_SUBSCRIPTIONS_URL_POLICY_H_
#define DURABLESTREAMS_LIB_SUBSCRIPTIONS_URL_POLICY_H_

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "durablestreams/status.h"

namespace durablestreams::subscriptions {

struct WebhookTarget {
  bool https = false;
  std::string host;  // as written, without the brackets of an IPv6 literal
  uint16_t port = 0;
};

inline constexpr size_t kMaxWebhookUrlBytes = 2048;

// The URL's parts if it may be used; InvalidArgument with the reason if not.
Result<WebhookTarget> CheckWebhookUrl(std::string_view url);

// Whether a delivery over https (or http) may connect to this address.
bool AddressAllowed(const sockaddr* address, bool https);

}  // namespace durablestreams::subscriptions

#endif  // DURABLESTREAMS_LIB_SUBSCRIPTIONS_URL_POLICY_H_

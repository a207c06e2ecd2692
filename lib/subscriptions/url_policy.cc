// lib/subscriptions/url_policy.cc: which webhook targets are allowed
// (url_policy.h).
#include "subscriptions/url_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace durablestreams::subscriptions {

namespace {

bool Within(uint32_t a, uint32_t net, int bits) {
  uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
  return (a & mask) == net;
}

// `a` in host order.
bool PublicV4(uint32_t a) {
  static const struct {
    uint32_t net;
    int bits;
  } kRefused[] = {
      {0x00000000, 8},   // "this network"
      {0x0A000000, 8},   // RFC 1918
      {0x64400000, 10},  // carrier-grade NAT
      {0x7F000000, 8},   // loopback
      {0xA9FE0000, 16},  // link-local (cloud metadata lives here)
      {0xAC100000, 12},  // RFC 1918
      {0xC0000000, 24},  // IETF protocol assignments
      {0xC0000200, 24},  // documentation
      {0xC0A80000, 16},  // RFC 1918
      {0xC6120000, 15},  // benchmarking
      {0xC6336400, 24},  // documentation
      {0xCB007100, 24},  // documentation
      {0xE0000000, 4},   // multicast
      {0xF0000000, 4},   // reserved, broadcast
  };
  for (const auto& r : kRefused) {
    if (Within(a, r.net, r.bits)) return false;
  }
  return true;
}

uint32_t V4At(const uint8_t* b) {
  return uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3];
}

bool PublicV6(const uint8_t* b) {
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static const uint8_t kNat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (std::memcmp(b, kMapped, 12) == 0 || std::memcmp(b, kNat64, 12) == 0) {
    return PublicV4(V4At(b + 12));
  }
  if (b[0] == 0x20 && b[1] == 0x02) return PublicV4(V4At(b + 2));  // 6to4
  static const uint8_t kZero[12] = {};
  if (std::memcmp(b, kZero, 12) == 0) return false;      // ::, ::1, IPv4-compatible
  if ((b[0] & 0xfe) == 0xfc) return false;               // unique local fc00::/7
  if (b[0] == 0xfe && (b[1] & 0xc0) != 0) return false;  // fe80::/10, fec0::/10
  if (b[0] == 0xff) return false;                        // multicast
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return false;  // docs
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0) return false;        // Teredo
  if (b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) return false;     // local NAT64
  if (b[0] == 0x01 && b[1] == 0 && b[2] == 0 && b[3] == 0) return false;  // discard 100::/64
  return true;
}

bool LoopbackV4(uint32_t a) {
  return Within(a, 0x7F000000, 8);
}

bool LoopbackV6(const uint8_t* b) {
  static const uint8_t kOne[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(b, kOne, 16) == 0) return true;
  return std::memcmp(b, kMapped, 12) == 0 && LoopbackV4(V4At(b + 12));
}

char Lower(char c) {
  return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

bool IsNameLoopback(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (IEquals(host, "localhost")) return true;
  return host.size() > 10 && IEquals(host.substr(host.size() - 10), ".localhost");
}

Status Rejected(const char* why) {
  return Status::InvalidArgument(why);
}

}  // namespace

Result<WebhookTarget> CheckWebhookUrl(std::string_view url) {
  if (url.size() > kMaxWebhookUrlBytes) return Rejected("the webhook URL is too long");
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '\\') {
      return Rejected("the webhook URL has a space, a control character or a backslash");
    }
  }
  if (url.find('#') != std::string_view::npos) return Rejected("the webhook URL has a fragment");
  WebhookTarget t;
  size_t colon = url.find("://");
  if (colon == std::string_view::npos) return Rejected("the webhook URL has no scheme");
  std::string_view scheme = url.substr(0, colon);
  if (IEquals(scheme, "https")) {
    t.https = true;
  } else if (!IEquals(scheme, "http")) {
    return Rejected("a webhook URL is https (or http to localhost)");
  }
  std::string_view rest = url.substr(colon + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
  if (authority.find('@') != std::string_view::npos) {
    return Rejected("a webhook URL may not carry a user name or password");
  }
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return Rejected("the webhook URL's host is malformed");
    t.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Rejected("the webhook URL's host is malformed");
      port_text = after.substr(1);
    }
  } else {
    size_t c = authority.find(':');
    t.host = std::string(authority.substr(0, c));
    if (c != std::string_view::npos) port_text = authority.substr(c + 1);
  }
  if (t.host.empty()) return Rejected("the webhook URL has no host");
  if (!port_text.empty() || authority.back() == ':') {
    unsigned port = 0;
    if (port_text.empty() || port_text.size() > 5)
      return Rejected("the webhook URL's port is invalid");
    for (char c : port_text) {
      if (c < '0' || c > '9') return Rejected("the webhook URL's port is invalid");
      port = port * 10 + unsigned(c - '0');
    }
    if (port == 0 || port > 65535) return Rejected("the webhook URL's port is invalid");
    t.port = static_cast<uint16_t>(port);
  } else {
    t.port = t.https ? 443 : 80;
  }

  in_addr v4;
  in6_addr v6;
  bool literal_v6 = authority.front() == '[';
  if (literal_v6) {
    if (inet_pton(AF_INET6, t.host.c_str(), &v6) != 1) {
      return Rejected("the webhook URL's host is malformed");
    }
    bool ok = t.https ? PublicV6(v6.s6_addr) : LoopbackV6(v6.s6_addr);
    if (!ok) return Rejected("the webhook URL points at a local or private network");
    return t;
  }
  for (char c : t.host) {
    bool name_char = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.';
    if (!name_char) return Rejected("the webhook URL's host is malformed");
  }
  if (inet_pton(AF_INET, t.host.c_str(), &v4) == 1) {
    uint32_t a = ntohl(v4.s_addr);
    bool ok = t.https ? PublicV4(a) : LoopbackV4(a);
    if (!ok) return Rejected("the webhook URL points at a local or private network");
    return t;
  }
  // 0x7f.1, 2130706433, 127.1: numbers a resolver reads as an address.
  if (inet_aton(t.host.c_str(), &v4) != 0) {
    return Rejected("the webhook URL's numeric host is not a dotted quad");
  }
  if (t.https ? IsNameLoopback(t.host) : !IsNameLoopback(t.host)) {
    return Rejected(t.https ? "the webhook URL points at a local or private network"
                            : "http webhooks may only go to localhost; use https");
  }
  return t;
}

bool AddressAllowed(const sockaddr* address, bool https) {
  if (address->sa_family == AF_INET) {
    uint32_t a = ntohl(reinterpret_cast<const sockaddr_in*>(address)->sin_addr.s_addr);
    return https ? PublicV4(a) : LoopbackV4(a);
  }
  if (address->sa_family == AF_INET6) {
    const uint8_t* b = reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr.s6_addr;
    return https ? PublicV6(b) : LoopbackV6(b);
  }
  return false;
}

}  // namespace durablestreams::subscriptions

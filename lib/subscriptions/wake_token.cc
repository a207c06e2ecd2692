// lib/subscriptions/wake_token.cc: wake tokens (wake_token.h).
#include "subscriptions/wake_token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>
#include <vector>

#include "auth/base64url.h"
#include "auth/digest.h"

namespace durablestreams::subscriptions {

namespace {

constexpr std::string_view kPrefix = "dsw1.";

bool ParseInt(std::string_view text, int64_t* out) {
  if (text.empty() || text.size() > 19) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && *out >= 0;
}

}  // namespace

std::string MintWakeToken(const WakeToken& t, std::string_view key) {
  std::string payload = t.project + '\n' + t.subscription + '\n' + std::to_string(t.generation) +
                        '\n' + t.wake_id + '\n' + std::to_string(t.exp_ms);
  std::string token = std::string(kPrefix) + auth::Base64UrlEncode(payload);
  std::string mac = auth::Base64UrlEncode(auth::HmacSha256(key, token));
  return token + '.' + mac;
}

WakeTokenCheck VerifyWakeToken(std::string_view text, std::string_view key, int64_t now_ms) {
  WakeTokenCheck result;
  if (text.size() > 4096 || text.substr(0, kPrefix.size()) != kPrefix) return result;
  size_t dot = text.rfind('.');
  if (dot < kPrefix.size()) return result;
  std::string expected = auth::Base64UrlEncode(auth::HmacSha256(key, text.substr(0, dot)));
  std::string_view mac = text.substr(dot + 1);
  if (mac.size() != expected.size() ||
      CRYPTO_memcmp(mac.data(), expected.data(), expected.size()) != 0) {
    return result;
  }
  std::optional<std::string> payload =
      auth::Base64UrlDecode(text.substr(kPrefix.size(), dot - kPrefix.size()));
  if (!payload) return result;
  std::vector<std::string_view> parts;
  std::string_view rest = *payload;
  while (true) {
    size_t nl = rest.find('\n');
    parts.push_back(rest.substr(0, nl));
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  WakeToken t;
  if (parts.size() != 5 || !ParseInt(parts[2], &t.generation) || !ParseInt(parts[4], &t.exp_ms)) {
    return result;
  }
  t.project = std::string(parts[0]);
  t.subscription = std::string(parts[1]);
  t.wake_id = std::string(parts[3]);
  if (now_ms >= t.exp_ms) {
    result.error = WakeTokenError::kExpired;
    return result;
  }
  result.token = std::move(t);
  return result;
}

}  // namespace durablestreams::subscriptions

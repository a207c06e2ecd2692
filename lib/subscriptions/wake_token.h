// lib/subscriptions/wake_token.h
//
// The bearer tokens of one wake: a webhook's `callback_token` and a
// pull-wake claim's `token` (PROTOCOL.md §7.3). They are not service JWTs
// and are good for nothing but the callback, ack and release of their
// subscription: the token names its project, subscription, generation and
// wake id and an expiry, and is MACed with the key of subscriptions.db
// (HMAC-SHA256), so it survives a restart and is forged by no one else.
//
//   dsw1.<base64url(project \n subscription \n generation \n wake_id \n exp_ms)>.<base64url(mac)>
//
// A token that verifies is still fenced by the subscription's state: it
// must be of the current generation and wake (wake_machine.h).
//
// Thread safety: pure functions.
#ifndef DURABLESTREAMS_LIB_SUBSCRIPTIONS_WAKE_TOKEN_H_
#define DURABLESTREAMS_LIB_SUBSCRIPTIONS_WAKE_TOKEN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace durablestreams::subscriptions {

struct WakeToken {
  std::string project;
  std::string subscription;
  int64_t generation = 0;
  std::string wake_id;
  int64_t exp_ms = 0;
};

// How long a wake token is accepted at most; fencing ends it sooner.
inline constexpr int64_t kWakeTokenLifetimeMs = 24 * 3600 * 1000;

std::string MintWakeToken(const WakeToken& t, std::string_view key);

enum class WakeTokenError { kInvalid, kExpired };

struct WakeTokenCheck {
  std::optional<WakeToken> token;
  WakeTokenError error = WakeTokenError::kInvalid;
};

WakeTokenCheck VerifyWakeToken(std::string_view text, std::string_view key, int64_t now_ms);

}  // namespace durablestreams::subscriptions

#endif  // DURABLESTREAMS_LIB_SUBSCRIPTIONS_WAKE_TOKEN_H_

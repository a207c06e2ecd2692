// lib/subscriptions/subscription_config.h
//
// The definition of a subscription (PROTOCOL.md §6.2) as a PUT body states
// it, checked and normalized: explicit streams sorted and without
// repeats, defaults filled in. Two PUTs define the same subscription when
// their canonical forms are equal (Canonical, hashed by ConfigHash), so
// re-sending a definition with its keys in another order, or its streams
// repeated, re-confirms it (200) rather than conflicting (409).
//
// Thread safety: pure functions and plain values.
#ifndef DURABLESTREAMS_LIB_SUBSCRIPTIONS_SUBSCRIPTION_CONFIG_H_
#define DURABLESTREAMS_LIB_SUBSCRIPTIONS_SUBSCRIPTION_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace durablestreams::subscriptions {

enum class DeliveryType { kWebhook, kPullWake };

inline constexpr int64_t kDefaultLeaseTtlMs = 30'000;
inline constexpr int64_t kMinLeaseTtlMs = 1'000;
inline constexpr int64_t kMaxLeaseTtlMs = 600'000;
inline constexpr size_t kMaxExplicitStreams = 1000;
inline constexpr size_t kMaxDescriptionBytes = 1024;

struct SubscriptionConfig {
  DeliveryType type = DeliveryType::kWebhook;
  std::optional<std::string> pattern;
  std::vector<std::string> streams;  // sorted, unique
  std::string webhook_url;           // kWebhook only
  std::string wake_stream;           // kPullWake only
  int64_t lease_ttl_ms = kDefaultLeaseTtlMs;
  std::optional<std::string> description;
};

// A refusal: the spec's error code (INVALID_REQUEST, WEBHOOK_URL_REJECTED)
// and a sentence.
struct ConfigError {
  std::string code;
  std::string message;
};

struct ParsedConfig {
  std::optional<SubscriptionConfig> config;  // set, or error is
  ConfigError error;
};

ParsedConfig ParseSubscriptionConfig(std::string_view json);

// The explicit stream list of `POST …/streams` ({"streams":[…]}), each
// checked as a stream path; sorted and unique.
std::optional<std::vector<std::string>> ParseStreamList(std::string_view json, ConfigError* error);

// A stream path a subscription may name: a valid stream path, not under
// __ds. Empty if it may be named, else why not.
std::string CheckLinkedPath(std::string_view path);

// The normalized definition as compact JSON with keys in a fixed order.
std::string Canonical(const SubscriptionConfig& config);
// Lowercase hex SHA-256 of Canonical(config).
std::string ConfigHash(const SubscriptionConfig& config);

const char* DeliveryTypeName(DeliveryType type);

}  // namespace durablestreams::subscriptions

#endif  // DURABLESTREAMS_LIB_SUBSCRIPTIONS_SUBSCRIPTION_CONFIG_H_

// Fuzz target: what a client sends the subscription APIs, before any state
// is touched: definitions (subscription_config.h), stream lists, patterns
// (glob.h), webhook URLs (url_policy.h), __ds routes (reserved_route.h) and
// wake tokens (wake_token.h). Nothing crashes or hangs; a definition that
// parses has a canonical form that parses to the same definition; a wake
// token that verifies was made with the key.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "subscriptions/glob.h"
#include "subscriptions/reserved_route.h"
#include "subscriptions/subscription_config.h"
#include "subscriptions/url_policy.h"
#include "subscriptions/wake_token.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace durablestreams;
  using namespace durablestreams::subscriptions;
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0: {
      ParsedConfig p = ParseSubscriptionConfig(text);
      if (p.config) {
        std::string canonical = Canonical(*p.config);
        ParsedConfig again = ParseSubscriptionConfig(canonical);
        if (!again.config || Canonical(*again.config) != canonical ||
            ConfigHash(*again.config) != ConfigHash(*p.config)) {
          std::abort();
        }
      } else if (p.error.code.empty()) {
        std::abort();  // a refusal always says why
      }
      break;
    }
    case 1: {
      ConfigError error;
      (void)ParseStreamList(text, &error);
      break;
    }
    case 2: {
      // The pattern, then after a NUL a path to match it against.
      size_t nul = text.find('\0');
      auto glob = Glob::Parse(text.substr(0, nul));
      if (glob.ok() && nul != std::string_view::npos) (void)glob->Matches(text.substr(nul + 1));
      break;
    }
    case 3:
      (void)CheckWebhookUrl(text);
      break;
    case 4: {
      static const Method kMethods[] = {Method::kGet, Method::kPut, Method::kPost,
                                        Method::kDelete, Method::kHead};
      ReservedTarget t = RouteReserved(kMethods[data[0] / 6 % 5], text);
      if (t.route == ReservedRoute::kMethodNotAllowed && t.allow.empty()) std::abort();
      break;
    }
    default: {
      static const std::string key(32, 'k');
      WakeTokenCheck c = VerifyWakeToken(text, key, 1'700'000'000'000);
      if (c.token) {
        if (VerifyWakeToken(text, std::string(32, 'j'), 1'700'000'000'000).token) std::abort();
        if (!VerifyWakeToken(MintWakeToken(*c.token, key), key, 1'700'000'000'000).token) {
          std::abort();
        }
      }
    }
  }
  return 0;
}

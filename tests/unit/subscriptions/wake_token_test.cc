// Unit tests of wake tokens (lib/subscriptions/wake_token.h).
#include "subscriptions/wake_token.h"

#include <catch2/catch.hpp>

using namespace durablestreams::subscriptions;

TEST_CASE("wake tokens: verify with their key until they expire, and not if any byte changes") {
  std::string key(32, 'k');
  WakeToken t{"_default", "sub-1", 7, "w_abc", 10'000};
  std::string token = MintWakeToken(t, key);
  WakeTokenCheck ok = VerifyWakeToken(token, key, 9'999);
  REQUIRE(ok.token);
  CHECK(ok.token->project == "_default");
  CHECK(ok.token->subscription == "sub-1");
  CHECK(ok.token->generation == 7);
  CHECK(ok.token->wake_id == "w_abc");
  WakeTokenCheck late = VerifyWakeToken(token, key, 10'000);
  CHECK_FALSE(late.token);
  CHECK(late.error == WakeTokenError::kExpired);
  CHECK_FALSE(VerifyWakeToken(token, std::string(32, 'x'), 0).token);
  for (size_t i = 0; i < token.size(); ++i) {
    std::string bad = token;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    CAPTURE(i);
    CHECK_FALSE(VerifyWakeToken(bad, key, 0).token);
  }
  CHECK_FALSE(VerifyWakeToken("", key, 0).token);
  CHECK_FALSE(VerifyWakeToken("dsw1.", key, 0).token);
  CHECK_FALSE(VerifyWakeToken("eyJhbGciOiJIUzI1NiJ9.e30.x", key, 0).token);
}

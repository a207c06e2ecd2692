// Fuzz target: bearer tokens (jwt.h) and base64url. Verification never
// crashes; a token it accepts was signed with the secret (a fresh token
// with its claims verifies the same way); base64url decodes only canonical
// text, so whatever decodes encodes back to the same bytes.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "auth/base64url.h"
#include "durablestreams/jwt.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace durablestreams;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto bytes = auth::Base64UrlDecode(text)) {
    if (auth::Base64UrlEncode(*bytes) != text) std::abort();
  }
  static const std::vector<std::string> secrets = {
      "fuzz-secret-one-fuzz-secret-one-fuzz-secr", "fuzz-secret-two-fuzz-secret-two-fuzz-secr"};
  TokenCheck check = VerifyToken(text, secrets, 1700000000, 60);
  if (check.claims) {
    // Only a token signed with one of the secrets gets here: the claims
    // minted again verify, and the token is not valid under other keys.
    if (!VerifyToken(MintToken(*check.claims, secrets[0]), secrets, 1700000000, 60).claims) {
      std::abort();
    }
    if (VerifyToken(text, {"another-key-another-key-another-key-anoth"}, 1700000000, 60).claims) {
      std::abort();
    }
  }
  return 0;
}

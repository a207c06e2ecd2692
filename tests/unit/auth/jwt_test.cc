// Unit tests of HS256 tokens (jwt.h) and of project paths (project_auth.h);
// the whole of project auth over HTTP is tests/integration/auth_test.cc.
#include "durablestreams/jwt.h"

#include <catch2/catch.hpp>

#include "auth/base64url.h"
#include "durablestreams/project_auth.h"

using namespace durablestreams;

namespace {

TokenClaims Claims(int64_t exp) {
  TokenClaims c;
  c.sub = "p";
  c.scope = Scope::kWrite;
  c.exp = exp;
  return c;
}

}  // namespace

TEST_CASE("base64url decoding accepts only the canonical encoding") {
  CHECK(auth::Base64UrlEncode("hi!") == "aGkh");
  CHECK(auth::Base64UrlEncode("\xff\xfe") == "__4");
  CHECK(*auth::Base64UrlDecode("__4") == "\xff\xfe");
  CHECK_FALSE(auth::Base64UrlDecode("__5"));   // unused bits set
  CHECK_FALSE(auth::Base64UrlDecode("aGk="));  // padding
  CHECK_FALSE(auth::Base64UrlDecode("aG+h"));  // the other alphabet
  CHECK_FALSE(auth::Base64UrlDecode("a"));     // no byte ends there
  CHECK(*auth::Base64UrlDecode("") == "");
}

TEST_CASE("a token verifies with any of the secrets, within its time, and not otherwise") {
  const std::string s1(43, 'a'), s2(43, 'b'), s3(43, 'c');
  std::string t = MintToken(Claims(1000), s2);
  CHECK(VerifyToken(t, {s1, s2}, 900, 0).claims);
  CHECK(VerifyToken(t, {s2}, 900, 0).claims->sub == "p");
  CHECK(VerifyToken(t, {s1, s3}, 900, 0).error == TokenError::kSignature);
  CHECK(VerifyToken(t, {}, 900, 0).error == TokenError::kSignature);
  // exp: valid before it, plus the skew.
  CHECK(VerifyToken(t, {s2}, 999, 0).claims);
  CHECK(VerifyToken(t, {s2}, 1000, 0).error == TokenError::kExpired);
  CHECK(VerifyToken(t, {s2}, 1059, 60).claims);
  CHECK(VerifyToken(t, {s2}, 1060, 60).error == TokenError::kExpired);
  // nbf, with the skew the other way.
  TokenClaims c = Claims(1000);
  c.nbf = 500;
  std::string n = MintToken(c, s1);
  CHECK(VerifyToken(n, {s1}, 499, 0).error == TokenError::kNotYetValid);
  CHECK(VerifyToken(n, {s1}, 440, 60).claims);
  CHECK(VerifyToken(n, {s1}, 500, 0).claims);
  // Any change to any part breaks it.
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '.') continue;
    std::string bad = t;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    CHECK_FALSE(VerifyToken(bad, {s2}, 900, 0).claims);
  }
  CHECK_FALSE(VerifyToken(t + ".", {s2}, 900, 0).claims);
  CHECK_FALSE(VerifyToken(std::string(kMaxTokenBytes + 1, 'a'), {s2}, 900, 0).claims);
}

TEST_CASE("the claims round-trip, stream_id and scope included") {
  TokenClaims c = Claims(2000);
  c.scope = Scope::kManage;
  c.stream_id = "chat/\"42\"";
  c.iat = 100;
  auto back = VerifyToken(MintToken(c, "k"), {"k"}, 150, 0).claims;
  REQUIRE(back);
  CHECK(back->scope == Scope::kManage);
  CHECK(*back->stream_id == "chat/\"42\"");
  CHECK(*back->iat == 100);
  CHECK(ParseScope("read") == Scope::kRead);
  CHECK_FALSE(ParseScope("Read"));
}

TEST_CASE("a stream path's project is its first segment, or _default") {
  CHECK(SplitProjectPath("a/b/c").project == "a");
  CHECK(SplitProjectPath("a/b/c").stream == "b/c");
  CHECK(SplitProjectPath("solo").project == kDefaultProject);
  CHECK(SplitProjectPath("solo").stream == "solo");
  CHECK(SplitProjectPath("/x").project.empty());
  CHECK(IsProjectId("a-Z_9"));
  CHECK_FALSE(IsProjectId(""));
  CHECK_FALSE(IsProjectId("a.b"));
  CHECK_FALSE(IsProjectId(std::string(65, 'a')));
}

// include/durablestreams/jwt.h
//
// The bearer tokens of project auth (project_auth.h): JSON Web Tokens
// (RFC 7519) in compact form, signed with HMAC-SHA256 ("HS256", RFC 7518
// §3.2) and nothing else. Claims:
//
//   sub        the project the token is for (required)
//   scope      "read", "write" (read and write) or "manage" (write and the
//              project's configuration) (required)
//   exp        expiry, seconds since the Unix epoch (required)
//   nbf        not valid before, seconds since the Unix epoch (optional)
//   iat        when it was issued (optional, not checked)
//   stream_id  the one stream the token is valid for: its path inside the
//              project, as in /v1/stream/{project}/{stream_id} (optional)
//
// VerifyToken refuses every other "alg" (none, HS384, HS512, RS256, ...)
// before it computes anything, a "crit" header, a signature that is not the
// canonical encoding, a claim given twice or of the wrong type; it compares
// signatures in constant time and tries each of the project's secrets.
//
// Thread safety: pure functions.
#ifndef DURABLESTREAMS_JWT_H_
#define DURABLESTREAMS_JWT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "durablestreams/status.h"

namespace durablestreams {

enum class Scope { kRead = 1, kWrite = 2, kManage = 3 };  // each includes the ones before

// "read", "write", "manage".
std::optional<Scope> ParseScope(std::string_view text);
const char* ScopeName(Scope scope);

struct TokenClaims {
  std::string sub;
  Scope scope = Scope::kRead;
  int64_t exp = 0;
  std::optional<int64_t> nbf;
  std::optional<int64_t> iat;
  std::optional<std::string> stream_id;
};

// Why a token was refused. Every kind is answered 401; the kind is for logs
// and metrics, never for the client.
enum class TokenError { kMalformed, kAlgorithm, kSignature, kExpired, kNotYetValid };
const char* TokenErrorName(TokenError e);

struct TokenCheck {
  std::optional<TokenClaims> claims;  // set when the token is valid
  TokenError error = TokenError::kMalformed;
};

// Tokens longer than this are malformed.
inline constexpr size_t kMaxTokenBytes = 8192;

// Checks `token` against `secrets` (the HMAC keys: each secret's bytes as
// given) at `now_seconds`, allowing `skew_seconds` on exp and nbf.
TokenCheck VerifyToken(std::string_view token, const std::vector<std::string>& secrets,
                       int64_t now_seconds, int64_t skew_seconds);

// Whether claims already verified are still in their time (exp, nbf, with
// the skew): none if so, else kExpired or kNotYetValid.
std::optional<TokenError> CheckTokenTime(const TokenClaims& claims, int64_t now_seconds,
                                         int64_t skew_seconds);

// A signed token with these claims.
std::string MintToken(const TokenClaims& claims, std::string_view secret);

}  // namespace durablestreams

#endif  // DURABLESTREAMS_JWT_H_

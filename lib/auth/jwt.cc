// lib/auth/jwt.cc: HS256 JSON Web Tokens (jwt.h): OpenSSL's HMAC, the
// strict base64url of base64url.h, and simdjson for the two JSON objects.
#include "durablestreams/jwt.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <simdjson.h>

#include <cmath>

#include "auth/base64url.h"
#include "auth/digest.h"
#include "protocol/errors.h"

namespace durablestreams {

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = char(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = char(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// The header may name only HS256, and may not ask for extensions ("crit").
bool HeaderIsHs256(simdjson::dom::parser& parser, const std::string& json) {
  simdjson::dom::object obj;
  if (parser.parse(json).get_object().get(obj)) return false;
  int algs = 0;
  for (auto field : obj) {
    std::string_view key = field.key;
    std::string_view text;
    if (key == "alg") {
      ++algs;
      if (field.value.get_string().get(text) || text != "HS256") return false;
    } else if (key == "typ") {
      if (field.value.get_string().get(text) || !EqualsIgnoreCase(text, "JWT")) return false;
    } else if (key == "crit" || key == "b64" || key == "jku" || key == "jwk" || key == "x5u" ||
               key == "x5c") {
      return false;
    }
  }
  return algs == 1;
}

// A NumericDate: a JSON number of seconds, fractions cut off.
bool NumericDate(simdjson::dom::element v, int64_t* out) {
  int64_t i;
  if (!v.get_int64().get(i)) {
    *out = i;
    return true;
  }
  double d;
  if (!v.get_double().get(d) && std::isfinite(d) && d > -9.2e18 && d < 9.2e18) {
    *out = static_cast<int64_t>(std::floor(d));
    return true;
  }
  return false;
}

bool ParseClaims(simdjson::dom::parser& parser, const std::string& json, TokenClaims* c) {
  simdjson::dom::object obj;
  if (parser.parse(json).get_object().get(obj)) return false;
  bool sub = false, scope = false, exp = false;
  for (auto field : obj) {
    std::string_view key = field.key;
    std::string_view text;
    int64_t n;
    if (key == "sub") {
      if (sub || field.value.get_string().get(text)) return false;
      c->sub = std::string(text);
      sub = true;
    } else if (key == "scope") {
      if (scope || field.value.get_string().get(text)) return false;
      std::optional<Scope> s = ParseScope(text);
      if (!s) return false;
      c->scope = *s;
      scope = true;
    } else if (key == "exp") {
      if (exp || !NumericDate(field.value, &n)) return false;
      c->exp = n;
      exp = true;
    } else if (key == "nbf") {
      if (c->nbf || !NumericDate(field.value, &n)) return false;
      c->nbf = n;
    } else if (key == "iat") {
      if (c->iat || !NumericDate(field.value, &n)) return false;
      c->iat = n;
    } else if (key == "stream_id") {
      if (c->stream_id || field.value.get_string().get(text) || text.empty()) return false;
      c->stream_id = std::string(text);
    }
  }
  return sub && scope && exp;
}

}  // namespace

std::optional<Scope> ParseScope(std::string_view text) {
  if (text == "read") return Scope::kRead;
  if (text == "write") return Scope::kWrite;
  if (text == "manage") return Scope::kManage;
  return std::nullopt;
}

const char* ScopeName(Scope scope) {
  switch (scope) {
    case Scope::kRead: return "read";
    case Scope::kWrite: return "write";
    case Scope::kManage: return "manage";
  }
  return "read";
}

const char* TokenErrorName(TokenError e) {
  switch (e) {
    case TokenError::kMalformed: return "malformed";
    case TokenError::kAlgorithm: return "algorithm";
    case TokenError::kSignature: return "signature";
    case TokenError::kExpired: return "expired";
    case TokenError::kNotYetValid: return "not_yet_valid";
  }
  return "malformed";
}

TokenCheck VerifyToken(std::string_view token, const std::vector<std::string>& secrets,
                       int64_t now_seconds, int64_t skew_seconds) {
  TokenCheck result;
  if (token.empty() || token.size() > kMaxTokenBytes) return result;
  size_t dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return result;
  size_t dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return result;
  }
  std::string_view signing_input = token.substr(0, dot2);
  std::string_view signature = token.substr(dot2 + 1);
  std::optional<std::string> header = auth::Base64UrlDecode(token.substr(0, dot1));
  std::optional<std::string> payload =
      auth::Base64UrlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!header || !payload) return result;
  thread_local simdjson::dom::parser parser;
  if (!HeaderIsHs256(parser, *header)) {
    result.error = TokenError::kAlgorithm;
    return result;
  }
  // The signature as its canonical encoding: 43 characters for 32 bytes.
  bool signed_ok = false;
  for (const std::string& secret : secrets) {
    std::string expected = auth::Base64UrlEncode(auth::HmacSha256(secret, signing_input));
    if (expected.size() == signature.size() &&
        CRYPTO_memcmp(expected.data(), signature.data(), expected.size()) == 0) {
      signed_ok = true;  // no early exit: every secret costs the same
    }
  }
  if (!signed_ok) {
    result.error = TokenError::kSignature;
    return result;
  }
  TokenClaims claims;
  if (!ParseClaims(parser, *payload, &claims)) return result;
  if (std::optional<TokenError> late = CheckTokenTime(claims, now_seconds, skew_seconds)) {
    result.error = *late;
    return result;
  }
  result.claims = std::move(claims);
  return result;
}

std::optional<TokenError> CheckTokenTime(const TokenClaims& claims, int64_t now_seconds,
                                         int64_t skew_seconds) {
  // Valid only before exp (RFC 7519 §4.1.4), and from nbf on (§4.1.5).
  if (now_seconds >= claims.exp + skew_seconds) return TokenError::kExpired;
  if (claims.nbf && now_seconds + skew_seconds < *claims.nbf) return TokenError::kNotYetValid;
  return std::nullopt;
}

std::string MintToken(const TokenClaims& claims, std::string_view secret) {
  std::string payload = "{\"sub\":";
  protocol::AppendJsonString(claims.sub, &payload);
  payload += ",\"scope\":\"";
  payload += ScopeName(claims.scope);
  payload += "\"";
  if (claims.iat) payload += ",\"iat\":" + std::to_string(*claims.iat);
  if (claims.nbf) payload += ",\"nbf\":" + std::to_string(*claims.nbf);
  payload += ",\"exp\":" + std::to_string(claims.exp);
  if (claims.stream_id) {
    payload += ",\"stream_id\":";
    protocol::AppendJsonString(*claims.stream_id, &payload);
  }
  payload += "}";
  std::string token = auth::Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})");
  token += '.';
  token += auth::Base64UrlEncode(payload);
  std::string signature = auth::Base64UrlEncode(auth::HmacSha256(secret, token));
  token += '.';
  token += signature;
  return token;
}

}  // namespace durablestreams

// lib/auth/base64url.h
//
// The URL-safe base64 alphabet without padding (RFC 4648 §5), as JWTs and
// project secrets use it. Decoding is strict: only the alphabet, no
// padding, and the unused bits of the last character must be zero, so each
// byte string has exactly one encoding.
//
// Thread safety: pure functions.
#ifndef DURABLESTREAMS_LIB_AUTH_BASE64URL_H_
#define DURABLESTREAMS_LIB_AUTH_BASE64URL_H_

#include <optional>
#include <string>
#include <string_view>

namespace durablestreams::auth {

std::string Base64UrlEncode(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace durablestreams::auth

#endif  // DURABLESTREAMS_LIB_AUTH_BASE64URL_H_

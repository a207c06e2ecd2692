// lib/auth/digest.h
//
// SHA-256 and HMAC-SHA256 over OpenSSL, as raw bytes: what tokens (jwt.cc,
// subscriptions' wake tokens) and key ids are made of.
//
// Thread safety: pure functions.
#ifndef DURABLESTREAMS_LIB_AUTH_DIGEST_H_
#define DURABLESTREAMS_LIB_AUTH_DIGEST_H_

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <string_view>

namespace durablestreams::auth {

inline std::string Sha256(std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(out), len);
}

inline std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

}  // namespace durablestreams::auth

#endif  // DURABLESTREAMS_LIB_AUTH_DIGEST_H_

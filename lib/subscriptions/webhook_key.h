// lib/subscriptions/webhook_key.h
//
// The Ed25519 key that signs webhook deliveries (PROTOCOL.md §6.5, §7.1).
// A WebhookKey holds one key pair: it signs `<t>.<body>` into the
// `Webhook-Signature` header value and describes its public half as a JWK
// whose `kid` is "ds_" and its RFC 7638 thumbprint (SHA-256 over
// {"crv","kty","x"} in that order, base64url), so the id follows from the
// key and is the same on every node that holds it.
//
// The private key is kept as PKCS #8 PEM in a file of mode 0600
// (LoadOrCreate makes it once, atomically: a temporary file, fsync, link).
// A data directory has the active key, webhook-signing-key.pem, and after a
// rotation (RotateWebhookKey, subscriptions.h) the one before it,
// webhook-signing-key.previous.pem, still published so that receivers can
// verify what it signed.
//
// Thread safety: const methods may be called concurrently.
// Ownership: the key owns its OpenSSL EVP_PKEY.
#ifndef DURABLESTREAMS_LIB_SUBSCRIPTIONS_WEBHOOK_KEY_H_
#define DURABLESTREAMS_LIB_SUBSCRIPTIONS_WEBHOOK_KEY_H_

#include <memory>
#include <string>
#include <string_view>

#include "durablestreams/status.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace durablestreams::subscriptions {

class WebhookKey {
 public:
  // The key in `path`, made there first if there is no such file.
  static Result<std::unique_ptr<WebhookKey>> LoadOrCreate(const std::string& path);
  // The key in `path`, or null if there is no such file.
  static Result<std::unique_ptr<WebhookKey>> LoadIfPresent(const std::string& path);
  // A key from PKCS #8 PEM text (tests; LoadOrCreate reads a file into it).
  static Result<std::unique_ptr<WebhookKey>> FromPem(std::string_view pem);
  // A fresh random key (tests, and LoadOrCreate's first start).
  static Result<std::unique_ptr<WebhookKey>> Generate();
  ~WebhookKey();

  const std::string& kid() const { return kid_; }
  // The public key, 32 bytes, base64url: the JWK's "x".
  const std::string& x() const { return x_; }
  // The JWK of the public key: {"kty":"OKP","crv":"Ed25519","kid":…,
  // "use":"sig","alg":"EdDSA","x":…}.
  std::string PublicJwk() const;
  std::string PrivatePem() const;

  // base64url (unpadded) of the Ed25519 signature of `message`.
  std::string Sign(std::string_view message) const;
  // `t=<unix seconds>,kid=<kid>,ed25519=<Sign("<t>.<body>")>`.
  std::string SignatureHeader(int64_t unix_seconds, std::string_view body) const;

 private:
  explicit WebhookKey(EVP_PKEY* key);
  EVP_PKEY* key_;
  std::string x_;
  std::string kid_;
};

// The files of a data directory's active and previous keys.
std::string ActiveKeyPath(const std::string& data_dir);
std::string PreviousKeyPath(const std::string& data_dir);

// Verifies a signature header against a public key given as its JWK "x"
// (the receiver's side; tests and tools use it).
bool VerifyWebhookSignature(std::string_view x, std::string_view header, std::string_view body);

}  // namespace durablestreams::subscriptions

#endif  // DURABLESTREAMS_LIB_SUBSCRIPTIONS_WEBHOOK_KEY_H_

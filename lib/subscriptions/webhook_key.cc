// lib/subscriptions/webhook_key.cc: the Ed25519 webhook signing key
// (webhook_key.h), over OpenSSL 3.
#include "subscriptions/webhook_key.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "auth/base64url.h"
#include "auth/digest.h"
#include "durablestreams/subscriptions.h"

namespace durablestreams::subscriptions {

namespace {

// Writes `text` to a new file of mode 0600 at `path`, durably: a temporary
// file, fsync, then link() (kept: another process made it first, use
// theirs) or, with `replace`, rename() over what is there.
Status WriteKeyFile(const std::string& path, const std::string& text, bool replace) {
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IOError("create " + tmp + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = errno;
      close(fd);
      unlink(tmp.c_str());
      return Status::IOError("write " + tmp + ": " + std::strerror(e));
    }
    done += static_cast<size_t>(n);
  }
  bool synced = fsync(fd) == 0;
  close(fd);
  int linked = !synced   ? -1
               : replace ? rename(tmp.c_str(), path.c_str())
                         : link(tmp.c_str(), path.c_str());
  int e = errno;
  unlink(tmp.c_str());
  if (!synced) return Status::IOError("fsync " + tmp);
  if (linked != 0 && e != EEXIST) return Status::IOError("link " + path + ": " + std::strerror(e));
  std::string dir =
      path.substr(0, path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/'));
  int dfd = open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return Status::OK();
}

}  // namespace

WebhookKey::WebhookKey(EVP_PKEY* key) : key_(key) {
  unsigned char raw[32];
  size_t len = sizeof raw;
  EVP_PKEY_get_raw_public_key(key_, raw, &len);
  x_ = auth::Base64UrlEncode(std::string_view(reinterpret_cast<char*>(raw), len));
  // RFC 7638 §3.2: the required members in lexicographic order, no spaces.
  std::string canonical = R"({"crv":"Ed25519","kty":"OKP","x":")" + x_ + "\"}";
  kid_ = "ds_" + auth::Base64UrlEncode(auth::Sha256(canonical));
}

WebhookKey::~WebhookKey() {
  EVP_PKEY_free(key_);
}

Result<std::unique_ptr<WebhookKey>> WebhookKey::Generate() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (!key) return Status::IOError("cannot generate an Ed25519 key");
  return std::unique_ptr<WebhookKey>(new WebhookKey(key));
}

Result<std::unique_ptr<WebhookKey>> WebhookKey::FromPem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (!bio) return Status::IOError("out of memory");
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!key) return Status::Corruption("the webhook key is not a PEM private key");
  if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(key);
    return Status::Corruption("the webhook key is not an Ed25519 key");
  }
  return std::unique_ptr<WebhookKey>(new WebhookKey(key));
}

Result<std::unique_ptr<WebhookKey>> WebhookKey::LoadOrCreate(const std::string& path) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::stringstream text;
      text << in.rdbuf();
      auto key = FromPem(text.str());
      if (!key.ok()) return Status::Corruption(path + ": " + key.status().message());
      return key;
    }
    if (errno != ENOENT) return Status::IOError("open " + path + ": " + std::strerror(errno));
    auto fresh = Generate();
    if (!fresh.ok()) return fresh;
    Status st = WriteKeyFile(path, (*fresh)->PrivatePem(), false);
    if (!st.ok()) return st;
  }
  return Status::IOError("cannot read " + path + " after making it");
}

Result<std::unique_ptr<WebhookKey>> WebhookKey::LoadIfPresent(const std::string& path) {
  if (access(path.c_str(), F_OK) != 0) {
    if (errno == ENOENT) return std::unique_ptr<WebhookKey>();
    return Status::IOError("open " + path + ": " + std::strerror(errno));
  }
  return LoadOrCreate(path);
}

std::string WebhookKey::PublicJwk() const {
  return R"({"kty":"OKP","crv":"Ed25519","kid":")" + kid_ + R"(","use":"sig","alg":"EdDSA","x":")" +
         x_ + "\"}";
}

std::string WebhookKey::PrivatePem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key_, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  return pem;
}

std::string WebhookKey::Sign(std::string_view message) const {
  unsigned char sig[64];
  size_t len = sizeof sig;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key_);
  EVP_DigestSign(ctx, sig, &len, reinterpret_cast<const unsigned char*>(message.data()),
                 message.size());
  EVP_MD_CTX_free(ctx);
  return auth::Base64UrlEncode(std::string_view(reinterpret_cast<char*>(sig), len));
}

std::string WebhookKey::SignatureHeader(int64_t unix_seconds, std::string_view body) const {
  std::string t = std::to_string(unix_seconds);
  std::string message = t + "." + std::string(body);
  return "t=" + t + ",kid=" + kid_ + ",ed25519=" + Sign(message);
}

bool VerifyWebhookSignature(std::string_view x, std::string_view header, std::string_view body) {
  std::string_view t, sig;
  size_t start = 0;
  while (start <= header.size()) {
    size_t comma = header.find(',', start);
    std::string_view part = header.substr(start, comma - start);
    if (part.substr(0, 2) == "t=") t = part.substr(2);
    if (part.substr(0, 8) == "ed25519=") sig = part.substr(8);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  std::optional<std::string> raw_key = auth::Base64UrlDecode(x);
  std::optional<std::string> raw_sig = auth::Base64UrlDecode(sig);
  if (t.empty() || !raw_key || raw_key->size() != 32 || !raw_sig || raw_sig->size() != 64) {
    return false;
  }
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(raw_key->data()), 32);
  if (!key) return false;
  std::string message = std::string(t) + "." + std::string(body);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok =
      EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key) == 1 &&
      EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(raw_sig->data()), 64,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return ok;
}

std::string ActiveKeyPath(const std::string& data_dir) {
  return data_dir + "/webhook-signing-key.pem";
}

std::string PreviousKeyPath(const std::string& data_dir) {
  return data_dir + "/webhook-signing-key.previous.pem";
}

// subscriptions.h
Status RotateWebhookKey(const std::string& data_dir) {
  auto active = WebhookKey::LoadOrCreate(ActiveKeyPath(data_dir));
  if (!active.ok()) return active.status();
  auto fresh = WebhookKey::Generate();
  if (!fresh.ok()) return fresh.status();
  // The active key becomes the previous one, then the new key the active
  // one: at every moment there is an active key, and the old one is kept.
  Status s = WriteKeyFile(PreviousKeyPath(data_dir), (*active)->PrivatePem(), true);
  if (!s.ok()) return s;
  return WriteKeyFile(ActiveKeyPath(data_dir), (*fresh)->PrivatePem(), true);
}

Status RetireWebhookKey(const std::string& data_dir) {
  std::string path = PreviousKeyPath(data_dir);
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Status::IOError("unlink " + path + ": " + std::strerror(errno));
  }
  return Status::OK();
}

}  // namespace durablestreams::subscriptions

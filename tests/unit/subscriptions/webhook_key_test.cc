// Unit tests of the webhook signing key (lib/subscriptions/webhook_key.h)
// over real files in a temporary directory.
#include "subscriptions/webhook_key.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "support/temp_dir.h"

using namespace durablestreams::subscriptions;

TEST_CASE("webhook key: made once with mode 0600, the same key on the next start") {
  dstest::TempDir dir;
  std::string path = dir.path() + "/webhook-signing-key.pem";
  auto first = WebhookKey::LoadOrCreate(path);
  REQUIRE(first.ok());
  struct stat st;
  REQUIRE(stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto again = WebhookKey::LoadOrCreate(path);
  REQUIRE(again.ok());
  CHECK((*again)->kid() == (*first)->kid());
  CHECK((*first)->kid().rfind("ds_", 0) == 0);
  CHECK((*first)->kid().size() == 3 + 43);
  CHECK((*first)->x().size() == 43);
  CHECK((*first)->PublicJwk().find("\"alg\":\"EdDSA\"") != std::string::npos);
}

TEST_CASE("webhook key: a signature verifies with the public key, and with nothing else") {
  auto key = WebhookKey::Generate();
  auto other = WebhookKey::Generate();
  REQUIRE(key.ok());
  REQUIRE(other.ok());
  std::string body = R"({"subscription_id":"s","generation":1})";
  std::string header = (*key)->SignatureHeader(1778324210, body);
  CHECK(header.rfind("t=1778324210,kid=" + (*key)->kid() + ",ed25519=", 0) == 0);
  CHECK(VerifyWebhookSignature((*key)->x(), header, body));
  CHECK_FALSE(VerifyWebhookSignature((*other)->x(), header, body));
  CHECK_FALSE(VerifyWebhookSignature((*key)->x(), header, body + " "));
  std::string later = header;
  later.replace(2, 10, "1778324211");
  CHECK_FALSE(VerifyWebhookSignature((*key)->x(), later, body));
  // A key read back from its PEM signs the same way (Ed25519 is deterministic).
  auto copy = WebhookKey::FromPem((*key)->PrivatePem());
  REQUIRE(copy.ok());
  CHECK((*copy)->SignatureHeader(1, body) == (*key)->SignatureHeader(1, body));
  CHECK_FALSE(WebhookKey::FromPem("not a key").ok());
}

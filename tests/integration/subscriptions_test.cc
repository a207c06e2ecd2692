// Reserved subscriptions against the real server (docs/subscriptions.md):
// a webhook receiver that checks every signature against the served JWKS
// and that is down, slow, or failing before it answers; kill -9 with a wake
// in flight and with a lease held; 1,000 streams on one pattern; and the
// __ds routes under project auth.
#include <httplib.h>
#include <openssl/evp.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "auth/base64url.h"
#include "durablestreams/jwt.h"
#include "durablestreams/projects.h"
#include "support/eventually.h"
#include "support/raw_http.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "support/test_projects.h"

namespace {

using namespace std::chrono_literals;
using dstest::Http;
using dstest::Reply;

const std::string kServer = DS_SERVER_BINARY;

// A string field of a JSON object ("" when absent), or a number as text.
std::string Field(const std::string& json, const char* key) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(json)[key].get(e)) return {};
  std::string_view s;
  if (!e.get_string().get(s)) return std::string(s);
  int64_t n;
  if (!e.get_int64().get(n)) return std::to_string(n);
  return simdjson::minify(e);
}

// The acked offset of each linked stream in a subscription's GET body.
std::map<std::string, std::string> AckedOffsets(const std::string& json) {
  std::map<std::string, std::string> out;
  simdjson::dom::parser parser;
  simdjson::dom::array streams;
  if (parser.parse(json)["streams"].get_array().get(streams)) return out;
  for (simdjson::dom::element s : streams) {
    std::string_view path, acked;
    if (!s["path"].get_string().get(path) && !s["acked_offset"].get_string().get(acked)) {
      out[std::string(path)] = std::string(acked);
    }
  }
  return out;
}

using dstest::Eventually;

// A webhook receiver on loopback. Each POST is recorded, then answered as
// `answer` says: the first `fail_first` with 500, after `delay`, or held
// until Release when `hold` is set.
struct Receiver {
  struct Wake {
    std::string body, signature;
  };
  httplib::Server server;
  std::thread thread;
  int port = 0;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Wake> wakes;  // GUARDED_BY(mu)
  bool hold = false;        // GUARDED_BY(mu)
  std::atomic<int> fail_first{0};
  std::atomic<int> delay_ms{0};
  std::string answer = R"({"done":true})";  // set before use

  explicit Receiver(int on_port = 0) {
    server.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::unique_lock<std::mutex> lock(mu);
      wakes.push_back({req.body, req.get_header_value("Webhook-Signature")});
      cv.notify_all();
      cv.wait(lock, [this] { return !hold; });
      lock.unlock();
      if (int d = delay_ms.load()) std::this_thread::sleep_for(std::chrono::milliseconds(d));
      if (fail_first.fetch_sub(1) > 0) {
        res.status = 500;
        return;
      }
      res.set_content(answer, "application/json");
    });
    if (on_port == 0) {
      port = server.bind_to_any_port("127.0.0.1");
    } else {
      REQUIRE(server.bind_to_port("127.0.0.1", on_port));
      port = on_port;
    }
    thread = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(1ms);
  }
  ~Receiver() {
    Release();
    server.stop();
    thread.join();
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu);
    hold = false;
    cv.notify_all();
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port) + "/hook"; }
  size_t Count() {
    std::lock_guard<std::mutex> lock(mu);
    return wakes.size();
  }
  bool WaitFor(size_t n, std::chrono::milliseconds within = 20s) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, within, [&] { return wakes.size() >= n; });
  }
  Wake At(size_t i) {
    std::lock_guard<std::mutex> lock(mu);
    return wakes.at(i);
  }
};

// A port nothing listens on: bound, then closed. (Not an httplib::Server's:
// its bind also listens, and a socket left listening would take
// connections.)
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// Whether `header` (t=…,kid=…,ed25519=…) signs "<t>.<body>" with the key of
// its kid in the JWK set `jwks`, checked here with OpenSSL alone.
bool SignedByJwks(const std::string& jwks, const std::string& header, const std::string& body) {
  std::map<std::string, std::string> parts;
  size_t start = 0;
  while (start < header.size()) {
    size_t comma = header.find(',', start);
    if (comma == std::string::npos) comma = header.size();
    std::string part = header.substr(start, comma - start);
    size_t eq = part.find('=');
    if (eq != std::string::npos) parts[part.substr(0, eq)] = part.substr(eq + 1);
    start = comma + 1;
  }
  simdjson::dom::parser parser;
  simdjson::dom::array keys;
  if (parser.parse(jwks)["keys"].get_array().get(keys)) return false;
  for (simdjson::dom::element k : keys) {
    std::string_view kid, x, crv;
    if (k["kid"].get_string().get(kid) || k["x"].get_string().get(x) ||
        k["crv"].get_string().get(crv) || kid != parts["kid"] || crv != "Ed25519") {
      continue;
    }
    auto raw = durablestreams::auth::Base64UrlDecode(x);
    auto sig = durablestreams::auth::Base64UrlDecode(parts["ed25519"]);
    if (!raw || raw->size() != 32 || !sig || sig->size() != 64) return false;
    EVP_PKEY* key = EVP_PKEY_new_raw_public_key(
        EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(raw->data()), 32);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    std::string message = parts["t"] + "." + body;
    bool ok = EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key) == 1 &&
              EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig->data()), 64,
                               reinterpret_cast<const unsigned char*>(message.data()),
                               message.size()) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    return ok;
  }
  return false;
}

const dstest::Headers kText = {{"Content-Type", "text/plain"}};
const dstest::Headers kJson = {{"Content-Type", "application/json"}};

std::string WebhookDef(const std::string& pattern, const std::string& url) {
  return R"({"type":"webhook","pattern":")" + pattern + R"(","webhook":{"url":")" + url + R"("}})";
}

dstest::Headers With(dstest::Headers h, const std::string& token) {
  h.push_back({"Authorization", "Bearer " + token});
  return h;
}

}  // namespace

TEST_CASE("subscriptions: every webhook is signed by a key of the served JWKS") {
  dstest::TempDir dir;
  dstest::ServerProcess server(kServer, dir.path());
  int port = server.port();
  Receiver hook;
  REQUIRE(Http(port, "PUT", "/v1/stream/events/a", kText).status == 201);
  Reply made = Http(port, "PUT", "/v1/stream/__ds/subscriptions/signed", kJson,
                    WebhookDef("events/*", hook.Url()));
  REQUIRE(made.status == 201);
  Reply jwks = Http(port, "GET", "/v1/stream/__ds/jwks.json");
  REQUIRE(jwks.status == 200);
  CHECK(jwks.headers["content-type"] == "application/jwk-set+json");

  for (int i = 0; i < 5; ++i) {
    REQUIRE(Http(port, "POST", "/v1/stream/events/a", kText, "m" + std::to_string(i)).status ==
            204);
    REQUIRE(hook.WaitFor(static_cast<size_t>(i + 1)));
  }
  REQUIRE(Http(port, "PUT", "/v1/stream/events/later", kText, "first").status == 201);
  REQUIRE(hook.WaitFor(6));
  for (size_t i = 0; i < hook.Count(); ++i) {
    Receiver::Wake w = hook.At(i);
    INFO(w.signature);
    CHECK(SignedByJwks(jwks.body, w.signature, w.body));
    CHECK(Field(w.body, "subscription_id") == "signed");
    // The same signature over another body does not verify.
    CHECK_FALSE(SignedByJwks(jwks.body, w.signature, w.body + " "));
  }
  int64_t t = std::stoll(hook.At(0).signature.substr(2));
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  CHECK(std::llabs(now - t) < 300);
}

TEST_CASE("subscriptions: a receiver answering 500 is retried, failed until it answers 200") {
  dstest::TempDir dir;
  dstest::ServerProcess server(kServer, dir.path());
  int port = server.port();
  Receiver hook;
  hook.fail_first = 2;
  REQUIRE(Http(port, "PUT", "/v1/stream/__ds/subscriptions/retry", kJson,
               WebhookDef("jobs/*", hook.Url()))
              .status == 201);
  REQUIRE(Http(port, "PUT", "/v1/stream/jobs/1", kText, "work").status == 201);
  REQUIRE(hook.WaitFor(1));
  CHECK(Eventually([&] {
    return Field(Http(port, "GET", "/v1/stream/__ds/subscriptions/retry").body, "status") ==
           "failed";
  }));
  REQUIRE(hook.WaitFor(3, 15s));  // two retries, about 1 s and 2 s apart
  // A retry is the same wake.
  CHECK(Field(hook.At(0).body, "wake_id") == Field(hook.At(2).body, "wake_id"));
  CHECK(Field(hook.At(0).body, "generation") == Field(hook.At(2).body, "generation"));
  CHECK(Eventually([&] {
    Reply r = Http(port, "GET", "/v1/stream/__ds/subscriptions/retry");
    return Field(r.body, "status") == "active" &&
           AckedOffsets(r.body)["jobs/1"] != "0000000000000000_0000000000000000";
  }));
  CHECK(hook.Count() == 3);
}

TEST_CASE("subscriptions: a receiver that is down, then up, gets the wake") {
  dstest::TempDir dir;
  dstest::ServerProcess server(kServer, dir.path());
  int port = server.port();
  int hook_port = FreePort();
  std::string url = "http://127.0.0.1:" + std::to_string(hook_port) + "/hook";
  REQUIRE(Http(port, "PUT", "/v1/stream/__ds/subscriptions/down", kJson, WebhookDef("d/*", url))
              .status == 201);
  REQUIRE(Http(port, "PUT", "/v1/stream/d/x", kText, "data").status == 201);
  CHECK(Eventually([&] {
    return Field(Http(port, "GET", "/v1/stream/__ds/subscriptions/down").body, "status") ==
           "failed";
  }));
  Receiver hook(hook_port);
  REQUIRE(hook.WaitFor(1, 20s));
  CHECK(Eventually([&] {
    return Field(Http(port, "GET", "/v1/stream/__ds/subscriptions/down").body, "status") ==
           "active";
  }));
}

TEST_CASE("subscriptions: a receiver slower than the timeout is retried with the same wake") {
  dstest::TempDir dir;
  dstest::ServerProcess server(kServer, dir.path(), {"--webhook-timeout", "300ms"});
  int port = server.port();
  Receiver hook;
  hook.delay_ms = 1500;
  REQUIRE(
      Http(port, "PUT", "/v1/stream/__ds/subscriptions/slow", kJson, WebhookDef("s/*", hook.Url()))
          .status == 201);
  REQUIRE(Http(port, "PUT", "/v1/stream/s/x", kText, "data").status == 201);
  REQUIRE(hook.WaitFor(1));
  CHECK(Eventually([&] {
    return Field(Http(port, "GET", "/v1/stream/__ds/subscriptions/slow").body, "status") ==
           "failed";
  }));
  hook.delay_ms = 0;
  REQUIRE(hook.WaitFor(2, 15s));
  CHECK(Field(hook.At(0).body, "wake_id") == Field(hook.At(1).body, "wake_id"));
  CHECK(Eventually([&] {
    return Field(Http(port, "GET", "/v1/stream/__ds/subscriptions/slow").body, "status") ==
           "active";
  }));
}

TEST_CASE("subscriptions: kill -9 with a wake in flight: it is sent again after the restart") {
  dstest::TempDir dir;
  Receiver hook;
  {
    std::lock_guard<std::mutex> lock(hook.mu);
    hook.hold = true;  // the first wake is never answered
  }
  std::string first_wake, first_gen;
  {
    dstest::ServerProcess server(kServer, dir.path());
    int port = server.port();
    REQUIRE(Http(port, "PUT", "/v1/stream/__ds/subscriptions/crash", kJson,
                 WebhookDef("c/*", hook.Url()))
                .status == 201);
    REQUIRE(Http(port, "PUT", "/v1/stream/c/x", kText, "acknowledged").status == 201);
    REQUIRE(hook.WaitFor(1));
    first_wake = Field(hook.At(0).body, "wake_id");
    first_gen = Field(hook.At(0).body, "generation");
    server.Kill(SIGKILL);
  }
  hook.Release();
  dstest::ServerProcess server(kServer, dir.path());
  int port = server.port();
  REQUIRE(hook.WaitFor(2));
  CHECK(Field(hook.At(1).body, "wake_id") == first_wake);
  CHECK(Field(hook.At(1).body, "generation") == first_gen);
  std::string tail = Http(port, "HEAD", "/v1/stream/c/x").headers["stream-next-offset"];
  CHECK(Eventually([&] {
    return AckedOffsets(Http(port, "GET", "/v1/stream/__ds/subscriptions/crash").body)["c/x"] ==
           tail;
  }));
  // Acked (done) survives too: the next append is a new wake, not the old one.
  server.Kill(SIGKILL);
  dstest::ServerProcess again(kServer, dir.path());
  REQUIRE(Http(again.port(), "POST", "/v1/stream/c/x", kText, "more").status == 204);
  REQUIRE(hook.WaitFor(3));
  CHECK(std::stoll(Field(hook.At(2).body, "generation")) == std::stoll(first_gen) + 1);
  CHECK(hook.Count() == 3);
}

TEST_CASE("subscriptions: kill -9 with a lease held: the holder keeps it, old tokens stay fenced") {
  dstest::TempDir dir;
  std::string token, wake, gen;
  {
    dstest::ServerProcess server(kServer, dir.path());
    int port = server.port();
    REQUIRE(Http(port, "PUT", "/v1/stream/wakes", kJson).status == 201);
    REQUIRE(Http(port, "PUT", "/v1/stream/__ds/subscriptions/pool", kJson,
                 R"({"type":"pull-wake","pattern":"q/*","wake_stream":"wakes",)"
                 R"("lease_ttl_ms":600000})")
                .status == 201);
    REQUIRE(Http(port, "PUT", "/v1/stream/q/1", kText, "job").status == 201);
    Reply claim =
        Http(port, "POST", "/v1/stream/__ds/subscriptions/pool/claim", kJson, R"({"worker":"w1"})");
    REQUIRE(claim.status == 200);
    token = Field(claim.body, "token");
    wake = Field(claim.body, "wake_id");
    gen = Field(claim.body, "generation");
    server.Kill(SIGKILL);
  }
  dstest::ServerProcess server(kServer, dir.path());
  int port = server.port();
  Reply taken =
      Http(port, "POST", "/v1/stream/__ds/subscriptions/pool/claim", kJson, R"({"worker":"w2"})");
  CHECK(taken.status == 409);
  CHECK(taken.body.find("ALREADY_CLAIMED") != std::string::npos);
  CHECK(taken.body.find("\"w1\"") != std::string::npos);
  std::string ack = R"({"wake_id":")" + wake + R"(","generation":)" + gen;
  std::string tail = Http(port, "HEAD", "/v1/stream/q/1").headers["stream-next-offset"];
  Reply heartbeat =
      Http(port, "POST", "/v1/stream/__ds/subscriptions/pool/ack", With(kJson, token), ack + "}");
  CHECK(heartbeat.status == 200);
  Reply done = Http(port, "POST", "/v1/stream/__ds/subscriptions/pool/ack", With(kJson, token),
                    ack + R"(,"acks":[{"stream":"q/1","offset":")" + tail + R"("}],"done":true})");
  CHECK(done.status == 200);
  server.Kill(SIGKILL);

  dstest::ServerProcess again(kServer, dir.path());
  port = again.port();
  // What was acked is not pending again.
  Reply none =
      Http(port, "POST", "/v1/stream/__ds/subscriptions/pool/claim", kJson, R"({"worker":"w2"})");
  CHECK(none.status == 409);
  CHECK(none.body.find("NO_PENDING_WORK") != std::string::npos);
  REQUIRE(Http(port, "POST", "/v1/stream/q/1", kText, "next").status == 204);
  Reply next =
      Http(port, "POST", "/v1/stream/__ds/subscriptions/pool/claim", kJson, R"({"worker":"w2"})");
  REQUIRE(next.status == 200);
  CHECK(std::stoll(Field(next.body, "generation")) == std::stoll(gen) + 1);
  // The old wake's token is fenced, restart or not.
  Reply stale =
      Http(port, "POST", "/v1/stream/__ds/subscriptions/pool/ack", With(kJson, token), ack + "}");
  CHECK(stale.status == 409);
  CHECK(stale.body.find("FENCED") != std::string::npos);
}

TEST_CASE("subscriptions: 1000 streams on one pattern, appends on all, every one acked") {
  dstest::TempDir dir;
  dstest::ServerProcess server(kServer, dir.path());
  int port = server.port();
  Receiver hook;
  REQUIRE(Http(port, "PUT", "/v1/stream/__ds/subscriptions/many", kJson,
               WebhookDef("many/*", hook.Url()))
              .status == 201);
  constexpr int kStreams = 1000;
  for (int i = 0; i < kStreams; ++i) {
    REQUIRE(Http(port, "PUT", "/v1/stream/many/" + std::to_string(i), kText).status == 201);
  }
  for (int i = 0; i < kStreams; ++i) {
    REQUIRE(Http(port, "POST", "/v1/stream/many/" + std::to_string(i), kText, "x").status == 204);
  }
  std::string tail = Http(port, "HEAD", "/v1/stream/many/0").headers["stream-next-offset"];
  std::map<std::string, std::string> acked;
  CHECK(Eventually(
      [&] {
        acked = AckedOffsets(Http(port, "GET", "/v1/stream/__ds/subscriptions/many").body);
        if (acked.size() != kStreams) return false;
        for (auto& [path, offset] : acked) {
          if (offset != tail) return false;
        }
        return true;
      },
      60s));
  CHECK(acked.size() == kStreams);
  // Wakes gather what came while one was out: fewer wakes than appends.
  CHECK(hook.Count() >= 1);
  CHECK(hook.Count() <= static_cast<size_t>(kStreams));
}

TEST_CASE("subscriptions: under project auth the __ds routes need the project's manage token") {
  dstest::TempDir dir;
  dstest::TestProjects projects(dir.path(), {"a", "b", "_default"});
  auto token = [&](const std::string& project, durablestreams::Scope scope) {
    return projects.Token(project, scope);
  };
  using durablestreams::Scope;
  dstest::ServerProcess server(kServer, dir.path(), {"--auth", "jwt"});
  int port = server.port();
  Receiver hook;
  hook.answer = "{}";  // acked by the callback instead
  std::string def = WebhookDef("*", hook.Url());
  const std::string sub_a = "/v1/stream/a/__ds/subscriptions/s";
  CHECK(Http(port, "PUT", sub_a, kJson, def).status == 401);
  CHECK(Http(port, "PUT", sub_a, With(kJson, token("a", Scope::kRead)), def).status == 403);
  CHECK(Http(port, "PUT", sub_a, With(kJson, token("a", Scope::kWrite)), def).status == 403);
  CHECK(Http(port, "PUT", sub_a, With(kJson, token("b", Scope::kManage)), def).status == 401);
  CHECK(Http(port, "GET", sub_a, With({}, token("a", Scope::kManage))).status == 404);
  Reply made = Http(port, "PUT", sub_a, With(kJson, token("a", Scope::kManage)), def);
  REQUIRE(made.status == 201);
  CHECK(Field(made.body, "webhook").find("/v1/stream/a/__ds/jwks.json") != std::string::npos);
  // Another project does not see it, and its own root is apart.
  CHECK(Http(port, "GET", "/v1/stream/b/__ds/subscriptions/s", With({}, token("b", Scope::kManage)))
            .status == 404);
  CHECK(Http(port, "GET", "/v1/stream/__ds/subscriptions/s",
             With({}, token("_default", Scope::kManage)))
            .status == 404);
  // A _default subscription cannot name another project's stream.
  CHECK(Http(port, "PUT", "/v1/stream/__ds/subscriptions/x",
             With(kJson, token("_default", Scope::kManage)),
             R"({"type":"webhook","streams":["a/doc"],"webhook":{"url":")" + hook.Url() + "\"}}")
            .status == 400);
  // No stream can be made under a project's __ds.
  CHECK(Http(port, "PUT", "/v1/stream/_default/__ds/x",
             With(kText, token("_default", Scope::kManage)))
            .status == 400);
  // The JWKS is public.
  CHECK(Http(port, "GET", "/v1/stream/a/__ds/jwks.json").status == 200);

  // A wake of a's stream; its callback needs only the wake's token.
  REQUIRE(
      Http(port, "PUT", "/v1/stream/a/doc", With(kText, token("a", Scope::kWrite)), "hi").status ==
      201);
  REQUIRE(hook.WaitFor(1));
  std::string body = hook.At(0).body;
  std::string url = Field(body, "callback_url");
  REQUIRE(url.find("/v1/stream/a/__ds/subscriptions/s/callback") != std::string::npos);
  std::string target = url.substr(url.find("/v1/"));
  std::string cb = R"({"wake_id":")" + Field(body, "wake_id") + R"(","generation":)" +
                   Field(body, "generation") + R"(,"done":true})";
  CHECK(Http(port, "POST", target, kJson, cb).status == 401);
  CHECK(Http(port, "POST", target, With(kJson, token("a", Scope::kManage)), cb).status == 401);
  CHECK(Http(port, "POST", target, With(kJson, Field(body, "callback_token")), cb).status == 200);
}

TEST_CASE(
    "subscriptions: a rotated webhook key signs; the previous stays published until retired") {
  dstest::TempDir dir;
  Receiver hook;
  std::string old_jwks;
  {
    dstest::ServerProcess server(kServer, dir.path());
    old_jwks = Http(server.port(), "GET", "/v1/stream/__ds/jwks.json").body;
    REQUIRE(Http(server.port(), "PUT", "/v1/stream/__ds/subscriptions/k", kJson,
                 WebhookDef("k/*", hook.Url()))
                .status == 201);
    server.Kill(SIGTERM);
  }
  std::string rotate = kServer + " webhook-key rotate --data-dir " + dir.path() + " >/dev/null";
  REQUIRE(std::system(rotate.c_str()) == 0);
  {
    dstest::ServerProcess server(kServer, dir.path());
    std::string jwks = Http(server.port(), "GET", "/v1/stream/__ds/jwks.json").body;
    simdjson::dom::parser parser;
    simdjson::dom::array keys;
    REQUIRE(!parser.parse(jwks)["keys"].get_array().get(keys));
    CHECK(keys.size() == 2);
    REQUIRE(Http(server.port(), "PUT", "/v1/stream/k/1", kText, "x").status == 201);
    REQUIRE(hook.WaitFor(1));
    Receiver::Wake w = hook.At(0);
    CHECK(SignedByJwks(jwks, w.signature, w.body));
    CHECK_FALSE(SignedByJwks(old_jwks, w.signature, w.body));  // the new key signs
    server.Kill(SIGTERM);
  }
  std::string retire = kServer + " webhook-key retire --data-dir " + dir.path() + " >/dev/null";
  REQUIRE(std::system(retire.c_str()) == 0);
  dstest::ServerProcess server(kServer, dir.path());
  std::string jwks = Http(server.port(), "GET", "/v1/stream/__ds/jwks.json").body;
  simdjson::dom::parser parser;
  std::string_view old_kid;
  REQUIRE(!parser.parse(old_jwks)["keys"].at(0)["kid"].get_string().get(old_kid));
  const std::string retired(old_kid);
  CHECK(jwks.find("\"" + retired + "\"") == std::string::npos);  // the first key is gone
  simdjson::dom::array keys;
  REQUIRE(!parser.parse(jwks)["keys"].get_array().get(keys));
  CHECK(keys.size() == 1);
}

TEST_CASE("subscriptions: with --subscriptions off the __ds paths are 501 and hold no stream") {
  dstest::TempDir dir;
  dstest::ServerProcess server(kServer, dir.path(), {"--subscriptions", "off"});
  int port = server.port();
  Reply put = Http(port, "PUT", "/v1/stream/__ds/subscriptions/s", kJson,
                   WebhookDef("a/*", "http://127.0.0.1:9/hook"));
  CHECK(put.status == 501);
  CHECK(put.body.find("NOT_IMPLEMENTED") != std::string::npos);
  CHECK(Http(port, "GET", "/v1/stream/__ds/jwks.json").status == 501);
  CHECK(Http(port, "PUT", "/v1/stream/__ds", kText).status == 501);
  CHECK(Http(port, "PUT", "/v1/stream/a/__ds", kText).status == 201);  // only the first segment
}

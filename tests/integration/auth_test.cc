// Project auth over real HTTP (--auth jwt, docs/auth.md): the negative
// matrix (every row asserts its status and that nothing changed), key
// rotation, live reads that end when their token does, and the CLI.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>

#include "durablestreams/jwt.h"
#include "durablestreams/projects.h"
#include "support/loopback.h"
#include "support/raw_http.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace {

using durablestreams::MintToken;
using durablestreams::ProjectStore;
using durablestreams::Scope;
using durablestreams::TokenClaims;

const std::string kServer = DS_SERVER_BINARY;

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string B64Url(std::string_view bytes) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out += a[(v >> k) & 63];
  }
  if (bytes.size() - i == 1) {
    uint32_t v = uint8_t(bytes[i]) << 16;
    out += a[v >> 18];
    out += a[(v >> 12) & 63];
  } else if (bytes.size() - i == 2) {
    uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += a[v >> 18];
    out += a[(v >> 12) & 63];
    out += a[(v >> 6) & 63];
  }
  return out;
}

// A token made by hand: any header, any payload, signed with `md` (null: no
// signature at all).
std::string Craft(const std::string& header, const std::string& payload, const std::string& key,
                  const EVP_MD* md) {
  std::string input = B64Url(header) + "." + B64Url(payload);
  std::string sig;
  if (md) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(md, key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), out, &len);
    sig = B64Url(std::string(reinterpret_cast<char*>(out), len));
  }
  return input + "." + sig;
}

std::string Token(const std::string& secret, const std::string& sub, Scope scope,
                  int64_t exp_from_now = 3600, std::optional<std::string> stream = std::nullopt) {
  TokenClaims c;
  c.sub = sub;
  c.scope = scope;
  c.exp = Now() + exp_from_now;
  c.stream_id = std::move(stream);
  return MintToken(c, secret);
}

using dstest::Http;
using dstest::Reply;
using H = dstest::Headers;

// One row of a table of requests: what to send, the status it must get.
struct Row {
  const char* name;
  std::string method, target;
  H headers;
  std::string body;
  int status;
};

std::pair<std::string, std::string> Bearer(const std::string& token) {
  return {"Authorization", "Bearer " + token};
}

struct Env {
  dstest::TempDir dir;
  std::shared_ptr<ProjectStore> store;
  std::map<std::string, std::string> secret;  // project -> its first secret
  std::unique_ptr<dstest::ServerProcess> server;

  Env() {
    auto s = ProjectStore::Open(dir.path());
    REQUIRE(s.ok());
    store = std::move(s).value();
    for (const char* p : {"a", "b", "_default"}) {
      auto made = store->Create(p);
      REQUIRE(made.ok());
      secret[p] = made->secrets[0];
    }
    server = std::make_unique<dstest::ServerProcess>(kServer, dir.path(),
                                                     std::vector<std::string>{"--auth", "jwt"});
  }
  int port() const { return server->port(); }
  std::string Manage(const std::string& project) {
    return Token(secret[project], project, Scope::kManage);
  }
};

// What a reader with the right token sees of each stream the matrix aims
// at: status, tail and body.
std::string Snapshot(Env& env) {
  std::string out;
  for (auto [project, path] :
       std::vector<std::pair<std::string, std::string>>{{"a", "a/doc"},
                                                        {"a", "a/new"},
                                                        {"a", "a/fork"},
                                                        {"a", "a//doc"},
                                                        {"b", "b/doc"},
                                                        {"_default", "doc"},
                                                        {"_default", "new"}}) {
    Reply r =
        Http(env.port(), "GET", "/v1/stream/" + path + "?offset=-1", {Bearer(env.Manage(project))});
    out += path + " " + std::to_string(r.status) + " " + r.headers["stream-next-offset"] + " " +
           r.body + "\n";
  }
  return out;
}

}  // namespace

TEST_CASE("project auth: the negative matrix refuses and changes nothing") {
  Env env;
  for (auto [project, path] : std::vector<std::pair<std::string, std::string>>{
           {"a", "a/doc"}, {"b", "b/doc"}, {"_default", "doc"}}) {
    Reply made = Http(env.port(), "PUT", "/v1/stream/" + path,
                      {Bearer(env.Manage(project)), {"Content-Type", "text/plain"}}, "hello");
    REQUIRE(made.status == 201);
  }
  const std::string sa = env.secret["a"];
  const std::string hs256 = R"({"alg":"HS256","typ":"JWT"})";
  auto claims = [](const std::string& extra) {
    return R"({"sub":"a","scope":"write","exp":)" + std::to_string(Now() + 3600) + extra + "}";
  };
  std::string write_a = Token(sa, "a", Scope::kWrite);
  std::string read_a = Token(sa, "a", Scope::kRead);
  const H text = {{"Content-Type", "text/plain"}};
  auto with = [&](const std::string& token, H h = {}) {
    h.push_back(Bearer(token));
    return h;
  };

  std::vector<Row> rows = {
      {"no token, read", "GET", "/v1/stream/a/doc?offset=-1", {}, "", 401},
      {"no token, read of a stream that does not exist",
       "GET",
       "/v1/stream/a/none?offset=-1",
       {},
       "",
       401},
      {"no token, create", "PUT", "/v1/stream/a/new", text, "", 401},
      {"no token, append", "POST", "/v1/stream/a/doc", text, "x", 401},
      {"no token, delete", "DELETE", "/v1/stream/a/doc", {}, "", 401},
      {"no token, long-poll", "GET", "/v1/stream/a/doc?offset=-1&live=long-poll", {}, "", 401},
      {"no token, SSE", "GET", "/v1/stream/a/doc?offset=-1&live=sse", {}, "", 401},
      {"Bearer garbage", "POST", "/v1/stream/a/doc", with("garbage", text), "x", 401},
      {"Basic credentials",
       "POST",
       "/v1/stream/a/doc",
       {{"Authorization", "Basic YTpi"}, text[0]},
       "x",
       401},
      {"two Authorization headers", "POST", "/v1/stream/a/doc", with(write_a, with(write_a, text)),
       "x", 401},
      {"wrong signature", "POST", "/v1/stream/a/doc",
       with(Token("not-the-secret-of-a-not-the-secret-of-a", "a", Scope::kWrite), text), "x", 401},
      {"token of project b on a", "POST", "/v1/stream/a/doc",
       with(Token(env.secret["b"], "b", Scope::kWrite), text), "x", 401},
      {"a's secret, sub b", "POST", "/v1/stream/a/doc", with(Token(sa, "b", Scope::kWrite), text),
       "x", 403},
      {"alg none", "POST", "/v1/stream/a/doc",
       with(Craft(R"({"alg":"none"})", claims(""), sa, nullptr), text), "x", 401},
      {"alg HS512 with the secret", "POST", "/v1/stream/a/doc",
       with(Craft(R"({"alg":"HS512"})", claims(""), sa, EVP_sha512()), text), "x", 401},
      {"alg RS256 with the secret as key", "POST", "/v1/stream/a/doc",
       with(Craft(R"({"alg":"RS256"})", claims(""), sa, EVP_sha256()), text), "x", 401},
      {"two alg fields", "POST", "/v1/stream/a/doc",
       with(Craft(R"({"alg":"HS256","alg":"none"})", claims(""), sa, EVP_sha256()), text), "x",
       401},
      {"crit header", "POST", "/v1/stream/a/doc",
       with(Craft(R"({"alg":"HS256","crit":["exp"]})", claims(""), sa, EVP_sha256()), text), "x",
       401},
      {"expired by 61 s", "POST", "/v1/stream/a/doc",
       with(Token(sa, "a", Scope::kWrite, -61), text), "x", 401},
      {"nbf in the future", "POST", "/v1/stream/a/doc",
       with(Craft(hs256, claims(",\"nbf\":" + std::to_string(Now() + 120)), sa, EVP_sha256()),
            text),
       "x", 401},
      {"exp missing", "POST", "/v1/stream/a/doc",
       with(Craft(hs256, R"({"sub":"a","scope":"write"})", sa, EVP_sha256()), text), "x", 401},
      {"exp a string", "POST", "/v1/stream/a/doc",
       with(Craft(hs256, R"({"sub":"a","scope":"write","exp":"9999999999"})", sa, EVP_sha256()),
            text),
       "x", 401},
      {"unknown scope", "POST", "/v1/stream/a/doc",
       with(Craft(hs256, R"({"sub":"a","scope":"admin","exp":9999999999})", sa, EVP_sha256()),
            text),
       "x", 401},
      {"sub given twice", "POST", "/v1/stream/a/doc",
       with(Craft(hs256, R"({"sub":"b","sub":"a","scope":"write","exp":9999999999})", sa,
                  EVP_sha256()),
            text),
       "x", 401},
      {"signature padded", "POST", "/v1/stream/a/doc", with(write_a + "=", text), "x", 401},
      {"read scope, append", "POST", "/v1/stream/a/doc", with(read_a, text), "x", 403},
      {"read scope, create", "PUT", "/v1/stream/a/new", with(read_a, text), "", 403},
      {"read scope, delete", "DELETE", "/v1/stream/a/doc", with(read_a), "", 403},
      {"stream_id for another stream, read", "GET", "/v1/stream/a/doc?offset=-1",
       with(Token(sa, "a", Scope::kRead, 3600, "other")), "", 403},
      {"stream_id for another stream, write", "POST", "/v1/stream/a/doc",
       with(Token(sa, "a", Scope::kWrite, 3600, "other"), text), "x", 403},
      {"stream_id, a double slash makes another stream", "PUT", "/v1/stream/a//doc",
       with(Token(sa, "a", Scope::kWrite, 3600, "doc"), text), "", 403},
      {"dot-dot segment", "POST", "/v1/stream/a/../b/doc", with(write_a, text), "x", 400},
      {"encoded dot-dot", "POST", "/v1/stream/a/%2e%2e/b/doc", with(write_a, text), "x", 400},
      {"percent-encoded slash is a slash: b's stream, a's token", "POST", "/v1/stream/b%2Fdoc",
       with(write_a, text), "x", 401},
      {"percent-encoded slash: not _default's stream", "POST", "/v1/stream/a%2Fdoc",
       with(Token(env.secret["_default"], "_default", Scope::kWrite), text), "x", 401},
      {"double slash: an empty project", "POST", "/v1/stream//doc", with(write_a, text), "x", 401},
      {"_default named as a project", "POST", "/v1/stream/_default/doc",
       with(Token(env.secret["_default"], "_default", Scope::kWrite), text), "x", 400},
      {"_default's token on a", "POST", "/v1/stream/a/doc",
       with(Token(env.secret["_default"], "_default", Scope::kWrite), text), "x", 401},
      {"a's token on a _default stream", "POST", "/v1/stream/doc", with(write_a, text), "x", 401},
      {"fork from another project", "PUT", "/v1/stream/a/fork",
       with(write_a, {{"Stream-Forked-From", "/v1/stream/b/doc"}}), "", 403},
      {"fork from _default named as a project", "PUT", "/v1/stream/a/fork",
       with(write_a, {{"Stream-Forked-From", "/v1/stream/_default/doc"}}), "", 403},
      {"fork with a token for one stream", "PUT", "/v1/stream/a/fork",
       with(Token(sa, "a", Scope::kWrite, 3600, "fork"),
            {{"Stream-Forked-From", "/v1/stream/a/doc"}}),
       "", 403},
      {"fork, read scope", "PUT", "/v1/stream/a/fork",
       with(read_a, {{"Stream-Forked-From", "/v1/stream/a/doc"}}), "", 403},
  };

  const std::string before = Snapshot(env);
  Reply missing_ref;
  for (const Row& row : rows) {
    CAPTURE(row.name);
    Reply r = Http(env.port(), row.method, row.target, row.headers, row.body);
    CHECK(r.status == row.status);
    CHECK(r.headers["content-type"].rfind("application/json", 0) == 0);
    if (row.status == 401) {
      CHECK(r.headers["www-authenticate"].rfind("Bearer", 0) == 0);
      CHECK(r.reason == "Unauthorized");
    }
    CHECK(Snapshot(env) == before);
  }
  // A refusal says the same of a stream that exists and one that does not.
  Reply exists = Http(env.port(), "GET", "/v1/stream/a/doc?offset=-1", {Bearer(read_a + "x")});
  Reply absent = Http(env.port(), "GET", "/v1/stream/a/none?offset=-1", {Bearer(read_a + "x")});
  CHECK(exists.status == 401);
  CHECK(exists.body == absent.body);
  Reply exists403 = Http(env.port(), "POST", "/v1/stream/a/doc", with(read_a, text), "x");
  Reply absent403 = Http(env.port(), "POST", "/v1/stream/a/none", with(read_a, text), "x");
  CHECK(exists403.status == 403);
  CHECK(exists403.body == absent403.body);

  // The controls: the right tokens do what they ask.
  CHECK(Http(env.port(), "GET", "/v1/stream/a/doc?offset=-1", with(read_a)).body == "hello");
  CHECK(
      Http(env.port(), "HEAD", "/v1/stream/a/doc", with(Token(sa, "a", Scope::kRead, 3600, "doc")))
          .status == 200);
  CHECK(Http(env.port(), "POST", "/v1/stream/a/doc", with(write_a, text), " world").status == 204);
  CHECK(Http(env.port(), "POST", "/v1/stream/doc",
             with(Token(env.secret["_default"], "_default", Scope::kWrite), text), "!")
            .status == 204);
  CHECK(Http(env.port(), "PUT", "/v1/stream/a/fork",
             with(write_a, {{"Stream-Forked-From", "/v1/stream/a/doc"}}))
            .status == 201);
  CHECK(Http(env.port(), "GET", "/v1/stream/a/fork?offset=-1", with(read_a)).body == "hello world");
  CHECK(Http(env.port(), "DELETE", "/v1/stream/a/fork", with(write_a)).status == 204);
}

TEST_CASE("project auth: secrets rotate, and a removed secret's tokens fail on the next request") {
  Env env;
  std::string old_token = Token(env.secret["a"], "a", Scope::kWrite);
  const std::vector<std::pair<std::string, std::string>> text = {{"Content-Type", "text/plain"},
                                                                 Bearer(old_token)};
  REQUIRE(Http(env.port(), "PUT", "/v1/stream/a/log", text).status == 201);

  // Another connection to projects.db, as the CLI's would be.
  auto other = ProjectStore::Open(env.dir.path());
  REQUIRE(other.ok());
  auto fresh = (*other)->Rotate("a");
  REQUIRE(fresh.ok());
  std::string new_token = Token(*fresh, "a", Scope::kRead);
  CHECK(Http(env.port(), "GET", "/v1/stream/a/log?offset=-1", {Bearer(new_token)}).status == 200);
  CHECK(Http(env.port(), "GET", "/v1/stream/a/log?offset=-1", {Bearer(old_token)}).status == 200);

  REQUIRE((*other)->RemoveSecret("a", env.secret["a"].substr(0, 8)).ok());
  CHECK(Http(env.port(), "GET", "/v1/stream/a/log?offset=-1", {Bearer(old_token)}).status == 401);
  CHECK(Http(env.port(), "POST", "/v1/stream/a/log", text, "x").status == 401);
  CHECK(Http(env.port(), "GET", "/v1/stream/a/log?offset=-1", {Bearer(new_token)}).body.empty());
  CHECK(Http(env.port(), "GET", "/v1/stream/a/log?offset=-1", {Bearer(new_token)}).status == 200);

  // A deleted project's tokens fail too.
  REQUIRE((*other)->Delete("a").ok());
  CHECK(Http(env.port(), "GET", "/v1/stream/a/log?offset=-1", {Bearer(new_token)}).status == 401);
}

TEST_CASE("project auth: a long-poll or SSE held past its token's expiry is ended") {
  Env env;
  std::string token = Token(env.secret["a"], "a", Scope::kWrite);
  REQUIRE(Http(env.port(), "PUT", "/v1/stream/a/live",
               {{"Content-Type", "text/plain"}, Bearer(token)}, "x")
              .status == 201);
  // Expired 58 s ago: accepted for about two more seconds (the 60 s skew).
  std::string dying = Token(env.secret["a"], "a", Scope::kRead, -58);
  auto started = std::chrono::steady_clock::now();
  Reply poll =
      Http(env.port(), "GET", "/v1/stream/a/live?offset=now&live=long-poll", {Bearer(dying)});
  auto poll_took = std::chrono::steady_clock::now() - started;
  CHECK(poll.status == 204);
  CHECK(poll_took < std::chrono::seconds(10));  // the long-poll timeout is 30 s

  dying = Token(env.secret["a"], "a", Scope::kRead, -58);
  started = std::chrono::steady_clock::now();
  Reply sse = Http(env.port(), "GET", "/v1/stream/a/live?offset=-1&live=sse", {Bearer(dying)});
  auto sse_took = std::chrono::steady_clock::now() - started;
  CHECK(sse.status == 200);
  CHECK(sse.body.find("event: data") != std::string::npos);
  CHECK(sse_took < std::chrono::seconds(10));  // an SSE response lasts 60 s
  // Now it has expired: it opens nothing.
  CHECK(Http(env.port(), "GET", "/v1/stream/a/live?offset=-1&live=sse", {Bearer(dying)}).status ==
        401);
}

TEST_CASE("project auth: the CLI makes projects and tokens while the server runs") {
  Env env;
  auto run = [&](std::string args) {
    // --data-dir goes before a "--" (after which every word is positional).
    size_t dashes = args.find(" -- ");
    std::string dir = " --data-dir " + env.dir.path();
    args.insert(dashes == std::string::npos ? args.size() : dashes, dir);
    std::string cmd = kServer + " " + args + " 2>&1";
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    char buf[512];
    while (p && fgets(buf, sizeof buf, p)) out += buf;
    int rc = p ? pclose(p) : -1;
    return std::make_pair(rc, out);
  };
  auto [rc, out] = run("project create demo");
  REQUIRE(rc == 0);
  CHECK(out.rfind("project demo\nsecret  ", 0) == 0);
  auto [trc, token] = run("token demo --scope write --ttl 10m");
  REQUIRE(trc == 0);
  while (!token.empty() && token.back() == '\n') token.pop_back();
  CHECK(token.find('\n') == std::string::npos);
  CHECK(Http(env.port(), "PUT", "/v1/stream/demo/chat",
             {{"Content-Type", "text/plain"}, Bearer(token)}, "hi")
            .status == 201);
  CHECK(Http(env.port(), "GET", "/v1/stream/demo/chat?offset=-1", {Bearer(token)}).body == "hi");

  auto [lrc, list] = run("project list");
  CHECK(lrc == 0);
  CHECK(list.find("demo\tsecrets=") != std::string::npos);
  CHECK(list.find(out.substr(out.find("secret  ") + 8, 20)) == std::string::npos);  // not in full
  CHECK(run("project create demo").first != 0);
  CHECK(run("project create bad/name").first != 0);
  CHECK(run("token demo --scope admin").first != 0);
  CHECK(run("token nobody --scope read").first != 0);

  auto [rrc, second] = run("project rotate demo");
  REQUIRE(rrc == 0);
  std::string first_secret = out.substr(out.find("secret  ") + 8, 43);
  // "--": a secret's prefix may start with '-'.
  CHECK(run("project remove-secret demo -- " + first_secret.substr(0, 10)).first == 0);
  CHECK(Http(env.port(), "GET", "/v1/stream/demo/chat?offset=-1", {Bearer(token)}).status == 401);
  CHECK(run("project delete demo").first == 0);
  CHECK(run("project list").second.find("demo") == std::string::npos);
}

TEST_CASE(
    "project auth: public streams are read without a token, and reader keys mark what may be "
    "shared") {
  Env env;
  std::string write_a = Token(env.secret["a"], "a", Scope::kWrite);
  std::string read_a = Token(env.secret["a"], "a", Scope::kRead);
  const std::vector<std::pair<std::string, std::string>> text = {{"Content-Type", "text/plain"},
                                                                 Bearer(write_a)};

  Reply pub = Http(env.port(), "PUT", "/v1/stream/a/pub?public=true", text, "open");
  REQUIRE(pub.status == 201);
  CHECK(pub.headers.count("stream-reader-key") == 0);
  CHECK(Http(env.port(), "GET", "/v1/stream/a/pub?offset=-1").body == "open");
  // (A read to the tail is no-store whoever reads it; cache_test.cc has
  // the shared lifetimes of data behind the tail.)
  CHECK(Http(env.port(), "GET", "/v1/stream/a/pub?offset=-1").headers["cache-control"] ==
        "no-store");
  CHECK(Http(env.port(), "HEAD", "/v1/stream/a/pub").status == 200);
  CHECK(Http(env.port(), "GET", "/v1/stream/a/pub?offset=-1", {Bearer("garbage")}).status == 200);
  Reply sse = Http(env.port(), "GET", "/v1/stream/a/pub?offset=-1&live=sse", {}, "", 1);
  CHECK(sse.status == 200);
  CHECK(sse.body.find("open") != std::string::npos);
  // Writes still need a token; the flag is fixed.
  CHECK(
      Http(env.port(), "POST", "/v1/stream/a/pub", {{"Content-Type", "text/plain"}}, "x").status ==
      401);
  CHECK(Http(env.port(), "PUT", "/v1/stream/a/pub", text, "open").status == 409);
  CHECK(Http(env.port(), "PUT", "/v1/stream/a/pub?public=false", text, "open").status == 409);
  CHECK(Http(env.port(), "PUT", "/v1/stream/a/pub?public=true", text, "open").status == 200);
  CHECK(Http(env.port(), "PUT", "/v1/stream/a/other?public=maybe", text).status == 400);

  Reply priv = Http(env.port(), "PUT", "/v1/stream/a/priv", text, "closed");
  REQUIRE(priv.status == 201);
  std::string key = priv.headers["stream-reader-key"];
  CHECK(key.size() == 32);
  CHECK(Http(env.port(), "HEAD", "/v1/stream/a/priv", {Bearer(read_a)})
            .headers["stream-reader-key"] == key);
  // Not public: refused exactly as a stream that does not exist is.
  Reply no_token = Http(env.port(), "GET", "/v1/stream/a/priv?offset=-1");
  CHECK(no_token.status == 401);
  CHECK(no_token.body == Http(env.port(), "GET", "/v1/stream/a/none?offset=-1").body);
  CHECK(Http(env.port(), "HEAD", "/v1/stream/a/priv").status == 401);
  CHECK(Http(env.port(), "GET", "/v1/stream/a/priv?offset=-1&rk=" + key).status == 401);
  // With a token: private unless the read carries the reader key.
  CHECK(Http(env.port(), "GET", "/v1/stream/a/priv?offset=-1", {Bearer(read_a)})
            .headers["cache-control"] == "private, no-store");
  CHECK(Http(env.port(), "GET", "/v1/stream/a/priv?offset=-1&rk=wrong", {Bearer(read_a)})
            .headers["cache-control"] == "private, no-store");
  CHECK(Http(env.port(), "GET", "/v1/stream/a/priv?offset=-1&rk=" + key, {Bearer(read_a)})
            .headers["cache-control"] == "no-store");

  // A project that makes its streams public by default.
  REQUIRE(env.store->SetPublicByDefault("b", true).ok());
  std::string write_b = Token(env.secret["b"], "b", Scope::kWrite);
  REQUIRE(Http(env.port(), "PUT", "/v1/stream/b/feed",
               {{"Content-Type", "text/plain"}, Bearer(write_b)}, "news")
              .status == 201);
  CHECK(Http(env.port(), "GET", "/v1/stream/b/feed?offset=-1").body == "news");
  REQUIRE(Http(env.port(), "PUT", "/v1/stream/b/own?public=false",
               {{"Content-Type", "text/plain"}, Bearer(write_b)})
              .status == 201);
  CHECK(Http(env.port(), "GET", "/v1/stream/b/own?offset=-1").status == 401);

  // Both survive a restart.
  env.server.reset();
  env.server = std::make_unique<dstest::ServerProcess>(kServer, env.dir.path(),
                                                       std::vector<std::string>{"--auth", "jwt"});
  CHECK(Http(env.port(), "GET", "/v1/stream/a/pub?offset=-1").body == "open");
  CHECK(Http(env.port(), "HEAD", "/v1/stream/a/priv", {Bearer(read_a)})
            .headers["stream-reader-key"] == key);
  CHECK(Http(env.port(), "GET", "/v1/stream/a/priv?offset=-1").status == 401);
}

TEST_CASE("project auth: each project's CORS origins, for requests and preflights") {
  Env env;
  REQUIRE(env.store->SetCorsOrigins("a", {"https://app.example"}).ok());
  REQUIRE(env.store->SetCorsOrigins("b", {"*"}).ok());
  std::string write_a = Token(env.secret["a"], "a", Scope::kWrite);
  REQUIRE(
      Http(env.port(), "PUT", "/v1/stream/a/doc", {{"Content-Type", "text/plain"}, Bearer(write_a)})
          .status == 201);
  Reply ok = Http(env.port(), "GET", "/v1/stream/a/doc?offset=-1",
                  {Bearer(write_a), {"Origin", "https://app.example"}});
  CHECK(ok.headers["access-control-allow-origin"] == "https://app.example");
  CHECK(ok.headers["vary"].find("Origin") != std::string::npos);
  Reply evil = Http(env.port(), "GET", "/v1/stream/a/doc?offset=-1",
                    {Bearer(write_a), {"Origin", "https://evil.example"}});
  CHECK(evil.status == 200);
  CHECK(evil.headers.count("access-control-allow-origin") == 0);
  Reply pre = Http(env.port(), "OPTIONS", "/v1/stream/a/doc",
                   {{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "POST"}});
  CHECK(pre.status == 204);
  CHECK(pre.headers["access-control-allow-origin"] == "https://app.example");
  CHECK(Http(env.port(), "OPTIONS", "/v1/stream/a/doc", {{"Origin", "https://evil.example"}})
            .headers.count("access-control-allow-origin") == 0);
  CHECK(Http(env.port(), "OPTIONS", "/v1/stream/b/x", {{"Origin", "https://any.example"}})
            .headers["access-control-allow-origin"] == "*");
  // A refusal to an allowed origin is readable by the page.
  CHECK(Http(env.port(), "GET", "/v1/stream/a/doc?offset=-1", {{"Origin", "https://app.example"}})
            .headers["access-control-allow-origin"] == "https://app.example");
  // _default has none.
  CHECK(Http(env.port(), "OPTIONS", "/v1/stream/doc", {{"Origin", "https://app.example"}})
            .headers.count("access-control-allow-origin") == 0);
}

TEST_CASE("project auth: the configuration API needs manage, and never shows a secret in full") {
  Env env;
  const std::string sa = env.secret["a"];
  std::string manage = Token(sa, "a", Scope::kManage);
  Reply got = Http(env.port(), "GET", "/v1/config/a", {Bearer(manage)});
  REQUIRE(got.status == 200);
  CHECK(got.headers["content-type"] == "application/json");
  CHECK(got.body.find(sa.substr(0, 6)) != std::string::npos);
  CHECK(got.body.find(sa.substr(0, 12)) == std::string::npos);
  CHECK(got.body.find("\"publicByDefault\":false") != std::string::npos);

  std::vector<Row> rows = {
      {"no token", "GET", "/v1/config/a", {}, "", 401},
      {"write scope", "GET", "/v1/config/a", {Bearer(Token(sa, "a", Scope::kWrite))}, "", 403},
      {"read scope, PUT",
       "PUT",
       "/v1/config/a",
       {Bearer(Token(sa, "a", Scope::kRead))},
       "{\"publicByDefault\":true}",
       403},
      {"manage of one stream",
       "GET",
       "/v1/config/a",
       {Bearer(Token(sa, "a", Scope::kManage, 3600, "doc"))},
       "",
       403},
      {"b's manage token",
       "GET",
       "/v1/config/a",
       {Bearer(Token(env.secret["b"], "b", Scope::kManage))},
       "",
       401},
      {"unknown project", "GET", "/v1/config/zzz", {Bearer(manage)}, "", 401},
      {"not a project id", "GET", "/v1/config/a/b", {Bearer(manage)}, "", 404},
      {"a prefix that is not a segment", "GET", "/v1/configa", {Bearer(manage)}, "", 404},
      {"POST", "POST", "/v1/config/a", {Bearer(manage)}, "{}", 405},
      {"not JSON", "PUT", "/v1/config/a", {Bearer(manage)}, "nope", 400},
      {"an array", "PUT", "/v1/config/a", {Bearer(manage)}, "[]", 400},
      {"unknown field", "PUT", "/v1/config/a", {Bearer(manage)}, "{\"secrets\":[]}", 400},
      {"bad origin, with a good change",
       "PUT",
       "/v1/config/a",
       {Bearer(manage)},
       "{\"publicByDefault\":true,\"corsOrigins\":[\"https://x.example/path\"]}",
       400},
      {"a prefix of no secret",
       "PUT",
       "/v1/config/a",
       {Bearer(manage)},
       "{\"rotateSecret\":true,\"removeSecret\":\"nope-nope\"}",
       400},
      {"a short secret", "PUT", "/v1/config/a", {Bearer(manage)}, "{\"addSecret\":\"short\"}", 400},
  };
  for (const Row& row : rows) {
    CAPTURE(row.name);
    Reply r = Http(env.port(), row.method, row.target, row.headers, row.body);
    CHECK(r.status == row.status);
    CHECK(r.headers["content-type"].rfind("application/json", 0) == 0);
    CHECK(Http(env.port(), "GET", "/v1/config/a", {Bearer(manage)}).body == got.body);
  }

  Reply put = Http(env.port(), "PUT", "/v1/config/a", {Bearer(manage)},
                   "{\"rotateSecret\":true,\"corsOrigins\":[\"https://app.example\"],"
                   "\"publicByDefault\":true}");
  REQUIRE(put.status == 200);
  size_t at = put.body.find("\"newSecret\":\"");
  REQUIRE(at != std::string::npos);
  std::string fresh = put.body.substr(at + 13, 43);
  CHECK(put.body.find("https://app.example") != std::string::npos);
  CHECK(put.body.find("\"publicByDefault\":true") != std::string::npos);
  // The new secret signs tokens; removing the old one ends the old tokens.
  std::string by_new = Token(fresh, "a", Scope::kManage);
  CHECK(Http(env.port(), "GET", "/v1/config/a", {Bearer(by_new)}).status == 200);
  CHECK(Http(env.port(), "GET", "/v1/config/a", {Bearer(by_new)}).body.find("newSecret") ==
        std::string::npos);
  CHECK(Http(env.port(), "PUT", "/v1/config/a", {Bearer(by_new)},
             "{\"removeSecret\":\"" + sa.substr(0, 10) + "\"}")
            .status == 200);
  CHECK(Http(env.port(), "GET", "/v1/config/a", {Bearer(manage)}).status == 401);
}

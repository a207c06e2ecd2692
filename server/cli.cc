// server/cli.cc: project and token subcommands (cli.h).
//
//   durable-streams-server project create NAME        prints the id and its first secret
//   durable-streams-server project list
//   durable-streams-server project rotate NAME        adds a secret and prints it
//   durable-streams-server project remove-secret NAME [--] PREFIX
//   durable-streams-server project delete NAME
//   durable-streams-server token NAME --scope read|write|manage [--stream S] [--ttl 1h]
//   durable-streams-server webhook-key rotate         a new signing key; the old one stays
//                                                     published until retired
//   durable-streams-server webhook-key retire         stops publishing the previous key
//   durable-streams-server stream export|adopt PATH   (stream_cli.cc)
//
// Each takes --data-dir DIR (default ./data), as the server does. They work
// while a server runs on that directory: projects.db is shared, and the
// server sees a change on its next request (projects.h); a webhook key
// change is seen when the server next starts (subscriptions.h).
#include "cli.h"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "durablestreams/jwt.h"
#include "durablestreams/projects.h"
#include "durablestreams/subscriptions.h"

namespace durablestreams::cli {

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "durable-streams-server: %s\n", message.c_str());
  return 1;
}

int UsageError(const char* message) {
  std::fprintf(stderr,
               "durable-streams-server: %s\n"
               "usage: durable-streams-server project create|list|rotate|remove-secret|delete ...\n"
               "       durable-streams-server token NAME --scope read|write|manage [--stream S]"
               " [--ttl 1h]\n"
               "       durable-streams-server webhook-key rotate|retire\n"
               "       (each with --data-dir DIR, default ./data)\n",
               message);
  return 2;
}

// "90", "90s", "30m", "1h", "7d": seconds.
bool ParseTtl(std::string_view text, int64_t* seconds) {
  int64_t v = 0;
  auto [at, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || at == text.data() || v <= 0) return false;
  std::string_view unit(at, static_cast<size_t>(text.data() + text.size() - at));
  int64_t mul;
  if (unit.empty() || unit == "s") {
    mul = 1;
  } else if (unit == "m") {
    mul = 60;
  } else if (unit == "h") {
    mul = 3600;
  } else if (unit == "d") {
    mul = 86400;
  } else {
    return false;
  }
  if (v > (int64_t{1} << 40) / mul) return false;
  *seconds = v * mul;
  return true;
}

struct Args {
  std::string data_dir = "./data";
  std::vector<std::string> words;  // positional
  std::string scope, stream, ttl = "1h";
};

// "--" ends the options: what follows is positional, so that a secret's
// prefix that starts with '-' can be named.
bool ParseArgs(int argc, char** argv, Args* a, std::string* error) {
  for (int i = 1; i < argc; ++i) {
    std::string_view v = argv[i];
    std::string* target = nullptr;
    if (v == "--") {
      for (++i; i < argc; ++i) a->words.emplace_back(argv[i]);
      break;
    }
    if (v == "--data-dir") {
      target = &a->data_dir;
    } else if (v == "--scope") {
      target = &a->scope;
    } else if (v == "--stream") {
      target = &a->stream;
    } else if (v == "--ttl") {
      target = &a->ttl;
    } else if (v.size() > 1 && v[0] == '-') {
      *error = "unknown option " + std::string(v) + " (put -- before a word that starts with '-')";
      return false;
    } else {
      a->words.emplace_back(v);
      continue;
    }
    if (i + 1 >= argc) {
      *error = std::string(v) + " needs a value";
      return false;
    }
    *target = argv[++i];
  }
  return true;
}

Result<std::unique_ptr<ProjectStore>> OpenStore(const Args& a) {
  return ProjectStore::Open(a.data_dir);
}

int Project(const Args& a) {
  if (a.words.size() < 2) return UsageError("project needs a command");
  const std::string& cmd = a.words[1];
  size_t want = cmd == "list" ? 2 : cmd == "remove-secret" ? 4 : 3;
  if (a.words.size() != want) return UsageError("wrong number of arguments");
  auto store = OpenStore(a);
  if (!store.ok()) return Fail(store.status().ToString());
  if (cmd == "create") {
    Result<durablestreams::Project> p = (*store)->Create(a.words[2]);
    if (!p.ok()) return Fail(p.status().ToString());
    std::printf("project %s\nsecret  %s\n", p->id.c_str(), p->secrets[0].c_str());
    return 0;
  }
  if (cmd == "list") {
    auto projects = (*store)->Current();
    if (!projects.ok()) return Fail(projects.status().ToString());
    for (const auto& [id, p] : **projects) {
      std::string secrets, origins;
      for (const std::string& s : p.secrets) {
        secrets += (secrets.empty() ? "" : ",") + SecretPrefix(s) + "...";
      }
      for (const std::string& o : p.cors_origins) origins += (origins.empty() ? "" : ",") + o;
      std::printf("%s\tsecrets=%s\tcors=%s\tdefault=%s\n", id.c_str(),
                  secrets.empty() ? "(none)" : secrets.c_str(),
                  origins.empty() ? "(none)" : origins.c_str(),
                  p.public_by_default ? "public" : "private");
    }
    return 0;
  }
  if (cmd == "rotate") {
    Result<std::string> secret = (*store)->Rotate(a.words[2]);
    if (!secret.ok()) return Fail(secret.status().ToString());
    std::printf("%s\n", secret->c_str());
    return 0;
  }
  Status s;
  if (cmd == "remove-secret") {
    s = (*store)->RemoveSecret(a.words[2], a.words[3]);
  } else if (cmd == "delete") {
    s = (*store)->Delete(a.words[2]);
  } else {
    return UsageError("unknown project command");
  }
  if (!s.ok()) return Fail(s.ToString());
  return 0;
}

int Token(const Args& a) {
  if (a.words.size() != 2) return UsageError("token needs a project name");
  std::optional<Scope> scope = ParseScope(a.scope);
  if (!scope) return UsageError("--scope must be read, write or manage");
  int64_t ttl = 0;
  if (!ParseTtl(a.ttl, &ttl)) return UsageError("--ttl must be like 90s, 30m, 1h or 7d");
  auto store = OpenStore(a);
  if (!store.ok()) return Fail(store.status().ToString());
  auto projects = (*store)->Current();
  if (!projects.ok()) return Fail(projects.status().ToString());
  auto it = (*projects)->find(a.words[1]);
  if (it == (*projects)->end()) return Fail("no project " + a.words[1]);
  if (it->second.secrets.empty()) return Fail("project " + a.words[1] + " has no secret: rotate");
  TokenClaims c;
  c.sub = a.words[1];
  c.scope = *scope;
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  c.iat = now;
  c.exp = now + ttl;
  if (!a.stream.empty()) c.stream_id = a.stream;
  std::printf("%s\n", MintToken(c, it->second.secrets.back()).c_str());
  return 0;
}

int WebhookKey(const Args& a) {
  if (a.words.size() != 2) return UsageError("webhook-key needs rotate or retire");
  Status s;
  if (a.words[1] == "rotate") {
    s = subscriptions::RotateWebhookKey(a.data_dir);
  } else if (a.words[1] == "retire") {
    s = subscriptions::RetireWebhookKey(a.data_dir);
  } else {
    return UsageError("unknown webhook-key command");
  }
  if (!s.ok()) return Fail(s.ToString());
  std::printf("done: restart the server to %s\n",
              a.words[1] == "rotate" ? "sign with the new key" : "stop publishing the old key");
  return 0;
}

}  // namespace

bool IsSubcommand(int argc, char** argv) {
  if (argc < 2) return false;
  std::string_view first = argv[1];
  return first == "project" || first == "token" || first == "webhook-key" || first == "stream";
}

int RunSubcommand(int argc, char** argv) {
  if (std::string_view(argv[1]) == "stream") return RunStream(argc, argv);
  Args a;
  std::string error;
  if (!ParseArgs(argc, argv, &a, &error)) return UsageError(error.c_str());
  if (a.words[0] == "project") return Project(a);
  if (a.words[0] == "webhook-key") return WebhookKey(a);
  return Token(a);
}

}  // namespace durablestreams::cli

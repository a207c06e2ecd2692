// lib/subscriptions/subscription_service.cc: the subscription service
// (subscription_service.h): its thread, the control APIs and delivery.
#include "subscriptions/subscription_service.h"

#include <openssl/rand.h>
#include <simdjson.h>

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "protocol/errors.h"
#include "protocol/offset.h"
#include "subscriptions/glob.h"
#include "subscriptions/reserved_route.h"
#include "subscriptions/subscription_json.h"
#include "subscriptions/subscription_store.h"
#include "subscriptions/wake_machine.h"
#include "subscriptions/wake_token.h"
#include "subscriptions/webhook_key.h"

namespace durablestreams::subscriptions {

namespace {

std::string Position(uint64_t tail) {
  return protocol::FormatPosition(tail);
}

// The protocol's error shape for the control APIs: {"error":{"code",…}}.
Response SpecError(int status, std::string_view code, std::string_view message,
                   std::string_view extra_json = {}) {
  Response r;
  r.status = status;
  r.headers.Set("Content-Type", "application/json");
  r.body = "{\"error\":{\"code\":";
  protocol::AppendJsonString(code, &r.body);
  r.body += ",\"message\":";
  protocol::AppendJsonString(message, &r.body);
  r.body += extra_json;
  r.body += "}}";
  return r;
}

Response Json(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.Set("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

Response NoContent() {
  Response r;
  r.status = 204;
  return r;
}

int StatusOf(const std::string& code) {
  if (code == "INVALID_REQUEST") return 400;
  if (code == "SUBSCRIPTION_NOT_FOUND") return 404;
  return 409;  // FENCED, INVALID_OFFSET, ALREADY_CLAIMED, NO_PENDING_WORK
}

std::string NewWakeId() {
  unsigned char raw[12];
  RAND_bytes(raw, sizeof raw);
  static const char kHex[] = "0123456789abcdef";
  std::string id = "w_";
  for (unsigned char c : raw) {
    id += kHex[c >> 4];
    id += kHex[c & 15];
  }
  return id;
}

// The body of a callback, ack or release.
struct WakeRequest {
  std::string wake_id;
  int64_t generation = -1;
  std::vector<Ack> acks;
  bool done = false;
};

std::optional<WakeRequest> ParseWakeRequest(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(body).get_object().get(obj)) return std::nullopt;
  WakeRequest w;
  std::string_view text;
  if (obj["wake_id"].get_string().get(text)) return std::nullopt;
  w.wake_id = std::string(text);
  if (obj["generation"].get_int64().get(w.generation)) return std::nullopt;
  simdjson::dom::element acks;
  if (!obj["acks"].get(acks)) {
    simdjson::dom::array list;
    if (acks.get_array().get(list)) return std::nullopt;
    for (simdjson::dom::element a : list) {
      std::string_view stream, offset;
      if (a["stream"].get_string().get(stream) || a["offset"].get_string().get(offset)) {
        return std::nullopt;
      }
      w.acks.push_back({std::string(stream), std::string(offset)});
    }
  }
  simdjson::dom::element done;
  if (!obj["done"].get(done) && done.get_bool().get(w.done)) return std::nullopt;
  return w;
}

std::string BearerOf(const Request& req) {
  const std::string* v = req.headers.Get("Authorization");
  if (!v || v->size() < 7) return {};
  std::string head = v->substr(0, 7);
  for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return head == "bearer " ? v->substr(7) : std::string();
}

struct Sub {
  std::string project;
  std::string id;
  int64_t created_ms = 0;
  std::optional<Glob> glob;
  std::unique_ptr<WakeMachine> machine;
};

class ServiceImpl final : public SubscriptionService {
 public:
  explicit ServiceImpl(SubscriptionServiceOptions o) : o_(std::move(o)) {
    if (!o_.clock) o_.clock = SystemClock();
    if (!o_.split) {
      o_.split = [](const std::string& p) { return std::make_pair(std::string(), p); };
    }
    if (!o_.join) o_.join = [](const std::string&, const std::string& p) { return p; };
  }
  ~ServiceImpl() override { Stop(); }

  Status Init() {
    auto store = SubscriptionStore::Open(o_.data_dir);
    if (!store.ok()) return store.status();
    store_ = std::move(*store);
    auto key = WebhookKey::LoadOrCreate(o_.data_dir + "/webhook-signing-key.pem");
    if (!key.ok()) return key.status();
    key_ = std::move(*key);
    auto sender = WebhookSender::Start(o_.sender);
    if (!sender.ok()) return sender.status();
    sender_ = std::move(*sender);
    return Status::OK();
  }

  StreamChangeFn ChangeHook() override {
    return [this](const std::vector<StreamSummary>& changed) {
      Post([this, changed] { OnChanges(changed); });
    };
  }

  Status Attach(StreamEngine* engine) override {
    engine_ = engine;
    auto all = store_->LoadAll();
    if (!all.ok()) return all.status();
    std::map<std::string, uint64_t> tails;
    for (const StreamSummary& s : engine_->ListStreams("")) tails[s.path] = s.tail;
    for (StoredSubscription& st : *all) {
      if (st.deleted) {
        tombstones_[Key(st.project, st.id)] = st.generation;
        continue;
      }
      ParsedConfig pc = ParseSubscriptionConfig(st.config);
      if (!pc.config) {
        std::fprintf(stderr, "durablestreams: subscription %s not loaded: %s\n", st.id.c_str(),
                     pc.error.message.c_str());
        continue;
      }
      Sub& sub = NewSub(st.project, st.id, st.created_ms, std::move(*pc.config));
      WakeMachine& m = *sub.machine;
      for (auto& [path, link] : st.links) {
        auto t = tails.find(o_.join(st.project, path));
        std::string tail = t == tails.end() ? link.acked : Position(t->second);
        if (link.explicit_link) m.LinkStream(path, false, link.acked, tail);
        if (link.glob) m.LinkStream(path, true, link.acked, tail);
      }
      m.Restore(st.generation, st.wake_id, st.holder, st.lease_expires_ms, st.snapshot,
                st.delivered, st.failed, st.attempts, st.next_attempt_ms);
    }
    // Streams made while the server was down, or whose link was not yet
    // saved, are linked at their start: their data came after.
    for (const StreamSummary& s : engine_->ListStreams("")) OnChanges({s});
    thread_ = std::thread([this] { Run(); });
    return Status::OK();
  }

  void Handle(std::string project, std::string rest, Request request,
              ResponseCallback done) override {
    Post([this, project = std::move(project), rest = std::move(rest), request = std::move(request),
          done = std::move(done)]() mutable { done(Serve(project, rest, request)); });
  }

  void SetPublicRoot(std::string root) override {
    Post([this, root = std::move(root)] { o_.public_root = root; });
  }

  void Stop() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    if (sender_) sender_->Stop();
  }

 private:
  static std::string Key(const std::string& project, const std::string& id) {
    return project + '\n' + id;
  }

  Sub& NewSub(const std::string& project, const std::string& id, int64_t created_ms,
              SubscriptionConfig config) {
    auto sub = std::make_unique<Sub>();
    sub->project = project;
    sub->id = id;
    sub->created_ms = created_ms;
    if (config.pattern) {
      auto g = Glob::Parse(*config.pattern);
      if (g.ok()) sub->glob = std::move(*g);
    }
    sub->machine = std::make_unique<WakeMachine>(std::move(config), NewWakeId);
    Sub& ref = *sub;
    subs_[Key(project, id)] = std::move(sub);
    return ref;
  }

  void Post(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
  }

  void Run() {
    while (true) {
      std::deque<std::function<void()>> batch;
      {
        std::unique_lock<std::mutex> lock(mu_);
        int64_t next = NextDeadline();
        auto ready = [this] { return stopping_ || !tasks_.empty(); };
        if (next == 0) {
          cv_.wait(lock, ready);
        } else {
          int64_t wait_ms = std::max<int64_t>(0, next - o_.clock->NowMillis());
          cv_.wait_for(lock, std::chrono::milliseconds(wait_ms), ready);
        }
        if (stopping_) return;
        batch.swap(tasks_);
      }
      for (auto& task : batch) task();
      int64_t now = o_.clock->NowMillis();
      for (auto& [key, sub] : subs_) {
        int64_t d = sub->machine->NextDeadline();
        if (d != 0 && d <= now) Carry(*sub, sub->machine->OnTime(now));
      }
    }
  }

  // The service thread's own; read under mu_ only by Run's wait.
  int64_t NextDeadline() const {
    int64_t next = 0;
    for (const auto& [key, sub] : subs_) {
      int64_t d = sub->machine->NextDeadline();
      if (d != 0 && (next == 0 || d < next)) next = d;
    }
    return next;
  }

  Status Save(const Sub& sub) {
    Status s = store_->Save(ToStored(sub.project, sub.id, sub.created_ms, *sub.machine));
    if (!s.ok()) {
      std::fprintf(stderr, "durablestreams: subscription %s not saved: %s\n", sub.id.c_str(),
                   s.ToString().c_str());
    }
    return s;
  }

  Endpoints At(const std::string& project) const {
    Endpoints at;
    at.root = o_.public_root + (project.empty() ? "" : project + "/");
    at.kid = key_->kid();
    return at;
  }

  // Saves the state, then carries out what the machine asked for.
  void Carry(Sub& sub, const Effect& e) {
    if (!Save(sub).ok()) return;
    WakeMachine& m = *sub.machine;
    int64_t now = o_.clock->NowMillis();
    if (e.kind == Effect::Kind::kDeliver) {
      std::string token = MintWakeToken(
          {sub.project, sub.id, m.generation(), m.wake_id(), now + kWakeTokenLifetimeMs},
          store_->token_key());
      std::string body = WakeNotificationBody(sub.id, m, token, At(sub.project));
      std::string signature = key_->SignatureHeader(now / 1000, body);
      std::string key = Key(sub.project, sub.id);
      int64_t gen = m.generation();
      std::string wake = m.wake_id();
      sender_->Send({m.config().webhook_url, std::move(body), std::move(signature),
                     [this, key, gen, wake](DeliveryResult r) {
                       Post([this, key, gen, wake, r] { OnDelivered(key, gen, wake, r); });
                     }});
    } else if (e.kind == Effect::Kind::kWriteWakeEvent) {
      AppendCommand a;
      a.path = o_.join(sub.project, m.config().wake_stream);
      a.content_type = "application/json";
      a.body = WakeEventBody(sub.id, e.stream, m.generation(), now);
      std::string id = sub.id;
      engine_->Append(std::move(a), [id](AppendOutcome o) {
        if (o.error) {
          std::fprintf(stderr, "durablestreams: wake event of %s not written: %s\n", id.c_str(),
                       o.error->message.c_str());
        }
      });
    }
  }

  void OnDelivered(const std::string& key, int64_t gen, const std::string& wake,
                   const DeliveryResult& r) {
    auto it = subs_.find(key);
    if (it == subs_.end()) return;
    unsigned char b;
    RAND_bytes(&b, 1);
    double jitter = (b / 127.5) - 1.0;
    Effect e =
        it->second->machine->OnDelivered(gen, wake, r.ok, r.done, o_.clock->NowMillis(), jitter);
    Carry(*it->second, e);
  }

  void OnChanges(const std::vector<StreamSummary>& changed) {
    int64_t now = o_.clock->NowMillis();
    for (const StreamSummary& s : changed) {
      auto [project, path] = o_.split(s.path);
      if (path == "__ds" || path.rfind("__ds/", 0) == 0) continue;
      std::string tail = Position(s.tail);
      for (auto& [key, sub] : subs_) {
        if (sub->project != project) continue;
        WakeMachine& m = *sub->machine;
        bool linked = m.links().count(path) != 0;
        if (!linked) {
          if (!sub->glob || !sub->glob->Matches(path)) continue;
          // Made after the subscription: linked from its start, so its
          // first data wakes it. Made before: from its tail.
          std::string from = s.created_at_ms >= sub->created_ms ? Position(0) : tail;
          m.LinkStream(path, true, from, from);
          if (from == tail) {
            (void)Save(*sub);
            continue;
          }
        }
        Effect e = m.OnTail(path, tail, now);
        if (!linked || e.kind != Effect::Kind::kNone) Carry(*sub, e);
      }
    }
  }

  Sub* Find(const std::string& project, const std::string& id) {
    auto it = subs_.find(Key(project, id));
    return it == subs_.end() ? nullptr : it->second.get();
  }

  std::string TailOf(const std::string& project, const std::string& path) {
    std::string full = o_.join(project, path);
    for (const StreamSummary& s : engine_->ListStreams(full)) {
      if (s.path == full) return Position(s.tail);
    }
    return Position(0);
  }

  Response Serve(const std::string& project, const std::string& rest, const Request& req) {
    ReservedTarget t = RouteReserved(req.method, rest);
    switch (t.route) {
      case ReservedRoute::kNotFound:
        return SpecError(404, "SUBSCRIPTION_NOT_FOUND", "no such control API or subscription");
      case ReservedRoute::kMethodNotAllowed: {
        Response r = SpecError(405, "METHOD_NOT_ALLOWED", "method not allowed here");
        r.headers.Set("Allow", t.allow);
        return r;
      }
      case ReservedRoute::kJwks: {
        Response r;
        r.headers.Set("Content-Type", "application/jwk-set+json");
        r.headers.Set("Cache-Control", "public, max-age=300");
        r.body = "{\"keys\":[" + key_->PublicJwk() + "]}";
        if (req.method == Method::kHead) r.body.clear();
        return r;
      }
      case ReservedRoute::kPutSubscription: return Put(project, t.id, req);
      default: break;
    }
    Sub* sub = Find(project, t.id);
    if (!sub) return SpecError(404, "SUBSCRIPTION_NOT_FOUND", "no such subscription");
    WakeMachine& m = *sub->machine;
    int64_t now = o_.clock->NowMillis();
    switch (t.route) {
      case ReservedRoute::kGetSubscription:
        return Json(200, SubscriptionBody(sub->id, sub->created_ms, m, At(project)));
      case ReservedRoute::kDeleteSubscription: {
        Status s = store_->Delete(project, t.id);
        if (!s.ok()) return SpecError(503, "UNAVAILABLE", "the subscription store failed");
        tombstones_[Key(project, t.id)] = m.generation();
        subs_.erase(Key(project, t.id));
        return NoContent();
      }
      case ReservedRoute::kAddStreams: {
        ConfigError error;
        auto list = ParseStreamList(req.body, &error);
        if (!list) return SpecError(400, error.code, error.message);
        for (const std::string& path : *list) {
          std::string tail = TailOf(project, path);
          m.LinkStream(path, false, tail, tail);
        }
        if (!Save(*sub).ok()) return SpecError(503, "UNAVAILABLE", "the store failed");
        return NoContent();
      }
      case ReservedRoute::kRemoveStream:
        m.UnlinkExplicit(t.stream);
        if (!Save(*sub).ok()) return SpecError(503, "UNAVAILABLE", "the store failed");
        return NoContent();
      case ReservedRoute::kClaim: {
        simdjson::dom::parser parser;
        std::string_view worker;
        if (parser.parse(req.body)["worker"].get_string().get(worker) || worker.empty() ||
            worker.size() > 256) {
          return SpecError(400, "INVALID_REQUEST", "worker must be a name (1 to 256 bytes)");
        }
        Answer a = m.Claim(std::string(worker), now);
        if (a.error == "ALREADY_CLAIMED") {
          std::string extra = ",\"current_holder\":";
          protocol::AppendJsonString(a.message, &extra);
          extra += ",\"generation\":" + std::to_string(m.generation());
          return SpecError(409, a.error, "another worker holds the lease", extra);
        }
        if (!a.error.empty()) return SpecError(StatusOf(a.error), a.error, a.message);
        Carry(*sub, a.effect);
        std::string token = MintWakeToken(
            {project, sub->id, m.generation(), m.wake_id(), now + kWakeTokenLifetimeMs},
            store_->token_key());
        return Json(200, ClaimBody(m, token));
      }
      default: break;
    }
    // Callback, ack, release: the wake's own bearer token.
    WakeTokenCheck check = VerifyWakeToken(BearerOf(req), store_->token_key(), now);
    if (!check.token) {
      bool expired = check.error == WakeTokenError::kExpired;
      Response r = SpecError(401, expired ? "TOKEN_EXPIRED" : "TOKEN_INVALID",
                             expired ? "the token has expired" : "the token is not valid");
      r.headers.Set("WWW-Authenticate", "Bearer");
      return r;
    }
    if (check.token->project != project || check.token->subscription != sub->id) {
      return SpecError(401, "TOKEN_INVALID", "the token is for another subscription");
    }
    std::optional<WakeRequest> w = ParseWakeRequest(req.body);
    if (!w) return SpecError(400, "INVALID_REQUEST", "wake_id and generation are required");
    bool webhook = m.config().type == DeliveryType::kWebhook;
    if ((t.route == ReservedRoute::kCallback) != webhook) {
      return SpecError(400, "INVALID_REQUEST",
                       webhook ? "a webhook subscription is acked by its callback"
                               : "a pull-wake subscription is acked by ack");
    }
    Answer a =
        t.route == ReservedRoute::kRelease
            ? m.Release(check.token->generation, w->generation, w->wake_id, now)
            : m.Callback(check.token->generation, w->generation, w->wake_id, w->acks, w->done, now);
    if (!a.error.empty()) return SpecError(StatusOf(a.error), a.error, a.message);
    Carry(*sub, a.effect);
    if (t.route == ReservedRoute::kRelease) return NoContent();
    return Json(
        200, std::string("{\"ok\":true,\"next_wake\":") + (a.next_wake ? "true" : "false") + "}");
  }

  Response Put(const std::string& project, const std::string& id, const Request& req) {
    ParsedConfig pc = ParseSubscriptionConfig(req.body);
    if (!pc.config) return SpecError(400, pc.error.code, pc.error.message);
    if (Sub* existing = Find(project, id)) {
      if (ConfigHash(existing->machine->config()) != ConfigHash(*pc.config)) {
        return SpecError(409, "SUBSCRIPTION_ALREADY_EXISTS",
                         "a subscription with this id and another definition exists");
      }
      return Json(200, SubscriptionBody(id, existing->created_ms, *existing->machine, At(project)));
    }
    int64_t now = o_.clock->NowMillis();
    std::vector<std::string> explicit_streams = pc.config->streams;
    Sub& sub = NewSub(project, id, now, std::move(*pc.config));
    WakeMachine& m = *sub.machine;
    auto tomb = tombstones_.find(Key(project, id));
    if (tomb != tombstones_.end()) {
      m.Restore(tomb->second, "", "", 0, {}, false, false, 0, 0);
      tombstones_.erase(tomb);
    }
    if (sub.glob) {
      // Backfill at the current tails: no history is replayed.
      for (const StreamSummary& s : engine_->ListStreams(o_.join(project, ""))) {
        auto [p, path] = o_.split(s.path);
        if (p != project || !sub.glob->Matches(path)) continue;
        if (path == "__ds" || path.rfind("__ds/", 0) == 0) continue;
        m.LinkStream(path, true, Position(s.tail), Position(s.tail));
      }
    }
    for (const std::string& path : explicit_streams) {
      std::string tail = TailOf(project, path);
      m.LinkStream(path, false, tail, tail);
    }
    if (!Save(sub).ok()) {
      subs_.erase(Key(project, id));
      return SpecError(503, "UNAVAILABLE", "the subscription store failed");
    }
    return Json(201, SubscriptionBody(id, now, m, At(project)));
  }

  SubscriptionServiceOptions o_;
  std::unique_ptr<SubscriptionStore> store_;
  std::unique_ptr<WebhookKey> key_;
  std::unique_ptr<WebhookSender> sender_;
  StreamEngine* engine_ = nullptr;
  std::thread thread_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;  // GUARDED_BY(mu_)
  bool stopping_ = false;                    // GUARDED_BY(mu_)

  // The service thread's own (and Attach's, before the thread starts).
  std::map<std::string, std::unique_ptr<Sub>> subs_;
  std::map<std::string, int64_t> tombstones_;  // key -> last generation
};

}  // namespace

Result<std::unique_ptr<SubscriptionService>> SubscriptionService::Open(
    SubscriptionServiceOptions options) {
  auto service = std::make_unique<ServiceImpl>(std::move(options));
  Status s = service->Init();
  if (!s.ok()) return s;
  return std::unique_ptr<SubscriptionService>(std::move(service));
}

}  // namespace durablestreams::subscriptions

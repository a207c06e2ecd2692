// lib/subscriptions/subscription_service.cc: the subscription service
// (durablestreams/subscriptions.h): its thread, the control APIs and delivery.
#include <openssl/rand.h>
#include <simdjson.h>

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>

#include "auth/authorizer.h"
#include "durablestreams/project_auth.h"
#include "durablestreams/subscriptions.h"
#include "protocol/errors.h"
#include "protocol/offset.h"
#include "subscriptions/glob.h"
#include "subscriptions/reserved_route.h"
#include "subscriptions/subscription_json.h"
#include "subscriptions/subscription_store.h"
#include "subscriptions/wake_machine.h"
#include "subscriptions/wake_token.h"
#include "subscriptions/webhook_key.h"
#include "subscriptions/webhook_sender.h"

namespace durablestreams::subscriptions {

namespace {

// The most stream paths whose concerned subscriptions are remembered.
constexpr size_t kMaxCachedPaths = 100'000;
// Subscriptions saved in one transaction of a flush.
constexpr size_t kFlushChunk = 64;

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

struct Sub {
  std::string project;
  std::string id;
  int64_t created_ms = 0;
  std::optional<Glob> glob;
  std::unique_ptr<WakeMachine> machine;
  std::string config_text, config_hash;  // Canonical and ConfigHash of its config
};

// A subscription that a stream's changes concern.
struct Match {
  Sub* sub;
  bool linked;  // the stream is one of its links
};

class ServiceImpl final : public SubscriptionService {
 public:
  explicit ServiceImpl(SubscriptionServiceOptions o) : o_(std::move(o)) {
    if (!o_.clock) o_.clock = SystemClock();
  }
  ~ServiceImpl() override { Stop(); }

  Status Init() {
    auto store = SubscriptionStore::Open(o_.data_dir);
    if (!store.ok()) return store.status();
    store_ = std::move(*store);
    auto key = WebhookKey::LoadOrCreate(ActiveKeyPath(o_.data_dir));
    if (!key.ok()) return key.status();
    key_ = std::move(*key);
    auto previous = WebhookKey::LoadIfPresent(PreviousKeyPath(o_.data_dir));
    if (!previous.ok()) return previous.status();
    jwks_ = "{\"keys\":[" + key_->PublicJwk();
    if (*previous && (*previous)->kid() != key_->kid()) jwks_ += "," + (*previous)->PublicJwk();
    jwks_ += "]}";
    WebhookSenderOptions so;
    so.connect_timeout = o_.webhooks.connect_timeout;
    so.total_timeout = o_.webhooks.total_timeout;
    so.max_concurrent = o_.webhooks.max_concurrent;
    so.max_answer_bytes = o_.webhooks.max_answer_bytes;
    auto sender = WebhookSender::Start(so);
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
        auto t = tails.find(Join(st.project, path));
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
    if (!Flush()) return Status::IOError("subscriptions.db cannot be written");
    thread_ = std::thread([this] { Run(); });
    return Status::OK();
  }

  bool Intercept(Request& request, const ResponseCallback& done) override {
    std::string project, rest;
    if (!SplitReserved(request.path, &project, &rest)) return false;
    ReservedTarget t = RouteReserved(request.method, rest);
    if (o_.authorize_control && IsControl(t.route)) {
      AuthDecision d = o_.authorize_control(request, project);
      if (d.denial) {
        done(std::move(*d.denial));
        return true;
      }
    }
    Post([this, project = std::move(project), t = std::move(t), request = std::move(request),
          done]() mutable {
      touched_ = false;
      Response r = Serve(project, t, request);
      if (!touched_) return done(std::move(r));
      // A change is answered once it is saved (Flush).
      replies_.push_back([done, r = std::move(r)](bool saved) mutable {
        done(saved ? std::move(r)
                   : SpecError(503, "UNAVAILABLE", "the subscription store cannot be written"));
      });
    });
    return true;
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
  // Engine path -> (project, path within it), and back (the header's
  // Paths).
  std::pair<std::string, std::string> Split(const std::string& full) const {
    if (!o_.projects) return {std::string(), full};
    ProjectPath at = SplitProjectPath(full);
    return {std::string(at.project), std::string(at.stream)};
  }
  std::string Join(const std::string& project, const std::string& path) const {
    if (!o_.projects || project == kDefaultProject) return path;
    return project + '/' + path;
  }

  // Whether a stream path named in a request of `project` is one of its
  // streams: _default's have one segment (a '/' would name another
  // project's), and none is under __ds.
  bool InProject(const std::string& project, const std::string& path) const {
    if (path == "__ds" || path.rfind("__ds/", 0) == 0) return false;
    return !(o_.projects && project == kDefaultProject && path.find('/') != std::string::npos);
  }

  // Whether `path` is a `__ds` path; if so its project and the rest after
  // `__ds/`.
  bool SplitReserved(const std::string& path, std::string* project, std::string* rest) const {
    auto reserved = [](std::string_view p, std::string* after) {
      if (p == "__ds") {
        after->clear();
        return true;
      }
      if (p.substr(0, 5) != "__ds/") return false;
      *after = std::string(p.substr(5));
      return true;
    };
    if (reserved(path, rest)) {
      *project = o_.projects ? std::string(kDefaultProject) : std::string();
      return true;
    }
    if (!o_.projects) return false;
    size_t slash = path.find('/');
    if (slash == std::string::npos || path.compare(0, slash, kDefaultProject) == 0) return false;
    if (!reserved(std::string_view(path).substr(slash + 1), rest)) return false;
    *project = path.substr(0, slash);
    return true;
  }

  static bool IsControl(ReservedRoute r) {
    switch (r) {
      case ReservedRoute::kPutSubscription:
      case ReservedRoute::kGetSubscription:
      case ReservedRoute::kDeleteSubscription:
      case ReservedRoute::kAddStreams:
      case ReservedRoute::kRemoveStream:
      case ReservedRoute::kClaim: return true;
      default: return false;  // callback, ack, release (their own token), jwks, errors
    }
  }

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
    sub->config_text = Canonical(config);
    sub->config_hash = ConfigHash(config);
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
        if (d != 0 && d <= now) {
          Refresh(*sub, now);
          Carry(*sub, sub->machine->OnTime(now));
        }
      }
      Flush();
    }
  }

  // The service thread's own; read under mu_ only by Run's wait.
  int64_t NextDeadline() const {
    int64_t next = retry_flush_ms_;
    for (const auto& [key, sub] : subs_) {
      int64_t d = sub->machine->NextDeadline();
      if (d != 0 && (next == 0 || d < next)) next = d;
    }
    return next;
  }

  // The subscription changed: it is saved at the next Flush.
  void Save(const Sub& sub) {
    dirty_.insert(Key(sub.project, sub.id));
    touched_ = true;
  }

  // The stored form of `sub`: its row, and the links changed since they
  // were last saved (`*all` gets all of them).
  StoredSubscription Stored(const std::string& key, const Sub& sub,
                            std::map<std::string, StoredLink>* all) {
    StoredSubscription st = ToStored(sub.project, sub.id, sub.created_ms, *sub.machine,
                                     sub.config_text, sub.config_hash);
    *all = st.links;
    auto saved = saved_links_.find(key);
    if (saved == saved_links_.end()) return st;
    std::map<std::string, StoredLink> changed;
    for (const auto& [path, link] : st.links) {
      auto was = saved->second.find(path);
      if (was == saved->second.end() || was->second.acked != link.acked ||
          was->second.glob != link.glob || was->second.explicit_link != link.explicit_link) {
        changed[path] = link;
      }
    }
    for (const auto& [path, link] : saved->second) {
      if (st.links.count(path) == 0) st.removed_links.push_back(path);
    }
    st.all_links = false;
    st.links = std::move(changed);
    return st;
  }

  // Saves every changed subscription, kFlushChunk to a transaction (one
  // fsync each), and after each transaction sends what waited for the
  // subscriptions it saved (webhooks, wake events), so that when a thousand
  // wake at once the first are on their way before the last are saved;
  // then answers the requests that changed state. If the store fails, those
  // answers are 503, the unsaved changes stay marked to be saved a second
  // later, and their effects wait. The service thread's own.
  bool Flush() {
    std::vector<std::string> keys(dirty_.begin(), dirty_.end());
    for (size_t at = 0; at < keys.size(); at += kFlushChunk) {
      std::vector<StoredSubscription> rows;
      std::vector<std::pair<std::string, std::map<std::string, StoredLink>>> links;
      for (size_t i = at; i < std::min(keys.size(), at + kFlushChunk); ++i) {
        auto it = subs_.find(keys[i]);
        if (it == subs_.end()) continue;
        links.emplace_back(keys[i], std::map<std::string, StoredLink>());
        rows.push_back(Stored(keys[i], *it->second, &links.back().second));
      }
      Status s = store_->SaveAll(rows);
      if (!s.ok()) {
        std::fprintf(stderr, "durablestreams: subscriptions not saved: %s\n", s.ToString().c_str());
        auto replies = std::move(replies_);
        replies_.clear();
        for (auto& r : replies) r(false);
        retry_flush_ms_ = o_.clock->NowMillis() + 1000;
        return false;
      }
      for (auto& [key, all] : links) {
        saved_links_[key] = std::move(all);
        dirty_.erase(key);
        auto [from, to] = effects_.equal_range(key);
        std::vector<std::function<void()>> ready;
        for (auto e = from; e != to; ++e) ready.push_back(std::move(e->second));
        effects_.erase(from, to);
        for (auto& e : ready) e();
      }
    }
    dirty_.clear();
    effects_.clear();  // of subscriptions deleted since
    retry_flush_ms_ = 0;
    auto replies = std::move(replies_);
    replies_.clear();
    for (auto& r : replies) r(true);
    return true;
  }

  Endpoints At(const std::string& project) const {
    Endpoints at;
    at.root = o_.public_root + Join(project, "");
    at.kid = key_->kid();
    return at;
  }

  // Marks the state to be saved, and what the machine asked for to be
  // carried out once it is (Flush).
  void Carry(Sub& sub, const Effect& e) {
    Save(sub);
    WakeMachine& m = *sub.machine;
    int64_t now = o_.clock->NowMillis();
    if (e.kind == Effect::Kind::kDeliver) {
      std::string token = MintWakeToken(
          {sub.project, sub.id, m.generation(), m.wake_id(), now + kWakeTokenLifetimeMs},
          store_->token_key());
      std::string body = WakeNotificationBody(sub.id, m, token, At(sub.project));
      std::string key = Key(sub.project, sub.id);
      int64_t gen = m.generation();
      std::string wake = m.wake_id();
      // Signed when it goes out (Flush): signing is the costly part, and
      // the first of many wakes should not wait for the rest to be signed.
      effects_.emplace(
          key, [this,
                d = Delivery{m.config().webhook_url, std::move(body), std::string(),
                             [this, key, gen, wake](DeliveryResult r) {
                               Post([this, key, gen, wake, r] { OnDelivered(key, gen, wake, r); });
                             }},
                now]() mutable {
            d.signature = key_->SignatureHeader(now / 1000, d.body);
            sender_->Send(std::move(d));
          });
    } else if (e.kind == Effect::Kind::kWriteWakeEvent) {
      AppendCommand a;
      a.path = Join(sub.project, m.config().wake_stream);
      a.content_type = "application/json";
      a.body = WakeEventBody(sub.id, e.stream, m.generation(), now);
      effects_.emplace(Key(sub.project, sub.id), [this, a = std::move(a), id = sub.id]() mutable {
        engine_->Append(std::move(a), [id](AppendOutcome o) {
          if (o.error) {
            std::fprintf(stderr, "durablestreams: wake event of %s not written: %s\n", id.c_str(),
                         o.error->message.c_str());
          }
        });
      });
    }
  }

  void OnDelivered(const std::string& key, int64_t gen, const std::string& wake,
                   const DeliveryResult& r) {
    if (o_.metrics) {
      o_.metrics
          ->AddCounter("durable_streams_webhook_deliveries_total", "Webhook deliveries attempted.")
          .Add();
      if (!r.ok) {
        o_.metrics
            ->AddCounter("durable_streams_webhook_failures_total",
                         "Webhook deliveries that failed (no 2xx answer).")
            .Add();
      }
    }
    auto it = subs_.find(key);
    if (it == subs_.end()) return;
    unsigned char b;
    RAND_bytes(&b, 1);
    double jitter = (b / 127.5) - 1.0;
    int64_t now = o_.clock->NowMillis();
    Refresh(*it->second, now);
    Effect e = it->second->machine->OnDelivered(gen, wake, r.ok, r.done, now, jitter);
    Carry(*it->second, e);
  }

  // The subscriptions a change of `full` (an engine path of `project`)
  // concerns, from matches_ or worked out once.
  std::vector<Match>& Concerned(const std::string& full, const std::string& project,
                                const std::string& path) {
    auto it = matches_.find(full);
    if (it != matches_.end()) return it->second;
    if (matches_.size() >= kMaxCachedPaths) matches_.clear();
    std::vector<Match>& list = matches_[full];
    for (auto& [key, sub] : subs_) {
      if (sub->project != project) continue;
      bool linked = sub->machine->links().count(path) != 0;
      if (linked || (sub->glob && sub->glob->Matches(path))) list.push_back({sub.get(), linked});
    }
    return list;
  }

  // Brings the tails of a subscription with a wake out up to date (an idle
  // one's are kept so by OnChanges), before anything that reads them: the
  // end of a wake looks for pending work, acks are checked against them.
  void Refresh(Sub& sub, int64_t now) {
    WakeMachine& m = *sub.machine;
    if (m.Idle()) return;
    std::vector<std::pair<std::string, std::string>> moved;
    for (const auto& [path, link] : m.links()) {
      auto t = tails_.find(Join(sub.project, path));
      if (t != tails_.end() && t->second > link.tail) moved.emplace_back(path, t->second);
    }
    for (auto& [path, tail] : moved) m.OnTail(path, tail, now);
  }

  void OnChanges(const std::vector<StreamSummary>& changed) {
    int64_t now = o_.clock->NowMillis();
    for (const StreamSummary& s : changed) {
      auto [project, path] = Split(s.path);
      if (path == "__ds" || path.rfind("__ds/", 0) == 0) continue;
      std::vector<Match>& concerned = Concerned(s.path, project, path);
      if (concerned.empty()) continue;
      std::string tail = Position(s.tail);
      tails_[s.path] = tail;
      for (Match& match : concerned) {
        Sub* sub = match.sub;
        WakeMachine& m = *sub->machine;
        // A wake is out: its tails are brought up to date when it next
        // moves (Refresh), not on every commit.
        if (match.linked && !m.Idle()) continue;
        bool linked = match.linked;
        match.linked = true;
        if (!linked) {
          // Made after the subscription: linked from its start, so its
          // first data wakes it. Made before: from its tail.
          std::string from = s.created_at_ms >= sub->created_ms ? Position(0) : tail;
          m.LinkStream(path, true, from, from);
          if (from == tail) {
            Save(*sub);
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
    std::string full = Join(project, path);
    for (const StreamSummary& s : engine_->ListStreams(full)) {
      if (s.path == full) return Position(s.tail);
    }
    return Position(0);
  }

  Response Serve(const std::string& project, const ReservedTarget& t, const Request& req) {
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
        r.body = jwks_;
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
    Refresh(*sub, now);
    switch (t.route) {
      case ReservedRoute::kGetSubscription:
        return Json(200, SubscriptionBody(sub->id, sub->created_ms, m, At(project)));
      case ReservedRoute::kDeleteSubscription: {
        Status s = store_->Delete(project, t.id);
        if (!s.ok()) return SpecError(503, "UNAVAILABLE", "the subscription store failed");
        tombstones_[Key(project, t.id)] = m.generation();
        subs_.erase(Key(project, t.id));
        saved_links_.erase(Key(project, t.id));
        dirty_.erase(Key(project, t.id));
        matches_.clear();
        return NoContent();
      }
      case ReservedRoute::kAddStreams: {
        ConfigError error;
        auto list = ParseStreamList(req.body, &error);
        if (!list) return SpecError(400, error.code, error.message);
        matches_.clear();
        for (const std::string& path : *list) {
          if (!InProject(project, path)) {
            return SpecError(400, "INVALID_REQUEST", "a stream is not one of this project's");
          }
        }
        for (const std::string& path : *list) {
          std::string tail = TailOf(project, path);
          m.LinkStream(path, false, tail, tail);
        }
        Save(*sub);
        return NoContent();
      }
      case ReservedRoute::kRemoveStream:
        m.UnlinkExplicit(t.stream);
        matches_.clear();
        Save(*sub);
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
    WakeTokenCheck check = VerifyWakeToken(auth::BearerToken(req), store_->token_key(), now);
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
    bool own = pc.config->wake_stream.empty() || InProject(project, pc.config->wake_stream);
    for (const std::string& path : pc.config->streams) own = own && InProject(project, path);
    if (!own) return SpecError(400, "INVALID_REQUEST", "a stream is not one of this project's");
    if (Sub* existing = Find(project, id)) {
      if (existing->config_hash != ConfigHash(*pc.config)) {
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
      for (const StreamSummary& s : engine_->ListStreams(Join(project, ""))) {
        auto [p, path] = Split(s.path);
        if (p != project || !sub.glob->Matches(path)) continue;
        if (path == "__ds" || path.rfind("__ds/", 0) == 0) continue;
        m.LinkStream(path, true, Position(s.tail), Position(s.tail));
      }
    }
    for (const std::string& path : explicit_streams) {
      std::string tail = TailOf(project, path);
      m.LinkStream(path, false, tail, tail);
    }
    Save(sub);
    matches_.clear();
    return Json(201, SubscriptionBody(id, now, m, At(project)));
  }

  SubscriptionServiceOptions o_;
  std::unique_ptr<SubscriptionStore> store_;
  std::unique_ptr<WebhookKey> key_;
  std::string jwks_;  // the active key's JWK, then the previous key's
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

  // Unsaved changes and what waits for them (Flush).
  std::set<std::string> dirty_;  // keys of subscriptions changed since the last flush
  bool touched_ = false;         // the request being served changed one
  std::vector<std::function<void(bool saved)>> replies_;
  std::multimap<std::string, std::function<void()>> effects_;  // by subscription, in order
  std::map<std::string, std::map<std::string, StoredLink>> saved_links_;  // as in the file
  int64_t retry_flush_ms_ = 0;  // a failed flush is tried again then

  // Engine path -> the subscriptions a change of it concerns (linked, or
  // matched by the pattern): cleared when subscriptions or links change.
  std::unordered_map<std::string, std::vector<Match>> matches_;
  // Engine path -> its latest tail, of the paths some subscription concerns.
  std::unordered_map<std::string, std::string> tails_;
};

}  // namespace

void UseSubscriptions(Options* options, SubscriptionService* service) {
  options->on_stream_change = service->ChangeHook();
  options->intercept = [service](Request& request, const ResponseCallback& done) {
    return service->Intercept(request, done);
  };
}

Result<std::unique_ptr<SubscriptionService>> SubscriptionService::Open(
    SubscriptionServiceOptions options) {
  auto service = std::make_unique<ServiceImpl>(std::move(options));
  Status s = service->Init();
  if (!s.ok()) return s;
  return std::unique_ptr<SubscriptionService>(std::move(service));
}

}  // namespace durablestreams::subscriptions

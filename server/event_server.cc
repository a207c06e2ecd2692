// server/event_server.cc: the event-driven HTTP/1.1 transport.
//
// N loops, each a thread with an epoll set, an eventfd for work posted from
// other threads, a 1 s timerfd for idle checks, and its own listening socket
// on the shared port (SO_REUSEPORT: the kernel spreads connections). A
// connection belongs to one loop for its life; only that loop's thread
// touches it. Engine callbacks (an append's answer from the commit thread, a
// long-poll's from the timer or the commit thread, SSE bytes) reach it by
// posting to its loop, holding a weak reference and the request's
// generation so an answer for a connection that closed meanwhile is dropped.
#include "durablestreams/server/event_server.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "durablestreams/live_stream.h"
#include "http_parser.h"
#include "mailbox.h"
#include "read_pool.h"
#include "response_writer.h"
#include "routing.h"

namespace durablestreams {

namespace event {

using SteadyClock = std::chrono::steady_clock;

// Output queued beyond this stops pulling SSE bytes until the socket drains.
constexpr size_t kLiveHighWater = 256 * 1024;
// Response bodies at least this large are sent from their own buffer, not
// copied behind the headers.
constexpr size_t kSeparateBody = 64 * 1024;
// Live pumps a loop runs before it looks at its sockets again.
constexpr size_t kLivePumpsPerTurn = 128;
// The largest buffer PumpLive keeps for the next event (a larger one, from a
// catch-up, is given back).
constexpr size_t kLiveBufKeep = 16 * 1024;

class Loop;

struct Conn : std::enable_shared_from_this<Conn> {
  // kLinger: the answer is out and our side shut; the rest of what the
  // client sends is read and dropped, so it sees the answer instead of a
  // reset while still uploading (a body over the limit).
  enum class State { kHead, kBody, kEngine, kLive, kLinger, kClosed };

  int fd = -1;
  State state = State::kHead;
  std::string in;
  std::string out;
  size_t out_off = 0;
  // A large response body, sent after `out` (sendmsg with two pieces) rather
  // than copied into it. Anything queued after it merges it into `out` first.
  std::string body;
  size_t body_off = 0;
  bool want_out = false;           // EPOLLOUT registered
  bool close_after_write = false;  // Connection: close, or an error
  bool processing = false;         // inside Process(): no re-entry
  http::RequestHead head;
  bool continue_sent = false;
  bool keep_alive = true;   // of the request being answered
  bool head_only = false;   // a HEAD request
  uint64_t generation = 0;  // which request an engine answer is for
  std::shared_ptr<LiveStream> live;
  std::shared_ptr<std::atomic<bool>> pump_posted = std::make_shared<std::atomic<bool>>(false);
  SteadyClock::time_point last_active = SteadyClock::now();
  size_t lingered = 0;  // bytes dropped in kLinger
  // The request being answered, for the access log (when there is one).
  std::string log_method, log_path;
  SteadyClock::time_point log_start;
  int64_t log_time_ms = 0;
};

namespace {

class Loop {
 public:
  Loop(StreamEngine* engine, const EventServerOptions* options, ReadPool* reads)
      : engine_(engine), options_(options), reads_(reads) {}

  ~Loop() {
    for (int fd : {listen_fd_, epfd_, tfd_}) {
      if (fd >= 0) ::close(fd);
    }
  }

  Status Init(int listen_fd) {
    listen_fd_ = listen_fd;
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    int evfd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (evfd >= 0) mailbox_ = std::make_shared<Mailbox>(evfd);
    evfd_ = evfd;
    tfd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (epfd_ < 0 || !mailbox_ || tfd_ < 0)
      return Status::IOError(std::string("event loop: ") + strerror(errno));
    itimerspec ts{};
    ts.it_interval.tv_sec = 1;
    ts.it_value.tv_sec = 1;
    ::timerfd_settime(tfd_, 0, &ts, nullptr);
    for (int fd : {listen_fd_, evfd_, tfd_}) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = fd;
      if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
        return Status::IOError(std::string("epoll_ctl: ") + strerror(errno));
      }
    }
    return Status::OK();
  }

  void Start() {
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "ds-loop");
      Run();
    });
  }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }

  // Any thread.
  void Post(std::function<void()> fn) { mailbox_->Post(std::move(fn)); }

  void BeginStop() {
    Post([this] {
      if (listen_fd_ >= 0) {
        ::epoll_ctl(epfd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
        ::close(listen_fd_);
        listen_fd_ = -1;
      }
      draining_ = true;
      drain_deadline_ = SteadyClock::now() + std::chrono::seconds(2);
      Sweep();
    });
  }

 private:
  static thread_local Loop* current_;

  void Run() {
    current_ = this;
    std::vector<epoll_event> events(256);
    while (!done_) {
      // With live pumps waiting, only look for I/O between turns.
      int n = ::epoll_wait(epfd_, events.data(), static_cast<int>(events.size()),
                           live_backlog_.empty() ? 1000 : 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        break;
      }
      for (int i = 0; i < n; ++i) {
        int fd = events[i].data.fd;
        uint32_t ev = events[i].events;
        if (fd == listen_fd_) {
          Accept();
        } else if (fd == evfd_) {
          RunTasks();
        } else if (fd == tfd_) {
          uint64_t v;
          ssize_t r = ::read(tfd_, &v, sizeof v);
          (void)r;
          Sweep();
        } else {
          auto it = conns_.find(fd);
          if (it == conns_.end()) continue;
          std::shared_ptr<Conn> c = it->second;
          if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) OnReadable(*c);
          if (c->state != Conn::State::kClosed && (ev & EPOLLOUT)) OnWritable(*c);
        }
      }
      RunLiveTurn();
      if (draining_ && (conns_.empty() || SteadyClock::now() >= drain_deadline_)) done_ = true;
    }
    mailbox_->Close();
    std::vector<std::shared_ptr<Conn>> all;
    for (auto& [fd, c] : conns_) all.push_back(c);
    for (auto& c : all) Close(*c);
  }

  void RunTasks() {
    std::vector<std::function<void()>> tasks;
    mailbox_->Take(&tasks, &live_backlog_);
    for (auto& t : tasks) t();
  }

  // One turn of live pumps: enough to keep the sockets busy, few enough
  // that a request arriving meanwhile waits a fraction of a millisecond.
  void RunLiveTurn() {
    for (size_t i = 0; i < kLivePumpsPerTurn && !live_backlog_.empty(); ++i) {
      LivePump p = std::move(live_backlog_.front());
      live_backlog_.pop_front();
      auto conn = p.conn.lock();
      if (!conn) continue;
      conn->pump_posted->store(false);
      if (conn->generation == p.gen && conn->state == Conn::State::kLive) PumpLive(*conn);
    }
  }

  void Accept() {
    for (;;) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS) {
          // Out of descriptors: the pending connection keeps the socket
          // readable, so stop watching it until the next sweep (1 s)
          // rather than spin.
          ::epoll_ctl(epfd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
          accept_paused_ = true;
        }
        return;
      }
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto c = std::make_shared<Conn>();
      c->fd = fd;
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP;
      ev.data.fd = fd;
      if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
        ::close(fd);
        continue;
      }
      conns_[fd] = std::move(c);
    }
  }

  // Idle keep-alive connections and stalled request heads are closed; when
  // stopping, so is every connection with nothing in flight.
  void Sweep() {
    SteadyClock::time_point now = SteadyClock::now();
    if (accept_paused_ && listen_fd_ >= 0) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = listen_fd_;
      ::epoll_ctl(epfd_, EPOLL_CTL_ADD, listen_fd_, &ev);
      accept_paused_ = false;
    }
    std::vector<std::shared_ptr<Conn>> victims;
    for (auto& [fd, c] : conns_) {
      bool waiting_for_client = c->state == Conn::State::kHead || c->state == Conn::State::kBody;
      bool idle = waiting_for_client && c->out_off >= c->out.size() && c->body.empty() &&
                  (draining_ || now - c->last_active > options_->idle_timeout);
      bool lingered = c->state == Conn::State::kLinger &&
                      (draining_ || now - c->last_active > std::chrono::seconds(5));
      if (idle || lingered) victims.push_back(c);
    }
    for (auto& c : victims) Close(*c);
  }

  void OnReadable(Conn& c) {
    char buf[65536];
    for (;;) {
      ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n > 0 && c.state == Conn::State::kLinger) {
        c.lingered += static_cast<size_t>(n);
        if (c.lingered > (64u << 20)) {
          Close(c);
          return;
        }
        continue;
      }
      if (n > 0) {
        c.in.append(buf, static_cast<size_t>(n));
        c.last_active = SteadyClock::now();
        // Bytes beyond one request and its body while we are busy answering
        // would only pile up: a client doing that is dropped.
        if (c.in.size() > options_->max_head_bytes + engine_->options().max_body_bytes + 65536) {
          Close(c);
          return;
        }
        if (static_cast<size_t>(n) < sizeof buf) break;
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n < 0 && errno == EINTR) continue;
      Close(c);  // EOF or error: the client is gone
      return;
    }
    if (c.state != Conn::State::kLinger) Process(c);
  }

  void OnWritable(Conn& c) {
    Flush(c);
    if (c.state == Conn::State::kLive) PumpLive(c);
  }

  void Process(Conn& c) {
    if (c.processing) return;
    c.processing = true;
    while ((c.state == Conn::State::kHead || c.state == Conn::State::kBody) &&
           !c.close_after_write) {
      if (c.state == Conn::State::kHead) {
        if (c.in.empty()) break;
        size_t used = 0;
        http::ParseError err;
        http::Parse p = http::ParseHead(c.in, options_->max_head_bytes, &c.head, &used, &err);
        if (p == http::Parse::kIncomplete) break;
        if (p == http::Parse::kError) {
          Fail(c, err);
          break;
        }
        c.in.erase(0, used);
        if (!c.head.chunked && c.head.content_length > engine_->options().max_body_bytes) {
          Fail(c, {413, "PAYLOAD_TOO_LARGE", "request body is larger than the limit"});
          break;
        }
        c.state = Conn::State::kBody;
        c.continue_sent = false;
      }
      std::string body;
      if (c.head.chunked) {
        size_t used = 0;
        http::ParseError err;
        http::Parse p =
            http::ParseChunked(c.in, engine_->options().max_body_bytes, &body, &used, &err);
        if (p == http::Parse::kError) {
          Fail(c, err);
          break;
        }
        if (p == http::Parse::kIncomplete) {
          Continue(c);
          break;
        }
        c.in.erase(0, used);
      } else {
        if (c.in.size() < c.head.content_length) {
          Continue(c);
          break;
        }
        body = c.in.substr(0, c.head.content_length);
        c.in.erase(0, c.head.content_length);
      }
      Dispatch(c, std::move(body));
    }
    c.processing = false;
  }

  void Continue(Conn& c) {
    if (c.head.expect_continue && !c.continue_sent) {
      c.continue_sent = true;
      Out(c) += "HTTP/1.1 100 Continue\r\n\r\n";
      Flush(c);
    }
  }

  void Fail(Conn& c, const http::ParseError& err) {
    c.state = Conn::State::kEngine;
    c.keep_alive = false;
    c.head_only = false;
    Respond(c, ErrorResponse(err.status, err.code, err.message), c.generation);
  }

  void Dispatch(Conn& c, std::string body) {
    c.state = Conn::State::kEngine;
    uint64_t gen = ++c.generation;
    c.keep_alive = c.head.keep_alive;
    c.head_only = c.head.method == "HEAD";
    std::string_view target = c.head.target;
    size_t q = target.find('?');
    std::string_view raw_path = target.substr(0, q);
    std::string path = http::PercentDecode(raw_path, false);
    if (options_->access_log || options_->request_metrics) {
      c.log_method = c.head.method;
      c.log_start = SteadyClock::now();
    }
    if (options_->access_log) {  // the metrics (on by default) need neither
      c.log_path = path;
      c.log_time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
    }
    if (options_->health && path == kHealthPath && (c.head.method == "GET" || c.head_only)) {
      return Respond(c, HealthResponse(), gen);
    }
    auto under = [&path](const std::string& prefix) {
      return path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0;
    };
    const Route* route = nullptr;
    for (const Route& r : options_->routes) {
      if (r.exact ? path == r.prefix : under(r.prefix)) route = &r;
    }
    const std::string& prefix = route ? route->prefix : options_->prefix;
    if (!route && !under(prefix)) {
      return Respond(c, ErrorResponse(404, "NOT_FOUND", "no such route"), gen);
    }
    Request req;
    req.method = ToMethod(c.head.method);
    req.root = prefix;
    req.path = path.substr(prefix.size());
    if (q != std::string_view::npos) req.query = http::ParseQuery(target.substr(q + 1));
    const std::string* host = nullptr;
    const std::string* proto = nullptr;
    for (auto& [k, v] : c.head.headers) {
      if (!host && http::EqualsIgnoreCase(k, "Host")) host = &v;
      if (!proto && http::EqualsIgnoreCase(k, "X-Forwarded-Proto")) proto = &v;
    }
    if (host) req.url = PublicUrl(*host, proto ? *proto : std::string_view(), raw_path);
    for (auto& [k, v] : c.head.headers) req.headers.Add(std::move(k), std::move(v));
    c.head.headers.clear();
    req.body = std::move(body);
    if (route && !route->async_handler) return Respond(c, route->handler(req), gen);

    std::weak_ptr<Conn> weak = c.shared_from_this();
    Loop* loop = this;
    std::shared_ptr<Mailbox> mailbox = mailbox_;
    ResponseCallback done = [loop, mailbox, weak, gen](Response r) {
      if (current_ == loop) {
        if (auto conn = weak.lock()) loop->Respond(*conn, std::move(r), gen);
        return;
      }
      auto shared = std::make_shared<Response>(std::move(r));
      // Runs on the loop's thread, or never if the loop has stopped.
      mailbox->Post([loop, weak, gen, shared] {
        if (auto conn = weak.lock()) loop->Respond(*conn, std::move(*shared), gen);
      });
    };
    if (route) return route->async_handler(std::move(req), std::move(done));
    if (reads_ && (req.method == Method::kGet || req.method == Method::kHead)) {
      auto shared = std::make_shared<Request>(std::move(req));
      StreamEngine* engine = engine_;
      reads_->Run([engine, shared, done] { engine->Handle(std::move(*shared), done); });
      return;
    }
    engine_->Handle(std::move(req), std::move(done));
  }

  void Respond(Conn& c, Response r, uint64_t gen) {
    if (c.state != Conn::State::kEngine || gen != c.generation) return;  // closed or stale
    if (r.live && c.head_only) {
      r.live->Cancel();
      r.live.reset();
    }
    if (options_->access_log || options_->request_metrics) {
      double ms =
          std::chrono::duration<double, std::milli>(SteadyClock::now() - c.log_start).count();
      if (options_->request_metrics) {
        options_->request_metrics->Record(c.log_method, r.status, ms / 1000);
      }
      if (options_->access_log) {
        AccessLogEntry e;
        e.time_ms = c.log_time_ms;
        e.method = c.log_method;
        e.path = c.log_path;
        e.status = r.status;
        e.bytes = c.head_only || r.status == 204 || r.status == 304 ? 0 : r.body.size();
        e.duration_ms = ms;
        e.live = r.live != nullptr;
        options_->access_log->Write(e);
      }
    }
    std::string& o = Out(c);
    AppendResponseHead(r, c.keep_alive, &o);
    if (r.live) {
      c.state = Conn::State::kLive;
      c.live = std::move(r.live);
      if (!r.body.empty()) AppendChunk(r.body, &Out(c));
      std::weak_ptr<Conn> weak = c.shared_from_this();
      std::shared_ptr<std::atomic<bool>> posted = c.pump_posted;
      Loop* loop = this;
      std::shared_ptr<Mailbox> mailbox = mailbox_;
      c.live->SetNotify([loop, mailbox, weak, gen, posted] {
        if (posted->exchange(true)) return;  // a pump is already on its way
        // On the loop's own thread (an append committed there, delivering
        // to this loop's readers) the pump goes straight into its backlog.
        if (current_ == loop) {
          loop->live_backlog_.push_back({weak, gen});
        } else {
          mailbox->PostLive({weak, gen});
        }
      });
      Flush(c);
      if (c.state == Conn::State::kLive) PumpLive(c);
      return;
    }
    if (!c.head_only && r.status != 204 && r.status != 304) {
      if (r.body.size() >= kSeparateBody) {
        c.body = std::move(r.body);
        c.body_off = 0;
      } else {
        o += r.body;
      }
    }
    Finished(c);
  }

  void PumpLive(Conn& c) {
    while (c.state == Conn::State::kLive && c.out.size() - c.out_off < kLiveHighWater) {
      // The buffer is the loop's, reused: Take swaps it for the session's,
      // so neither side allocates per event.
      std::string& buf = live_buf_;
      buf.clear();
      bool more = c.live->Take(&buf);
      if (!buf.empty()) AppendChunk(buf, &Out(c));
      if (buf.capacity() > kLiveBufKeep) std::string().swap(buf);
      if (!more) {
        Out(c) += "0\r\n\r\n";
        c.live->SetNotify(nullptr);
        c.live.reset();
        Finished(c);
        return;
      }
      if (buf.empty()) break;
    }
    Flush(c);
  }

  // The response is queued whole: write it and move on to the next request.
  void Finished(Conn& c) {
    c.state = Conn::State::kHead;
    c.last_active = SteadyClock::now();
    if (!c.keep_alive) c.close_after_write = true;
    Flush(c);
    if (c.state == Conn::State::kHead && !c.close_after_write) Process(c);
  }

  void Flush(Conn& c) {
    if (c.state == Conn::State::kClosed) return;
    while (c.out_off < c.out.size() || c.body_off < c.body.size()) {
      iovec iov[2];
      size_t parts = 0;
      if (c.out_off < c.out.size())
        iov[parts++] = {c.out.data() + c.out_off, c.out.size() - c.out_off};
      if (c.body_off < c.body.size())
        iov[parts++] = {c.body.data() + c.body_off, c.body.size() - c.body_off};
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = parts;
      ssize_t n = ::sendmsg(c.fd, &msg, MSG_NOSIGNAL);
      if (n > 0) {
        size_t head = std::min(static_cast<size_t>(n), c.out.size() - c.out_off);
        c.out_off += head;
        c.body_off += static_cast<size_t>(n) - head;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (c.out_off > 1024 * 1024) {
          c.out.erase(0, c.out_off);
          c.out_off = 0;
        }
        SetWantOut(c, true);
        return;
      }
      Close(c);
      return;
    }
    // Idle connections should cost little: give back a large buffer.
    std::string().swap(c.body);
    c.body_off = 0;
    if (c.out.capacity() > 16384) {
      std::string().swap(c.out);
    } else {
      c.out.clear();
    }
    c.out_off = 0;
    SetWantOut(c, false);
    if (c.close_after_write && c.state == Conn::State::kHead) {
      c.state = Conn::State::kLinger;
      c.in.clear();
      c.last_active = SteadyClock::now();
      ::shutdown(c.fd, SHUT_WR);
    }
  }

  // The output buffer, with a pending separate body merged in first so that
  // what is appended goes out after it.
  static std::string& Out(Conn& c) {
    if (!c.body.empty()) {
      c.out.append(c.body, c.body_off, std::string::npos);
      std::string().swap(c.body);
      c.body_off = 0;
    }
    return c.out;
  }

  void SetWantOut(Conn& c, bool on) {
    if (c.want_out == on || c.state == Conn::State::kClosed) return;
    c.want_out = on;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0u);
    ev.data.fd = c.fd;
    ::epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  void Close(Conn& c) {
    if (c.state == Conn::State::kClosed) return;
    c.state = Conn::State::kClosed;
    if (c.live) {
      c.live->SetNotify(nullptr);
      c.live->Cancel();
      c.live.reset();
    }
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    int fd = c.fd;
    c.fd = -1;
    conns_.erase(fd);  // may free c: nothing after this
  }

  StreamEngine* engine_;
  const EventServerOptions* options_;
  ReadPool* reads_;
  int listen_fd_ = -1, epfd_ = -1, evfd_ = -1, tfd_ = -1;
  std::thread thread_;
  std::shared_ptr<Mailbox> mailbox_;
  // The loop thread only:
  std::unordered_map<int, std::shared_ptr<Conn>> conns_;
  std::deque<LivePump> live_backlog_;  // live pumps not yet run
  std::string live_buf_;               // PumpLive's
  bool draining_ = false;
  bool done_ = false;
  bool accept_paused_ = false;
  SteadyClock::time_point drain_deadline_;
};

thread_local Loop* Loop::current_ = nullptr;

class ServerImpl final : public EventServer {
 public:
  ServerImpl(StreamEngine& engine, const EventServerOptions& options)
      : engine_(engine), options_(options) {}
  ~ServerImpl() override { Stop(); }

  Status Open() {
    int n = options_.threads > 0
                ? options_.threads
                : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    int port = options_.port;
    if (options_.read_threads > 0) reads_ = std::make_unique<ReadPool>(options_.read_threads);
    for (int i = 0; i < n; ++i) {
      Result<int> fd = Listen(port);
      if (!fd.ok()) return fd.status();
      if (i == 0) {
        sockaddr_storage addr{};
        socklen_t len = sizeof addr;
        ::getsockname(*fd, reinterpret_cast<sockaddr*>(&addr), &len);
        port = ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                                : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
        port_ = port;
      }
      auto loop = std::make_unique<Loop>(&engine_, &options_, reads_.get());
      Status s = loop->Init(*fd);
      if (!s.ok()) return s;
      loops_.push_back(std::move(loop));
    }
    for (auto& l : loops_) l->Start();
    return Status::OK();
  }

  int port() const override { return port_; }

  void Stop() override {
    if (stopped_.exchange(true)) return;
    for (auto& l : loops_) l->BeginStop();
    for (auto& l : loops_) l->Join();
    loops_.clear();
    reads_.reset();  // finishes the reads queued (their answers are dropped)
  }

 private:
  Result<int> Listen(int port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    std::string service = std::to_string(port);
    int rc = ::getaddrinfo(options_.host.empty() ? nullptr : options_.host.c_str(), service.c_str(),
                           &hints, &res);
    if (rc != 0)
      return Status::InvalidArgument("cannot resolve " + options_.host + ": " + gai_strerror(rc));
    int fd = -1;
    std::string why;
    for (addrinfo* a = res; a && fd < 0; a = a->ai_next) {
      fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) continue;
      int one = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
      if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, 4096) != 0) {
        why = strerror(errno);
        ::close(fd);
        fd = -1;
      }
    }
    ::freeaddrinfo(res);
    if (fd < 0)
      return Status::IOError("cannot listen on " + options_.host + ":" + service + ": " + why);
    return fd;
  }

  StreamEngine& engine_;
  const EventServerOptions options_;
  std::unique_ptr<ReadPool> reads_;
  std::vector<std::unique_ptr<Loop>> loops_;
  int port_ = 0;
  std::atomic<bool> stopped_{false};
};

}  // namespace

}  // namespace event

Result<std::unique_ptr<EventServer>> EventServer::Start(StreamEngine& engine,
                                                        const EventServerOptions& options) {
  auto whole_segment = [](const std::string& p) {
    return p.size() >= 2 && p.front() == '/' && p.back() == '/';
  };
  if (!whole_segment(options.prefix)) {
    return Status::InvalidArgument("prefix must start and end with '/'");
  }
  for (const Route& r : options.routes) {
    bool handled = r.handler || r.async_handler;
    bool shaped = r.exact ? !r.prefix.empty() && r.prefix[0] == '/' : whole_segment(r.prefix);
    if (!shaped || !handled || r.prefix == options.prefix) {
      return Status::InvalidArgument(
          "a route needs a handler and a prefix of its own that starts and ends with '/' "
          "(an exact route: a path that starts with '/')");
    }
  }
  auto server = std::make_unique<event::ServerImpl>(engine, options);
  Status s = server->Open();
  if (!s.ok()) return s;
  return std::unique_ptr<EventServer>(std::move(server));
}

}  // namespace durablestreams

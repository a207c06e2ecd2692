// bench/load.cc: the load generator of bench/run.sh. One workload per run:
//
//   load append   URL CONNECTIONS STREAMS BODY_BYTES SECONDS
//   load json     URL CONNECTIONS MESSAGES_PER_POST SECONDS
//   load rtt      URL SAMPLES          long-poll round trip and a HEAD "ping"
//   load catchup  URL MEGABYTES [SETTLE_S [ROUNDS]]  read a stream of that size from -1
//                                      (ROUNDS, default 3; waits SETTLE_S before reading)
//   load lpfan    URL READERS          READERS long-polls at the tail, one append
//   load ssefan   URL READERS RATE SECONDS   SSE readers, a writer at RATE msgs/s
//                                      (on the stream LOAD_PATH if set)
//   load estuary  URL READERS RATE SECONDS   the same, each reader on its own session
//                                      stream subscribed to the written one
//   load fanout   URL SUBSCRIBERS CONNECTIONS SECONDS   appends/s to one source with
//                                      SUBSCRIBERS session streams (and copies/s)
//
// URL is the stream root (http://127.0.0.1:PORT/v1/stream). With LOAD_TOKEN
// set, every request carries it as a bearer token (a server with --auth
// jwt). Prints one line
// "result <workload> key=value ..." that run.sh parses. The generator shares
// the cores with the server it measures, so it spends little per request:
// appends go out whole in one send() each, over non-blocking sockets driven
// by one epoll thread (as wrk does); fan-out readers are non-blocking sockets
// too (poll() for long-polls, two epoll threads for SSE), so thousands of
// readers are cheap. Live workloads check that every reader got every message
// exactly once, in order. Never asserts timing.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "durablestreams/server/httplib_adapter.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Url {
  std::string host;
  int port = 0;
  std::string prefix;  // "/v1/stream"
};

Url ParseUrl(const std::string& s) {
  Url u;
  size_t hs = s.find("//") + 2;
  size_t ps = s.find('/', hs);
  std::string hostport = s.substr(hs, ps - hs);
  size_t colon = hostport.find(':');
  u.host = hostport.substr(0, colon);
  u.port = std::atoi(hostport.c_str() + colon + 1);
  u.prefix = s.substr(ps);
  return u;
}

// "Authorization: Bearer $LOAD_TOKEN\r\n", or nothing without LOAD_TOKEN.
const std::string& AuthLine() {
  static const std::string line = [] {
    const char* t = std::getenv("LOAD_TOKEN");
    return t && *t ? "Authorization: Bearer " + std::string(t) + "\r\n" : std::string();
  }();
  return line;
}

std::unique_ptr<httplib::Client> Client(const Url& u) {
  auto c = std::make_unique<httplib::Client>(u.host, u.port);
  if (const char* t = std::getenv("LOAD_TOKEN"); t && *t) c->set_bearer_token_auth(t);
  c->set_keep_alive(true);
  c->set_tcp_nodelay(true);
  c->set_read_timeout(60, 0);
  return c;
}

std::string Unique(const char* what) {
  return std::string(what) + "-" + std::to_string(Clock::now().time_since_epoch().count());
}

double Pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * (v.size() - 1))];
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

bool Create(const Url& u, const std::string& path, const char* type) {
  auto r = Client(u)->Put((u.prefix + "/" + path).c_str(), "", type);
  return r && (r->status == 201 || r->status == 200);
}

std::string Tail(const Url& u, const std::string& path) {
  auto r = Client(u)->Head((u.prefix + "/" + path).c_str());
  return r ? r->get_header_value("Stream-Next-Offset") : "";
}

// Subscribes `n` new session streams to `source` (16 threads: the
// subscribes share commits), and returns their ids (none on a failure).
std::vector<std::string> SubscribeMany(const Url& u, const std::string& source, int n) {
  std::string root = u.prefix.substr(0, u.prefix.rfind('/')) + "/estuary/subscribe/_default/";
  std::string run = Unique("est");
  std::vector<std::string> ids(n);
  std::atomic<int> next{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      auto c = Client(u);
      for (int i; (i = next++) < n;) {
        ids[i] = run + "-" + std::to_string(i);
        httplib::Headers h;
        if (const char* token = std::getenv("LOAD_TOKEN"); token && *token) {
          h.emplace("Authorization", std::string("Bearer ") + token);
        }
        auto r = c->Post((root + source).c_str(), h, "{\"estuaryId\":\"" + ids[i] + "\"}",
                         "application/json");
        if (!r || r->status != 200) ++failed;
      }
    });
  }
  for (auto& t : threads) t.join();
  if (failed) {
    std::fprintf(stderr, "load: %d subscribes failed\n", failed.load());
    return {};
  }
  return ids;
}

// A raw connection for fan-out readers.
int Dial(const Url& u) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(u.port));
  inet_pton(AF_INET, u.host == "localhost" ? "127.0.0.1" : u.host.c_str(), &a.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

void SendAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
    } else if (errno == EAGAIN) {
      pollfd p{fd, POLLOUT, 0};
      poll(&p, 1, 1000);
    } else {
      return;
    }
  }
}

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  size_t body_bytes = 0;
};

// The status line and header fields of a response head (without its blank
// line).
RawResponse ParseHead(const std::string& head) {
  RawResponse r;
  r.status = std::atoi(head.c_str() + 9);
  size_t line = head.find("\r\n");
  while (line != std::string::npos) {
    size_t next = head.find("\r\n", line + 2);
    std::string h = head.substr(line + 2, next == std::string::npos ? std::string::npos : next - line - 2);
    size_t colon = h.find(':');
    if (colon != std::string::npos) {
      std::string name = h.substr(0, colon);
      for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      size_t v = colon + 1;
      while (v < h.size() && h[v] == ' ') ++v;
      r.headers[name] = h.substr(v);
    }
    line = next;
  }
  return r;
}

// The length of the first whole response at the front of `in` (0 if it is
// not all there yet: a response may come in several segments, as Node's head
// and body do), with its status in *status and, when `body` is given, its
// body (de-chunked) in *body. Handles Content-Length, chunked and bodiless
// responses; lean, since the append workloads call it once per append.
size_t ResponseLength(const std::string& in, int* status, std::string* body = nullptr) {
  size_t eoh = in.find("\r\n\r\n");
  if (eoh == std::string::npos) return 0;
  *status = std::atoi(in.c_str() + 9);
  size_t at = eoh + 4;
  size_t length = 0;
  bool chunked = false;
  for (size_t line = in.find("\r\n"); line < eoh;) {
    size_t next = in.find("\r\n", line + 2);
    const char* h = in.c_str() + line + 2;
    if (strncasecmp(h, "content-length:", 15) == 0) length = std::strtoull(h + 15, nullptr, 10);
    if (strncasecmp(h, "transfer-encoding:", 18) == 0) {
      chunked = in.compare(next - 7, 7, "chunked") == 0;
    }
    line = next;
  }
  if (body) body->clear();
  if (!chunked) {
    if (in.size() < at + length) return 0;
    if (body) body->assign(in, at, length);
    return at + length;
  }
  for (;;) {
    size_t crlf = in.find("\r\n", at);
    if (crlf == std::string::npos) return 0;
    size_t n = std::strtoull(in.c_str() + at, nullptr, 16);
    if (in.size() < crlf + 2 + n + 2) return 0;
    if (body) body->append(in, crlf + 2, n);
    at = crlf + 2 + n + 2;
    if (n == 0) return at;
  }
}

// One GET on a blocking keep-alive connection, with a large receive buffer,
// so that reading is never what limits a catch-up. Handles Content-Length and
// chunked bodies. Returns the status (0: the connection failed) and the
// headers; the body is counted into body_bytes.
class RawConn {
 public:
  explicit RawConn(const Url& u) : u_(u) {}
  ~RawConn() {
    if (fd_ >= 0) close(fd_);
  }
  RawResponse Get(const std::string& target) {
    RawResponse r;
    if (fd_ < 0) {
      fd_ = Dial(u_);
      if (fd_ < 0) return r;
      fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) & ~O_NONBLOCK);
    }
    std::string req = "GET " + target + " HTTP/1.1\r\nHost: x\r\n" + AuthLine() + "\r\n";
    SendAll(fd_, req);
    size_t eoh;
    while ((eoh = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return r;
    }
    r = ParseHead(buf_.substr(0, eoh));
    buf_.erase(0, eoh + 4);
    if (r.headers.count("content-length")) {
      size_t want = std::strtoull(r.headers["content-length"].c_str(), nullptr, 10);
      if (!Skip(want)) r.status = 0;
      r.body_bytes = want;
    } else if (r.headers["transfer-encoding"] == "chunked") {
      for (;;) {
        size_t crlf;
        while ((crlf = buf_.find("\r\n")) == std::string::npos) {
          if (!Fill()) return RawResponse();
        }
        size_t n = std::strtoull(buf_.c_str(), nullptr, 16);
        buf_.erase(0, crlf + 2);
        if (!Skip(n + 2)) return RawResponse();
        if (n == 0) break;
        r.body_bytes += n;
      }
    }
    return r;
  }

 private:
  bool Fill() {
    char tmp[65536];
    ssize_t n = recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }
  // Consumes n bytes of body: what is buffered, then straight from the socket.
  bool Skip(size_t n) {
    size_t take = std::min(n, buf_.size());
    buf_.erase(0, take);
    n -= take;
    while (n > 0) {
      ssize_t got = recv(fd_, scratch_.data(), std::min(n, scratch_.size()), 0);
      if (got <= 0) return false;
      n -= static_cast<size_t>(got);
    }
    return true;
  }
  Url u_;
  int fd_ = -1;
  std::string buf_;
  std::vector<char> scratch_ = std::vector<char>(1 << 20);
};

// The append and JSON workloads: `conns` keep-alive connections driven by one
// thread with epoll, each sending its next POST as soon as its last one is
// answered. Each request goes out whole in one send(), as Node's http client
// and browsers send a small request. The generator shares the two cores with
// the server under test, so its own CPU per append is kept small: no thread per
// connection and no general HTTP client.
int Append(const Url& u, std::vector<double>* lats, long* errors, int conns, int streams,
           size_t body_bytes, double seconds, const char* type, const std::string& body_in,
           const std::string& run) {
  struct Conn {
    int fd = -1;
    std::string req;
    std::string in;
    Clock::time_point t0;
    bool waiting = false;
  };
  std::string body = body_in.empty() ? std::string(body_bytes, 'x') : body_in;
  std::vector<Conn> cs(conns);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  auto send_next = [&](Conn& c) {
    c.t0 = Clock::now();
    c.waiting = true;
    SendAll(c.fd, c.req);
  };
  for (int i = 0; i < conns; ++i) {
    Conn& c = cs[i];
    c.fd = Dial(u);
    if (c.fd < 0) {
      std::fprintf(stderr, "load: cannot connect\n");
      return 1;
    }
    c.req = "POST " + u.prefix + "/" + run + "-" + std::to_string(i % streams) +
            " HTTP/1.1\r\nHost: " + u.host + ":" + std::to_string(u.port) + "\r\n" + AuthLine() +
            "Content-Type: " + type + "\r\nContent-Length: " + std::to_string(body.size()) +
            "\r\n\r\n" + body;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<uint32_t>(i);
    epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
  }
  for (auto& c : cs) send_next(c);
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(seconds));
  // After the deadline no request is sent; those on the way are awaited (for at
  // most 5 s) so that no server is left answering into closed sockets.
  int waiting = conns;
  char buf[65536];
  epoll_event evs[64];
  while (waiting > 0 && Clock::now() < deadline + std::chrono::seconds(5)) {
    int n = epoll_wait(ep, evs, 64, 100);
    bool more = Clock::now() < deadline;
    for (int e = 0; e < n; ++e) {
      Conn& c = cs[evs[e].data.u32];
      ssize_t got;
      while ((got = recv(c.fd, buf, sizeof buf, 0)) > 0) c.in.append(buf, static_cast<size_t>(got));
      if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
        epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
        if (c.waiting) {  // the server closed it before answering
          --waiting;
          ++*errors;
          c.waiting = false;
        }
        continue;
      }
      int status = 0;
      size_t len;
      while (c.waiting && (len = ResponseLength(c.in, &status)) > 0) {
        c.in.erase(0, len);
        c.waiting = false;
        if (status == 204 || status == 200) {
          lats->push_back(Ms(Clock::now() - c.t0));
        } else {
          ++*errors;
        }
        if (more) {
          send_next(c);
        } else {
          --waiting;
        }
      }
    }
  }
  for (auto& c : cs) close(c.fd);
  close(ep);
  return 0;
}

}  // namespace

// Creates the byte stream `path` and writes `mb` megabytes to it in 256 KiB
// appends; returns the bytes written.
size_t WriteStream(const Url& u, const std::string& path, double mb) {
  Create(u, path, "application/octet-stream");
  auto c = Client(u);
  std::string chunk(256 * 1024, 'c');
  size_t total = static_cast<size_t>(mb * 1024 * 1024);
  for (size_t done = 0; done < total; done += chunk.size()) {
    c->Post((u.prefix + "/" + path).c_str(), chunk, "application/octet-stream");
  }
  return total;
}

// The live fan-out workloads: one SSE reader per request of `reqs`, a
// writer appending to `write_path` at `rate` messages/s for `seconds`.
int SseFan(const Url& u, const std::string& workload, const std::string& write_path,
           const std::vector<std::string>& reqs, double rate, double seconds, double cpu0) {
  std::vector<pollfd> fds;
  for (const std::string& req : reqs) {
    int fd = Dial(u);
    if (fd < 0) break;
    SendAll(fd, req);
    fds.push_back({fd, POLLIN, 0});
  }
  int readers = static_cast<int>(reqs.size());
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  // Messages are "m<seq>@<send time in us>;" so readers can time and order them.
  std::atomic<bool> writing{true};
  std::atomic<long> sent_count{0};
  auto epoch = Clock::now();
  std::vector<double> writer_ms;  // each append's round trip (the writer thread's)
  std::thread writer([&] {
    auto c = Client(u);
    long seq = 0;
    auto next = Clock::now();
    while (std::chrono::duration<double>(Clock::now() - epoch).count() < seconds) {
      long us = static_cast<long>(std::chrono::duration<double, std::micro>(Clock::now() - epoch).count());
      std::string body = "m" + std::to_string(seq) + "@" + std::to_string(us) + ";";
      auto t0 = Clock::now();
      auto r = c->Post((u.prefix + "/" + write_path).c_str(), body, "text/plain");
      writer_ms.push_back(Ms(Clock::now() - t0));
      if (r && r->status == 204) ++seq;
      next += std::chrono::microseconds(static_cast<long>(1e6 / rate));
      std::this_thread::sleep_until(next);
    }
    sent_count = seq;
    writing = false;
  });
  std::vector<long> expect(fds.size(), 0);
  long bad = 0;
  std::vector<double> lat;
  lat.reserve(static_cast<size_t>(readers * rate * seconds));
  // A reading thread stops once the writer has stopped and each of its
  // readers has every message, or 30 s after the writer stopped (a slow
  // server's readers may still be catching up; those that are not done
  // then count as incomplete).
  auto done = [&](int t, int threads) {
    if (writing) return false;
    if (Ms(Clock::now() - epoch) > (seconds + 30) * 1000) return true;
    for (size_t i = t; i < fds.size(); i += threads) {
      if (expect[i] != sent_count) return false;
    }
    return true;
  };
  // The readers are split between two reading threads (one per core here),
  // each with its own epoll: one thread draining 5000 sockets per message
  // would be much of what the latency measures.
  const int threads = 2;
  std::vector<std::thread> reading;
  std::mutex merge_mu;
  for (int t = 0; t < threads; ++t) {
    reading.emplace_back([&, t] {
      std::vector<std::string> pending(fds.size());
      long my_bad = 0;
      std::vector<double> my_lat;
      my_lat.reserve(static_cast<size_t>(readers * rate * seconds / threads + 1024));
      // epoll: each wake-up costs the readers that have data, not all of them.
      int ep = epoll_create1(0);
      for (size_t i = t; i < fds.size(); i += threads) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        epoll_ctl(ep, EPOLL_CTL_ADD, fds[i].fd, &ev);
      }
      std::vector<epoll_event> ready(1024);
      std::vector<char> buf(1 << 16);
      while (!done(t, threads)) {
        int n_ready = epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), 50);
        for (int e = 0; e < n_ready; ++e) {
          size_t i = ready[e].data.u64;
          ssize_t n;
          // A short read has taken all there was: asking again would only cost
          // a syscall per reader per event (epoll reports what is left anyway).
          while ((n = recv(fds[i].fd, buf.data(), buf.size(), 0)) > 0) {
            pending[i].append(buf.data(), static_cast<size_t>(n));
            if (static_cast<size_t>(n) < buf.size()) break;
          }
          if (n == 0) epoll_ctl(ep, EPOLL_CTL_DEL, fds[i].fd, nullptr);  // closed
          // Whole lines only; a data line may batch several messages "m1@t;m2@t;".
          double now_us = std::chrono::duration<double, std::micro>(Clock::now() - epoch).count();
          size_t line_start = 0, eol;
          while ((eol = pending[i].find('\n', line_start)) != std::string::npos) {
            if (pending[i].compare(line_start, 6, "data:m") == 0) {
              size_t p = line_start + 5;
              while (p < eol && pending[i][p] == 'm') {
                size_t at = pending[i].find('@', p), semi = pending[i].find(';', p);
                if (at == std::string::npos || semi == std::string::npos || semi > eol) break;
                long seq = std::atol(pending[i].c_str() + p + 1);
                long us = std::atol(pending[i].c_str() + at + 1);
                if (seq != expect[i]) ++my_bad;
                expect[i] = seq + 1;
                my_lat.push_back((now_us - us) / 1000.0);
                p = semi + 1;
              }
            }
            line_start = eol + 1;
          }
          pending[i].erase(0, line_start);
          if (pending[i].size() > 1 << 20) pending[i].erase(0, pending[i].size() - 4096);
        }
      }
      close(ep);
      std::lock_guard<std::mutex> lock(merge_mu);
      bad += my_bad;
      lat.insert(lat.end(), my_lat.begin(), my_lat.end());
    });
  }
  for (auto& r : reading) r.join();
  writer.join();
  long complete = 0;
  for (size_t i = 0; i < fds.size(); ++i) {
    if (expect[i] == sent_count) ++complete;
    close(fds[i].fd);
  }
  double secs = std::chrono::duration<double>(Clock::now() - epoch).count();
  std::printf("result %s readers=%zu sent=%ld writer_rate=%.1f writer_p99=%.1f complete=%ld bad=%ld p50=%.1f p99=%.1f cpu=%.2f\n",
              workload.c_str(), fds.size(), sent_count.load(), sent_count / seconds, Pct(writer_ms, 0.99), complete, bad,
              Pct(lat, 0.5), Pct(lat, 0.99), (CpuSeconds() - cpu0) / secs);
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: load WORKLOAD URL ...\n");
    return 2;
  }
  std::string w = argv[1];
  Url u = ParseUrl(argv[2]);
  auto arg = [&](int i, double def) { return argc > i ? std::atof(argv[i]) : def; };
  double cpu0 = CpuSeconds();
  auto t0 = Clock::now();

  if (w == "append" || w == "json") {
    int conns = static_cast<int>(arg(3, 32));
    int streams = w == "append" ? static_cast<int>(arg(4, conns)) : conns;
    size_t body_bytes = w == "append" ? static_cast<size_t>(arg(5, 100)) : 0;
    int per_post = w == "json" ? static_cast<int>(arg(4, 100)) : 1;
    double seconds = arg(w == "append" ? 6 : 5, 5);
    std::string run = Unique(w.c_str());
    const char* type = w == "json" ? "application/json" : "application/octet-stream";
    for (int s = 0; s < streams; ++s) Create(u, run + "-" + std::to_string(s), type);
    std::string body;
    if (w == "json") {
      body = "[";
      for (int i = 0; i < per_post; ++i) {
        body += (i ? "," : "") + std::string("{\"id\":") + std::to_string(i) + ",\"v\":\"abcdefgh\"}";
      }
      body += "]";
    }
    std::vector<double> lats;
    long errors = 0;
    if (Append(u, &lats, &errors, conns, streams, body_bytes, seconds, type, body, run) != 0) {
      return 1;
    }
    double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("result %s rate=%.0f msgs=%.0f p50=%.3f p99=%.3f errors=%ld cpu=%.2f\n", w.c_str(),
                lats.size() / elapsed, lats.size() * per_post / elapsed, Pct(lats, 0.5),
                Pct(lats, 0.99), errors, (CpuSeconds() - cpu0) / elapsed);
    return 0;
  }

  if (w == "rtt") {
    int samples = static_cast<int>(arg(3, 200));
    std::string path = Unique("rtt");
    Create(u, path, "application/octet-stream");
    auto reader = Client(u);
    auto writer = Client(u);
    std::vector<double> rtt, ping;
    std::string offset = Tail(u, path);
    for (int i = 0; i < samples; ++i) {
      auto p0 = Clock::now();
      writer->Head((u.prefix + "/" + path).c_str());
      ping.push_back(Ms(Clock::now() - p0));
      std::atomic<bool> ready{false};
      Clock::time_point sent;
      std::thread t([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(3));  // the reader is waiting
        sent = Clock::now();
        writer->Post((u.prefix + "/" + path).c_str(), "x", "application/octet-stream");
      });
      auto r = reader->Get((u.prefix + "/" + path + "?live=long-poll&offset=" + offset).c_str());
      auto got = Clock::now();
      t.join();
      if (!r || r->status != 200) continue;
      rtt.push_back(Ms(got - sent));
      offset = r->get_header_value("Stream-Next-Offset");
    }
    std::printf("result rtt p50=%.3f ping=%.3f overhead=%.3f samples=%zu\n", Pct(rtt, 0.5),
                Pct(ping, 0.5), Pct(rtt, 0.5) - Pct(ping, 0.5), rtt.size());
    return 0;
  }

  if (w == "catchup") {
    double mb = arg(3, 20);
    std::string path = Unique("catchup");
    size_t total = WriteStream(u, path, mb);
    // Optional: wait before reading (so the cold tier can seal the data).
    double settle = arg(4, 0);
    if (settle > 0) std::this_thread::sleep_for(std::chrono::duration<double>(settle));
    double best = 0, first = 0;
    RawConn reader(u);
    int rounds = static_cast<int>(arg(5, 3));
    for (int round = 0; round < rounds; ++round) {
      auto r0 = Clock::now();
      size_t got = 0;
      std::string offset = "-1";
      for (;;) {
        RawResponse r = reader.Get(u.prefix + "/" + path + "?offset=" + offset);
        if (r.status != 200) break;
        got += r.body_bytes;
        if (r.headers["stream-up-to-date"] == "true") break;
        offset = r.headers["stream-next-offset"];
      }
      double s = std::chrono::duration<double>(Clock::now() - r0).count();
      if (got >= total) best = std::max(best, got / s / 1e6);
      if (round == 0 && got >= total) first = got / s / 1e6;
    }
    std::printf("result catchup mbps=%.1f first_mbps=%.1f\n", best, first);
    return 0;
  }

  // load catchupfan WRITE_URL READ_URL MB READERS: one MB-megabyte stream
  // written through WRITE_URL, then READERS concurrent readers each catch
  // up on all of it through READ_URL (a front such as nginx, or the same
  // server): the time until every reader has it, and the readers' total MB/s.
  if (w == "catchupfan") {
    if (argc < 6) return 2;
    Url read_url = ParseUrl(argv[3]);
    double mb = arg(4, 20);
    int readers = static_cast<int>(arg(5, 100));
    std::string path = Unique("catchupfan");
    size_t total = WriteStream(u, path, mb);
    std::atomic<int> complete{0};
    std::atomic<uint64_t> bytes{0};
    auto r0 = Clock::now();
    std::vector<std::thread> threads;
    for (int i = 0; i < readers; ++i) {
      threads.emplace_back([&] {
        RawConn reader(read_url);
        size_t got = 0;
        std::string offset = "-1";
        for (int guard = 0; guard < 100000; ++guard) {
          RawResponse r = reader.Get(read_url.prefix + "/" + path + "?offset=" + offset);
          if (r.status != 200) break;
          got += r.body_bytes;
          if (r.headers["stream-up-to-date"] == "true") break;
          offset = r.headers["stream-next-offset"];
        }
        bytes += got;
        if (got >= total) ++complete;
      });
    }
    for (auto& t : threads) t.join();
    double secs = std::chrono::duration<double>(Clock::now() - r0).count();
    std::printf("result catchupfan seconds=%.3f mbps=%.1f complete=%d readers=%d\n", secs,
                bytes / secs / 1e6, complete.load(), readers);
    return 0;
  }

  if (w == "lpfan") {
    int readers = static_cast<int>(arg(3, 1000));
    std::string path = Unique("lpfan");
    Create(u, path, "application/octet-stream");
    std::string offset = Tail(u, path);
    std::vector<pollfd> fds;
    std::string req = "GET " + u.prefix + "/" + path + "?live=long-poll&offset=" + offset +
                      " HTTP/1.1\r\nHost: x\r\n" + AuthLine() + "\r\n";
    for (int i = 0; i < readers; ++i) {
      int fd = Dial(u);
      if (fd < 0) break;
      SendAll(fd, req);
      fds.push_back({fd, POLLIN, 0});
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // all parked
    auto sent = Clock::now();
    Client(u)->Post((u.prefix + "/" + path).c_str(), "wake", "application/octet-stream");
    size_t answered = 0, ok = 0;
    double last = 0;
    std::vector<std::string> got(fds.size());
    // Answered: the whole response is in (time of its last byte).
    while (answered < fds.size() && Ms(Clock::now() - sent) < 10000) {
      poll(fds.data(), fds.size(), 100);
      for (size_t i = 0; i < fds.size(); ++i) {
        if (fds[i].events == 0 || !(fds[i].revents & POLLIN)) continue;
        char buf[4096];
        ssize_t n = recv(fds[i].fd, buf, sizeof buf, 0);
        if (n <= 0) {
          fds[i].events = 0;  // closed without a whole answer
          continue;
        }
        got[i].append(buf, static_cast<size_t>(n));
        int status = 0;
        std::string body;
        if (ResponseLength(got[i], &status, &body) == 0) continue;
        ++answered;
        if (status == 200 && body == "wake") ++ok;
        last = Ms(Clock::now() - sent);
        fds[i].events = 0;
      }
    }
    for (auto& p : fds) close(p.fd);
    std::printf("result lpfan readers=%zu answered=%zu with_data=%zu all_ms=%.1f\n", fds.size(),
                answered, ok, last);
    return 0;
  }

  if (w == "ssefan") {
    int readers = static_cast<int>(arg(3, 1000));
    // LOAD_PATH names the stream (bench/cluster.sh: one owned by each node).
    const char* named = std::getenv("LOAD_PATH");
    std::string path = named && *named ? named : Unique("ssefan");
    Create(u, path, "text/plain");
    std::string offset = Tail(u, path);
    std::string req = "GET " + u.prefix + "/" + path + "?live=sse&offset=" + offset +
                      " HTTP/1.1\r\nHost: x\r\n" + AuthLine() + "\r\n";
    return SseFan(u, w, path, std::vector<std::string>(readers, req), arg(4, 20), arg(5, 10), cpu0);
  }
  if (w == "estuary") {  // one SSE reader per session stream, all subscribed to one source
    int readers = static_cast<int>(arg(3, 1000));
    std::string path = Unique("estsrc");
    Create(u, path, "text/plain");
    std::vector<std::string> ids = SubscribeMany(u, path, readers);
    if (ids.empty()) return 1;
    std::vector<std::string> reqs;
    for (const std::string& id : ids) {
      reqs.push_back("GET " + u.prefix + "/" + id + "?live=sse&offset=-1 HTTP/1.1\r\nHost: x\r\n" +
                     AuthLine() + "\r\n");
    }
    return SseFan(u, w, path, reqs, arg(4, 20), arg(5, 10), cpu0);
  }
  if (w == "fanout") {  // load fanout URL SUBSCRIBERS CONNECTIONS SECONDS: publish throughput
    int subscribers = static_cast<int>(arg(3, 1000));
    int conns = static_cast<int>(arg(4, 8));
    double seconds = arg(5, 5);
    std::string run = Unique("fanout");
    Create(u, run + "-0", "application/octet-stream");
    if (SubscribeMany(u, run + "-0", subscribers).empty()) return 1;
    std::vector<double> lats;
    long errors = 0;
    auto a0 = Clock::now();
    if (Append(u, &lats, &errors, conns, 1, 100, seconds, "application/octet-stream", "", run) != 0) {
      return 1;
    }
    double elapsed = std::chrono::duration<double>(Clock::now() - a0).count();
    double rate = lats.size() / elapsed;
    std::printf("result fanout subscribers=%d rate=%.0f copies=%.0f p50=%.3f p99=%.3f errors=%ld\n",
                subscribers, rate, rate * subscribers, Pct(lats, 0.5), Pct(lats, 0.99), errors);
    return 0;
  }
  if (w == "hold") {  // load hold URL READERS SECONDS [sse|long-poll]: idle readers, for RSS per reader
    int readers = static_cast<int>(arg(3, 1000));
    double seconds = arg(4, 5);
    std::string mode = argc > 5 ? argv[5] : "sse";
    std::string path = Unique("hold");
    Create(u, path, "text/plain");
    std::string req = "GET " + u.prefix + "/" + path + "?live=" + mode +
                      "&offset=now HTTP/1.1\r\nHost: x\r\n" + AuthLine() + "\r\n";
    std::vector<int> fds;
    for (int i = 0; i < readers; ++i) {
      int fd = Dial(u);
      if (fd < 0) break;
      SendAll(fd, req);
      fds.push_back(fd);
    }
    std::printf("ready %zu\n", fds.size());
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    for (int fd : fds) close(fd);
    std::printf("result hold readers=%zu\n", fds.size());
    return 0;
  }
  std::fprintf(stderr, "unknown workload %s\n", w.c_str());
  return 2;
}

// bench/floor_server.cc: the machine's floor for bench/run.sh's workloads.
//
//   floor_server [LOOPS] [--durable DB]   prints "listening on http://127.0.0.1:PORT"
//
// A server that does the least any Durable Streams server must do for the
// load generator's workloads, and nothing else: no durability, no protocol
// checks, no JSON parsing, no cursors, no per-stream state beyond a byte
// string in memory. LOOPS epoll threads (default 2, like ours) share the port
// with SO_REUSEPORT. It answers:
//   PUT               201
//   HEAD              200, Stream-Next-Offset: the stream's length
//   POST              appends the body, answers 204, and hands the body to
//                     every loop, which sends it as one SSE data event to each
//                     of its readers of that stream and answers its waiting
//                     long-polls
//   GET ?live=sse     200 text/event-stream (chunked), then the events
//   GET ?live=long-poll&offset=N   at the tail: waits for the next append
//   GET ?offset=N     up to 1 MiB from N, Stream-Next-Offset, Stream-Up-To-Date
//
// What it reaches on a machine is the limit that machine (cores, loopback
// TCP, the load generator beside it) puts on any server; run.sh reports it
// beside ours. Not a server to use: it forgets everything.
//
// --durable DB: the least a durable server must do, for the append
// workloads. A POST with a JSON Content-Type is parsed (simdjson; 400 if it is
// not JSON), then every POST's body is inserted into SQLite database DB (WAL,
// synchronous=FULL: the default durability of ours) by one commit thread,
// which commits all the bodies that queued while it committed the last ones
// (group commit), and only then answered. No stream state, no producers, no
// index: one row per append in a rowid table.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sqlite3.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <simdjson.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

constexpr size_t kMaxRead = 1024 * 1024;

struct Streams {
  std::mutex mu;
  std::unordered_map<std::string, std::string> data;  // path -> bytes
};
Streams g_streams;

struct Conn {
  int fd = -1;
  uint64_t id = 0;  // unique: a commit's answer finds its connection (fds are reused)
  std::string in, out;
  size_t out_off = 0;
  enum { kRequest, kSse, kLongPoll, kCommit } state = kRequest;
  std::string path;  // of the SSE or long-poll read
};

class Loop;
std::vector<Loop*> g_loops;

// --durable: the commit thread.
class Committer {
 public:
  struct Pending {
    Loop* loop;
    uint64_t conn;
    std::string path, body, answer;
  };

  explicit Committer(const char* db_path) {
    // unix-excl, as the hot log opens it by default: no file locks per commit.
    if (sqlite3_open_v2(db_path, &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        "unix-excl") != SQLITE_OK ||
        sqlite3_exec(db_,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                     "CREATE TABLE IF NOT EXISTS log (stream TEXT NOT NULL, data BLOB NOT NULL)",
                     nullptr, nullptr, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db_, "INSERT INTO log (stream, data) VALUES (?1, ?2)", -1, &insert_,
                           nullptr) != SQLITE_OK) {
      std::fprintf(stderr, "floor: %s: %s\n", db_path, sqlite3_errmsg(db_));
      std::exit(1);
    }
    thread_ = std::thread([this] { Run(); });
  }

  void Submit(Pending p) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(p));
    }
    cv_.notify_one();
  }

 private:
  void Run();

  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Pending> queue_;
  std::thread thread_;
};
Committer* g_committer = nullptr;  // null: not --durable

struct Append {
  std::string path;
  std::shared_ptr<const std::string> body;
  size_t tail;  // the stream's length after it
};

class Loop {
 public:
  Loop(int listen_fd) : listen_fd_(listen_fd) {
    ep_ = epoll_create1(0);
    ev_ = eventfd(0, EFD_NONBLOCK);
    Add(listen_fd_, EPOLLIN);
    Add(ev_, EPOLLIN);
  }

  // From the commit thread: connection `conn`'s append is committed.
  void Committed(uint64_t conn, std::string answer) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      committed_.emplace_back(conn, std::move(answer));
    }
    uint64_t one = 1;
    ssize_t n = write(ev_, &one, sizeof one);
    (void)n;
  }

  // From any loop: an append to `path` that this loop's readers must get.
  void Post(const std::string& path, std::shared_ptr<const std::string> body, size_t tail) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      inbox_.push_back({path, std::move(body), tail});
    }
    uint64_t one = 1;
    ssize_t n = write(ev_, &one, sizeof one);
    (void)n;
  }

  void Run() {
    std::vector<epoll_event> evs(1024);
    for (;;) {
      int n = epoll_wait(ep_, evs.data(), static_cast<int>(evs.size()), -1);
      for (int i = 0; i < n; ++i) {
        int fd = evs[i].data.fd;
        if (fd == listen_fd_) {
          Accept();
        } else if (fd == ev_) {
          Deliver();
        } else {
          auto it = conns_.find(fd);
          if (it == conns_.end()) continue;
          if (evs[i].events & EPOLLOUT) Flush(*it->second);
          if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) Read(*it->second);
        }
      }
    }
  }

 private:
  void Add(int fd, uint32_t events) {
    epoll_event e{};
    e.events = events;
    e.data.fd = fd;
    epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &e);
  }

  void Accept() {
    for (;;) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK);
      if (fd < 0) return;
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto c = std::make_unique<Conn>();
      c->fd = fd;
      c->id = ++next_id_;
      by_id_[c->id] = c.get();
      Add(fd, EPOLLIN);
      conns_[fd] = std::move(c);
    }
  }

  void Close(Conn& c) {
    for (auto& [path, list] : readers_) {
      for (size_t i = 0; i < list.size(); ++i) {
        if (list[i] == &c) {
          list[i] = list.back();
          list.pop_back();
          break;
        }
      }
    }
    epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
    close(c.fd);
    by_id_.erase(c.id);
    conns_.erase(c.fd);
  }

  void Read(Conn& c) {
    char buf[65536];
    for (;;) {
      ssize_t n = recv(c.fd, buf, sizeof buf, 0);
      if (n > 0) {
        c.in.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0 || errno != EAGAIN) return Close(c);
      break;
    }
    Serve(c);
  }

  // Answers every whole request in c.in, up to one that waits (a live read,
  // or a commit), and sends what it can.
  void Serve(Conn& c) {
    while (c.state == Conn::kRequest && Handle(c)) {
    }
    Flush(c);
  }

  // One whole request from c.in, if there is one.
  bool Handle(Conn& c) {
    size_t eoh = c.in.find("\r\n\r\n");
    if (eoh == std::string::npos) return false;
    size_t length = 0;
    for (const char* name : {"Content-Length:", "content-length:"}) {
      size_t h = c.in.find(name);
      if (h != std::string::npos && h < eoh) length = std::strtoull(c.in.c_str() + h + 15, nullptr, 10);
    }
    bool json = false;
    for (const char* name : {"Content-Type: application/json", "content-type: application/json"}) {
      size_t h = c.in.find(name);
      json = json || (h != std::string::npos && h < eoh);
    }
    if (c.in.size() < eoh + 4 + length) return false;
    size_t sp1 = c.in.find(' '), sp2 = c.in.find(' ', sp1 + 1);
    std::string method = c.in.substr(0, sp1);
    std::string target = c.in.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string body = c.in.substr(eoh + 4, length);
    c.in.erase(0, eoh + 4 + length);
    size_t q = target.find('?');
    std::string path = target.substr(0, q);
    std::string query = q == std::string::npos ? "" : target.substr(q + 1);
    auto param = [&](const char* key) -> std::string {
      std::string k = std::string(key) + "=";
      size_t p = query.find(k);
      if (p == std::string::npos) return "";
      size_t e = query.find('&', p);
      return query.substr(p + k.size(), e == std::string::npos ? std::string::npos : e - p - k.size());
    };
    if (method == "PUT") {
      std::lock_guard<std::mutex> lock(g_streams.mu);
      g_streams.data[path];
      c.out += "HTTP/1.1 201 Created\r\nStream-Next-Offset: 0\r\nContent-Length: 0\r\n\r\n";
    } else if (method == "HEAD") {
      size_t tail;
      {
        std::lock_guard<std::mutex> lock(g_streams.mu);
        tail = g_streams.data[path].size();
      }
      c.out += "HTTP/1.1 200 OK\r\nStream-Next-Offset: " + std::to_string(tail) +
               "\r\nContent-Length: 0\r\n\r\n";
    } else if (method == "POST" && g_committer && json &&
               parser_.parse(body.data(), body.size(), /*realloc_if_needed=*/true).error()) {
      c.out += "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    } else if (method == "POST") {
      size_t tail;
      {
        std::lock_guard<std::mutex> lock(g_streams.mu);
        std::string& d = g_streams.data[path];
        d += body;
        tail = d.size();
      }
      std::string answer =
          "HTTP/1.1 204 No Content\r\nStream-Next-Offset: " + std::to_string(tail) + "\r\n\r\n";
      if (g_committer) {
        c.state = Conn::kCommit;
        g_committer->Submit({this, c.id, path, std::move(body), std::move(answer)});
        return false;
      }
      auto shared = std::make_shared<const std::string>(std::move(body));
      for (Loop* l : g_loops) l->Post(path, shared, tail);
      c.out += answer;
    } else if (param("live") == "sse") {
      c.state = Conn::kSse;
      c.path = path;
      readers_[path].push_back(&c);
      c.out += "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
    } else {
      std::string offset = param("offset");
      size_t from = offset == "-1" || offset.empty() ? 0 : std::strtoull(offset.c_str(), nullptr, 10);
      std::string chunk;
      size_t tail;
      {
        std::lock_guard<std::mutex> lock(g_streams.mu);
        const std::string& d = g_streams.data[path];
        tail = d.size();
        if (from < tail) chunk = d.substr(from, kMaxRead);
      }
      if (chunk.empty() && param("live") == "long-poll") {
        c.state = Conn::kLongPoll;
        c.path = path;
        readers_[path].push_back(&c);
        return false;
      }
      size_t next = from + chunk.size();
      c.out += "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nStream-Next-Offset: " +
               std::to_string(next) + (next == tail ? "\r\nStream-Up-To-Date: true" : "") +
               "\r\nContent-Length: " + std::to_string(chunk.size()) + "\r\n\r\n";
      c.out += chunk;
    }
    return true;
  }

  void Deliver() {
    uint64_t v;
    ssize_t r = read(ev_, &v, sizeof v);
    (void)r;
    std::vector<Append> inbox;
    std::vector<std::pair<uint64_t, std::string>> committed;
    {
      std::lock_guard<std::mutex> lock(mu_);
      inbox.swap(inbox_);
      committed.swap(committed_);
    }
    for (auto& [id, answer] : committed) {
      auto it = by_id_.find(id);
      if (it == by_id_.end()) continue;  // closed meanwhile
      Conn& c = *it->second;
      c.out += answer;
      c.state = Conn::kRequest;
      Serve(c);
    }
    for (auto& [path, body, tail] : inbox) {
      auto it = readers_.find(path);
      if (it == readers_.end()) continue;
      std::string event = "event: data\ndata:" + *body + "\n\n";
      char size[20];
      std::snprintf(size, sizeof size, "%zx\r\n", event.size());
      std::string chunk = size + event + "\r\n";
      std::vector<Conn*> list = it->second;
      for (Conn* c : list) {
        if (c->state == Conn::kSse) {
          c->out += chunk;
        } else {
          c->out += "HTTP/1.1 200 OK\r\nStream-Next-Offset: " + std::to_string(tail) +
                    "\r\nContent-Length: " + std::to_string(body->size()) + "\r\n\r\n" + *body;
          c->state = Conn::kRequest;
        }
        Flush(*c);
      }
      auto& live = it->second;
      for (size_t i = 0; i < live.size();) {
        if (live[i]->state == Conn::kRequest) {
          live[i] = live.back();
          live.pop_back();
        } else {
          ++i;
        }
      }
    }
  }

  void Flush(Conn& c) {
    while (c.out_off < c.out.size()) {
      ssize_t n = send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
      if (n > 0) {
        c.out_off += static_cast<size_t>(n);
        continue;
      }
      if (errno == EAGAIN) {
        epoll_event e{};
        e.events = EPOLLIN | EPOLLOUT;
        e.data.fd = c.fd;
        epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &e);
        return;
      }
      return;  // closed: the read side notices
    }
    c.out.clear();
    c.out_off = 0;
  }

  int listen_fd_, ep_, ev_;
  std::mutex mu_;
  std::vector<Append> inbox_;
  std::vector<std::pair<uint64_t, std::string>> committed_;  // guarded by mu_
  uint64_t next_id_ = 0;
  std::unordered_map<uint64_t, Conn*> by_id_;
  simdjson::dom::parser parser_;
  std::unordered_map<int, std::unique_ptr<Conn>> conns_;
  std::map<std::string, std::vector<Conn*>> readers_;
};

void Committer::Run() {
  for (;;) {
    std::vector<Pending> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return !queue_.empty(); });
      batch.swap(queue_);
    }
    sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr);
    for (Pending& p : batch) {
      sqlite3_bind_text(insert_, 1, p.path.data(), static_cast<int>(p.path.size()), SQLITE_STATIC);
      sqlite3_bind_blob(insert_, 2, p.body.data(), static_cast<int>(p.body.size()), SQLITE_STATIC);
      sqlite3_step(insert_);
      sqlite3_reset(insert_);
    }
    if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
      std::fprintf(stderr, "floor: commit: %s\n", sqlite3_errmsg(db_));
      std::exit(1);
    }
    for (Pending& p : batch) p.loop->Committed(p.conn, std::move(p.answer));
  }
}

int Listen(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 4096) != 0) {
    std::perror("floor: listen");
    std::exit(1);
  }
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  int loops = argc > 1 ? std::atoi(argv[1]) : 2;
  if (argc > 3 && std::strcmp(argv[2], "--durable") == 0) g_committer = new Committer(argv[3]);
  int first = Listen(0);
  sockaddr_in a{};
  socklen_t len = sizeof a;
  getsockname(first, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  for (int i = 0; i < loops; ++i) g_loops.push_back(new Loop(i == 0 ? first : Listen(port)));
  std::printf("listening on http://127.0.0.1:%d\n", port);
  std::fflush(stdout);
  std::vector<std::thread> threads;
  for (Loop* l : g_loops) threads.emplace_back([l] { l->Run(); });
  for (auto& t : threads) t.join();
}

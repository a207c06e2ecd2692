// bench/subs_bench.cc: the subscription workloads of bench/subscriptions.sh,
// with a webhook receiver of its own on loopback that answers every wake
// {"done":true} (so each append wakes again).
//
//   subs_bench latency HOST:PORT SUBS COUNT
//     SUBS webhook subscriptions on one pattern, then COUNT appends one at a
//     time to a stream it matches: from sending each append to the first of
//     its wakes received, and to the last (all SUBS received). Prints
//     "result first_p50=… first_p99=… all_p50=… all_p99=… (ms)".
//   subs_bench serve HOST:PORT SUBS PATTERN [hold]
//     SUBS webhook subscriptions on PATTERN; prints "ready", then receives
//     wakes until its standard input closes; prints "result wakes=N". With
//     `hold` it answers {} instead, so each subscription's first wake stays
//     out (until its lease ends) while its streams go on changing.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// A receiver of its own rather than httplib's: a thread per connection
// (httplib's pool queues connections behind idle keep-alive ones, and its
// accept queue holds 5), keep-alive, every POST answered {"done":true}.
struct Receiver {
  int listener = -1;
  int port = 0;
  std::thread acceptor;
  std::mutex mu;
  std::condition_variable cv;
  long wakes = 0;     // GUARDED_BY(mu)
  bool hold = false;  // answer {} (the wake stays out) rather than {"done":true}

  Receiver() {
    listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(listener, 1024) != 0 ||
        getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      std::perror("subs_bench: receiver");
      std::exit(1);
    }
    port = ntohs(addr.sin_port);
    acceptor = std::thread([this] {
      for (;;) {
        int fd = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) return;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        std::thread([this, fd] { Serve(fd); }).detach();
      }
    });
  }
  ~Receiver() {
    shutdown(listener, SHUT_RDWR);
    close(listener);
    acceptor.join();
  }
  void Serve(int fd) {
    static const char kDone[] =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n"
        "{\"done\":true}";
    static const char kHold[] =
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
    std::string in;
    char buf[16384];
    for (;;) {
      size_t end;
      while ((end = in.find("\r\n\r\n")) == std::string::npos) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) return (void)close(fd);
        in.append(buf, static_cast<size_t>(n));
      }
      size_t body = 0;
      size_t cl = in.find("ontent-Length:");
      if (cl == std::string::npos) cl = in.find("ontent-length:");
      if (cl != std::string::npos && cl < end)
        body = std::strtoul(in.c_str() + cl + 15, nullptr, 10);
      while (in.size() < end + 4 + body) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0) return (void)close(fd);
        in.append(buf, static_cast<size_t>(n));
      }
      in.erase(0, end + 4 + body);
      {
        std::lock_guard<std::mutex> lock(mu);
        ++wakes;
      }
      cv.notify_all();
      const char* answer = hold ? kHold : kDone;
      if (write(fd, answer, std::strlen(answer)) < 0) return (void)close(fd);
    }
  }
  long Count() {
    std::lock_guard<std::mutex> lock(mu);
    return wakes;
  }
  // Waits until `n` wakes in all; false after 30 s.
  bool WaitFor(long n) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(30), [&] { return wakes >= n; });
  }
};

int Subscribe(httplib::Client& c, int subs, const std::string& prefix, const std::string& pattern,
              int hook_port) {
  std::string url = "http://127.0.0.1:" + std::to_string(hook_port) + "/hook";
  for (int i = 0; i < subs; ++i) {
    std::string body =
        R"({"type":"webhook","pattern":")" + pattern + R"(","webhook":{"url":")" + url + "\"}}";
    auto r =
        c.Put(prefix + "/__ds/subscriptions/bench-" + std::to_string(i), body, "application/json");
    if (!r || (r->status != 201 && r->status != 200)) {
      std::fprintf(stderr, "subs_bench: subscription %d: %d\n", i, r ? r->status : 0);
      return 1;
    }
  }
  return 0;
}

double Pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr,
                 "usage: subs_bench latency HOST:PORT SUBS COUNT | serve HOST:PORT SUBS PATTERN\n");
    return 2;
  }
  std::string mode = argv[1];
  httplib::Client c(std::string("http://") + argv[2]);
  c.set_keep_alive(true);
  c.set_tcp_nodelay(true);
  int subs = std::atoi(argv[3]);
  const std::string prefix = "/v1/stream";
  Receiver hook;
  if (mode == "serve") {
    hook.hold = argc > 5 && std::string(argv[5]) == "hold";
    if (Subscribe(c, subs, prefix, argv[4], hook.port) != 0) return 1;
    std::printf("ready\n");
    std::fflush(stdout);
    std::string line;
    while (std::getline(std::cin, line)) {
    }
    std::printf("result wakes=%ld\n", hook.Count());
    return 0;
  }
  int count = std::atoi(argv[4]);
  std::string stream = "lat-" + std::to_string(::getpid()) + "/s";
  if (Subscribe(c, subs, prefix, "lat-" + std::to_string(::getpid()) + "/*", hook.port) != 0) {
    return 1;
  }
  auto made = c.Put(prefix + "/" + stream, "", "text/plain");
  if (!made || made->status != 201) return 1;
  std::vector<double> first, all;
  long seen = hook.Count();
  for (int i = 0; i < count; ++i) {
    auto t0 = Clock::now();
    auto r = c.Post(prefix + "/" + stream, "x", "text/plain");
    if (!r || r->status != 204) return 1;
    if (!hook.WaitFor(seen + 1)) return 1;
    auto t1 = Clock::now();
    if (!hook.WaitFor(seen + subs)) return 1;
    auto t2 = Clock::now();
    seen += subs;
    first.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    all.push_back(std::chrono::duration<double, std::milli>(t2 - t0).count());
    // Let the done answers land, so the next append finds every
    // subscription idle and wakes each once.
    std::this_thread::sleep_for(std::chrono::milliseconds(subs > 100 ? 200 : 20));
  }
  std::printf("result subs=%d appends=%d first_p50=%.2f first_p99=%.2f all_p50=%.2f all_p99=%.2f\n",
              subs, count, Pct(first, 0.5), Pct(first, 0.99), Pct(all, 0.5), Pct(all, 0.99));
  return 0;
}

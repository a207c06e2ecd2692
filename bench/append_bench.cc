// bench/append_bench.cc: appends as fast as possible over keep-alive HTTP.
//
//   append_bench URL CONNECTIONS SECONDS [BODY_BYTES] [STREAMS]
//
// URL is the stream root (http://127.0.0.1:4437/v1/stream). Each connection
// (one thread, one keep-alive connection) appends BODY_BYTES-byte bodies to
// one of STREAMS streams (connection i uses stream i % STREAMS), sequentially:
// the next request leaves only when the previous one was acknowledged.
// Prints appends/s and latency percentiles. Not a test: no assertions.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "durablestreams/server/httplib_adapter.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: append_bench URL CONNECTIONS SECONDS [BODY_BYTES] [STREAMS]\n");
    return 2;
  }
  std::string url = argv[1];
  int conns = std::atoi(argv[2]);
  double seconds = std::atof(argv[3]);
  size_t body_bytes = argc > 4 ? std::strtoul(argv[4], nullptr, 10) : 100;
  int streams = argc > 5 ? std::atoi(argv[5]) : conns;
  std::string scheme_host = url.substr(0, url.find('/', url.find("//") + 2));
  std::string prefix = url.substr(scheme_host.size());
  std::string run = std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());

  {
    httplib::Client c(scheme_host);
    for (int s = 0; s < streams; ++s) {
      auto r = c.Put((prefix + "/bench-" + run + "-" + std::to_string(s)).c_str(), "",
                     "application/octet-stream");
      if (!r || (r->status != 201 && r->status != 200)) {
        std::fprintf(stderr, "cannot create stream\n");
        return 1;
      }
    }
  }
  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> latencies(conns);
  std::atomic<long> errors{0};
  std::vector<std::thread> threads;
  std::string body(body_bytes, 'x');
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < conns; ++i) {
    threads.emplace_back([&, i] {
      httplib::Client c(scheme_host);
      c.set_keep_alive(true);
      c.set_tcp_nodelay(true);
      std::string path = prefix + "/bench-" + run + "-" + std::to_string(i % streams);
      while (!stop) {
        auto t0 = std::chrono::steady_clock::now();
        auto r = c.Post(path.c_str(), body, "application/octet-stream");
        auto t1 = std::chrono::steady_clock::now();
        if (!r || r->status != 204) {
          ++errors;
          continue;
        }
        latencies[i].push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) { return all.empty() ? 0.0 : all[static_cast<size_t>(p * (all.size() - 1))]; };
  std::printf("connections=%d streams=%d body=%zu appends=%zu errors=%ld rate=%.0f/s p50=%.3fms p99=%.3fms\n",
              conns, streams, body_bytes, all.size(), errors.load(), all.size() / elapsed, pct(0.5),
              pct(0.99));
  return 0;
}

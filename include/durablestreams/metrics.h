// include/durablestreams/metrics.h
//
// Metrics: counters, gauges and histograms, written out in the Prometheus
// text exposition format (version 0.0.4) by Text(). The engine registers
// its own when Options::metrics is set (docs/operations.md lists them);
// the server adds request metrics (server/request_metrics.h) and serves
// Text() at GET /metrics.
//
//   auto metrics = std::make_shared<Metrics>();
//   Counter& sent = metrics->AddCounter("app_sent_total", "Messages sent.");
//   sent.Add();
//   std::string scrape = metrics->Text();
//
// Names follow Prometheus conventions: counters end in `_total`, times are
// `_seconds`, sizes `_bytes`. `labels` is the series' label set written as
// it appears between the braces (`method="GET",outcome="2xx"`); build it
// with Label() so that values are escaped. Series of one name share one
// HELP and TYPE line; the first registration's help and type stand.
//
// Thread safety: every member may be called from any thread. Add(),
// Set() and Observe() are lock-free (relaxed atomics), for hot paths;
// registering and Text() take a mutex. Ownership: the Metrics owns its
// series; the references registration returns live as long as it does.
#ifndef DURABLESTREAMS_METRICS_H_
#define DURABLESTREAMS_METRICS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace durablestreams {

class Counter {
 public:
  void Add(uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t Value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

class Gauge {
 public:
  void Add(int64_t n) { v_.fetch_add(n, std::memory_order_relaxed); }
  void Set(int64_t v) { v_.store(v, std::memory_order_relaxed); }
  int64_t Value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> v_{0};
};

// Observations counted into buckets with upper bounds `bounds` (ascending;
// +Inf is added), with their count and sum.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  // Observations <= bounds()[i] (cumulative), i < bounds().size(); then all.
  uint64_t CumulativeCount(size_t i) const;
  uint64_t Count() const { return count_.load(std::memory_order_relaxed); }
  double Sum() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // per bucket, not cumulative
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_bits_{0};  // a double's bits
};

// Latency buckets from 50 µs to 10 s, in seconds.
std::vector<double> LatencyBuckets();
// Powers of two from 1 to 65,536 (sizes counted in items).
std::vector<double> CountBuckets();

// `key="value"` with the value escaped as the exposition format wants.
std::string Label(std::string_view key, std::string_view value);

class Metrics {
 public:
  enum class Type { kCounter, kGauge };

  Metrics() = default;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Registers a series, or returns the one of that name and labels.
  Counter& AddCounter(const std::string& name, const std::string& help,
                      const std::string& labels = "");
  Gauge& AddGauge(const std::string& name, const std::string& help,
                  const std::string& labels = "");
  Histogram& AddHistogram(const std::string& name, const std::string& help,
                          std::vector<double> bounds, const std::string& labels = "");
  // A series whose value `read` gives at each scrape (called under the
  // Metrics' mutex: it must not call back into this Metrics).
  void AddCallback(const std::string& name, const std::string& help, Type type,
                   std::function<double()> read, const std::string& labels = "");

  // Removes a series (a callback's, before what it reads goes away: once
  // this returns, `read` is never called again).
  void Remove(const std::string& name, const std::string& labels = "");

  // Everything, in the text exposition format, families sorted by name.
  std::string Text() const;

 private:
  struct Series {
    std::string labels;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
    std::function<double()> read;
  };
  struct Family {
    std::string help;
    std::string type;  // "counter", "gauge", "histogram"
    std::vector<std::unique_ptr<Series>> series;
  };
  Series& Find(const std::string& name, const std::string& help, const char* type,
               const std::string& labels, bool* made);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;  // guarded by mu_
};

}  // namespace durablestreams

#endif  // DURABLESTREAMS_METRICS_H_

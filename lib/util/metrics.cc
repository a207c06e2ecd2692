// lib/util/metrics.cc: Metrics and its series (metrics.h).
#include "durablestreams/metrics.h"

#include <cmath>
#include <cstdio>
#include <cstring>

namespace durablestreams {

namespace {

double FromBits(uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

uint64_t ToBits(double d) {
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof d);
  return bits;
}

// A sample value as the exposition format writes it.
void AppendNumber(double v, std::string* out) {
  if (std::isnan(v)) {
    *out += "NaN";
  } else if (std::isinf(v)) {
    *out += v > 0 ? "+Inf" : "-Inf";
  } else if (v == std::floor(v) && std::fabs(v) < 1e15) {
    *out += std::to_string(static_cast<long long>(v));
  } else {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    *out += buf;
  }
}

// `name{labels,extra} value\n`.
void AppendSample(const std::string& name, const std::string& labels, const std::string& extra,
                  double v, std::string* out) {
  *out += name;
  if (!labels.empty() || !extra.empty()) {
    *out += '{';
    *out += labels;
    if (!labels.empty() && !extra.empty()) *out += ',';
    *out += extra;
    *out += '}';
  }
  *out += ' ';
  AppendNumber(v, out);
  *out += '\n';
}

// HELP text escapes backslash and newline.
std::string EscapeHelp(const std::string& help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  uint64_t old = sum_bits_.load(std::memory_order_relaxed);
  while (!sum_bits_.compare_exchange_weak(old, ToBits(FromBits(old) + v),
                                          std::memory_order_relaxed)) {
  }
}

uint64_t Histogram::CumulativeCount(size_t i) const {
  uint64_t n = 0;
  for (size_t j = 0; j <= i && j <= bounds_.size(); ++j) {
    n += buckets_[j].load(std::memory_order_relaxed);
  }
  return n;
}

double Histogram::Sum() const { return FromBits(sum_bits_.load(std::memory_order_relaxed)); }

std::vector<double> LatencyBuckets() {
  return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
          0.025,   0.05,   0.1,     0.25,   0.5,   1,      2.5,    5,    10};
}

std::vector<double> CountBuckets() {
  std::vector<double> b;
  for (double v = 1; v <= 65536; v *= 2) b.push_back(v);
  return b;
}

std::string Label(std::string_view key, std::string_view value) {
  std::string out(key);
  out += "=\"";
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

Metrics::Series& Metrics::Find(const std::string& name, const std::string& help,
                               const char* type, const std::string& labels, bool* made) {
  Family& f = families_[name];
  if (f.type.empty()) {
    f.type = type;
    f.help = help;
  }
  for (auto& s : f.series) {
    if (s->labels == labels) {
      *made = false;
      return *s;
    }
  }
  f.series.push_back(std::make_unique<Series>());
  f.series.back()->labels = labels;
  *made = true;
  return *f.series.back();
}

Counter& Metrics::AddCounter(const std::string& name, const std::string& help,
                             const std::string& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  bool made;
  Series& s = Find(name, help, "counter", labels, &made);
  if (!s.counter) s.counter = std::make_unique<Counter>();
  return *s.counter;
}

Gauge& Metrics::AddGauge(const std::string& name, const std::string& help,
                         const std::string& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  bool made;
  Series& s = Find(name, help, "gauge", labels, &made);
  if (!s.gauge) s.gauge = std::make_unique<Gauge>();
  return *s.gauge;
}

Histogram& Metrics::AddHistogram(const std::string& name, const std::string& help,
                                 std::vector<double> bounds, const std::string& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  bool made;
  Series& s = Find(name, help, "histogram", labels, &made);
  if (!s.histogram) s.histogram = std::make_unique<Histogram>(std::move(bounds));
  return *s.histogram;
}

void Metrics::AddCallback(const std::string& name, const std::string& help, Type type,
                          std::function<double()> read, const std::string& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  bool made;
  Series& s = Find(name, help, type == Type::kCounter ? "counter" : "gauge", labels, &made);
  s.read = std::move(read);
}

void Metrics::Remove(const std::string& name, const std::string& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return;
  auto& series = it->second.series;
  for (size_t i = 0; i < series.size(); ++i) {
    if (series[i]->labels == labels) {
      series.erase(series.begin() + static_cast<std::ptrdiff_t>(i));
      break;
    }
  }
  if (series.empty()) families_.erase(it);
}

std::string Metrics::Text() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    out += "# HELP " + name + ' ' + EscapeHelp(f.help) + '\n';
    out += "# TYPE " + name + ' ' + f.type + '\n';
    for (const auto& s : f.series) {
      if (s->histogram) {
        const Histogram& h = *s->histogram;
        for (size_t i = 0; i < h.bounds().size(); ++i) {
          std::string le;
          AppendNumber(h.bounds()[i], &le);
          AppendSample(name + "_bucket", s->labels, Label("le", le),
                       static_cast<double>(h.CumulativeCount(i)), &out);
        }
        // The buckets' total, not Count(): an Observe() in flight may
        // have counted one and not the other, and +Inf must not be less.
        double all = static_cast<double>(h.CumulativeCount(h.bounds().size()));
        AppendSample(name + "_bucket", s->labels, "le=\"+Inf\"", all, &out);
        AppendSample(name + "_sum", s->labels, "", h.Sum(), &out);
        AppendSample(name + "_count", s->labels, "", all, &out);
      } else if (s->counter) {
        AppendSample(name, s->labels, "", static_cast<double>(s->counter->Value()), &out);
      } else if (s->gauge) {
        AppendSample(name, s->labels, "", static_cast<double>(s->gauge->Value()), &out);
      } else if (s->read) {
        AppendSample(name, s->labels, "", s->read(), &out);
      }
    }
  }
  return out;
}

}  // namespace durablestreams

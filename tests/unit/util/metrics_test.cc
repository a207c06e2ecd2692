// tests/unit/util/metrics_test.cc: Metrics (metrics.h): the exposition text
// (HELP and TYPE once per family, labels escaped, histogram buckets
// cumulative with +Inf, _sum and _count), callbacks and their removal; and
// the engine's series over MemoryStorage after a known workload.
#include <catch2/catch.hpp>
#include <future>

#include "durablestreams/durablestreams.h"

namespace ds = durablestreams;

TEST_CASE("metrics: the text exposition format") {
  ds::Metrics m;
  m.AddCounter("x_total", "Things.\nTwo lines.", ds::Label("k", "a\"b\\c\nd")).Add(3);
  m.AddCounter("x_total", "ignored", ds::Label("k", "e")).Add();
  CHECK(&m.AddCounter("x_total", "", ds::Label("k", "e")) ==
        &m.AddCounter("x_total", "", ds::Label("k", "e")));
  ds::Histogram& h = m.AddHistogram("t_seconds", "Times.", {0.1, 1});
  h.Observe(0.05);
  h.Observe(0.5);
  h.Observe(7);
  m.AddGauge("g", "A gauge.").Set(-4);
  double v = 1.5;
  m.AddCallback("c", "Computed.", ds::Metrics::Type::kGauge, [&v] { return v; });
  std::string text = m.Text();
  CHECK(text ==
        "# HELP c Computed.\n# TYPE c gauge\nc 1.5\n"
        "# HELP g A gauge.\n# TYPE g gauge\ng -4\n"
        "# HELP t_seconds Times.\n# TYPE t_seconds histogram\n"
        "t_seconds_bucket{le=\"0.1\"} 1\nt_seconds_bucket{le=\"1\"} 2\n"
        "t_seconds_bucket{le=\"+Inf\"} 3\nt_seconds_sum 7.55\nt_seconds_count 3\n"
        "# HELP x_total Things.\\nTwo lines.\n# TYPE x_total counter\n"
        "x_total{k=\"a\\\"b\\\\c\\nd\"} 3\nx_total{k=\"e\"} 1\n");
  m.Remove("c");
  CHECK(m.Text().find("# HELP c ") == std::string::npos);
}

TEST_CASE("metrics: the engine's series after a known workload (MemoryStorage)") {
  auto metrics = std::make_shared<ds::Metrics>();
  ds::Options o;
  o.storage = std::make_shared<ds::MemoryStorage>();
  o.metrics = metrics;
  auto opened = ds::StreamEngine::Open(o);
  REQUIRE(opened.ok());
  auto engine = std::move(opened).value();
  ds::CreateCommand c;
  c.path = "s";
  c.content_type = "text/plain";
  std::promise<ds::CreateOutcome> created;
  engine->Create(c, [&](ds::CreateOutcome out) { created.set_value(std::move(out)); });
  REQUIRE(!created.get_future().get().error);
  for (int i = 0; i < 4; ++i) {
    ds::AppendCommand a;
    a.path = "s";
    a.content_type = "text/plain";
    a.body = "12345";
    std::promise<ds::AppendOutcome> done;
    engine->Append(a, [&](ds::AppendOutcome out) { done.set_value(std::move(out)); });
    ds::AppendOutcome out = done.get_future().get();
    REQUIRE(!out.error);
    CHECK(out.timing.commit_ms >= 0);
  }
  std::string text = metrics->Text();
  INFO(text);
  CHECK(text.find("\ndurable_streams_appends_total 4\n") != std::string::npos);
  CHECK(text.find("\ndurable_streams_messages_appended_total 4\n") != std::string::npos);
  CHECK(text.find("\ndurable_streams_appended_bytes_total 20\n") != std::string::npos);
  CHECK(text.find("\ndurable_streams_commits_total 5\n") != std::string::npos);
  CHECK(text.find("\ndurable_streams_streams 1\n") != std::string::npos);
  engine.reset();
  // The engine's callbacks went with it; a scrape after it is safe.
  CHECK(metrics->Text().find("durable_streams_streams") == std::string::npos);
}

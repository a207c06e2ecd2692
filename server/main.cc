// server/main.cc: the durable-streams-server binary.
//
//   durable-streams-server [--host H] [--port P] [--data-dir D] [--sync full|normal|off]
//                          [--db-lock exclusive|shared]
//                          [--long-poll-timeout 30s] [--sse-max-duration 60s]
//                          [--max-body 8MiB] [--max-read-bytes 1MiB] [--read-cache 32MiB]
//                          [--max-threads N]
//                          [--segment-store dir:PATH|s3://BUCKET/PREFIX|none]
//                          [--s3-endpoint URL] [--s3-region REGION]
//                          [--segment-max-messages N] [--segment-max-bytes SIZE]
//                          [--transport event|httplib] [--threads N]
//                          [--auth none|jwt] [--auth-clock-skew 60s]
//                          [--subscriptions on|off] [--public-url URL]
//                          [--webhook-timeout 10s] [--estuary-ttl 24h] [--producer-ttl 7d]
//                          [--registry on|off] [--access-log stderr|FILE]
//                          [--metrics on|off] [--metrics-listen HOST:PORT]
//                          [--metrics-token TOKEN] [--server-timing] [--admin on|off]
//                          [--node NAME --nodes NAME=ADDRESS,...]
//   durable-streams-server project ... | token ... | stream ...   (server/cli.cc)
//
// The S3 store takes its credentials from DS_S3_ACCESS_KEY_ID and
// DS_S3_SECRET_ACCESS_KEY (and DS_S3_SESSION_TOKEN if set), never from flags,
// so they stay out of `ps` and shell history.
//
// Prints "listening on http://HOST:PORT" once it accepts connections (with
// --port 0 the port the system chose). SIGINT and SIGTERM shut it down
// gracefully: queued appends commit and are answered, live readers end.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cli.h"
#include "metrics_endpoint.h"
#include "segment_store_flag.h"
#include "durablestreams/inspect_api.h"
#include "durablestreams/server/admin_page.h"
#include "durablestreams/estuary_api.h"
#include "durablestreams/project_auth.h"
#include "durablestreams/project_config_api.h"
#include "durablestreams/segment_store.h"
#include "durablestreams/server/event_server.h"
#include "durablestreams/server/httplib_adapter.h"
#include "durablestreams/stream_engine.h"
#include "durablestreams/subscriptions.h"

namespace {

void Usage() {
  std::fprintf(stderr,
               "usage: durable-streams-server [options]\n"
               "  --host HOST               address to bind (default 127.0.0.1)\n"
               "  --port PORT               port (default 4437; 0 picks a free one)\n"
               "  --data-dir DIR            where streams.db lives (default ./data)\n"
               "  --sync full|normal|off    commit durability (default full)\n"
               "  --db-lock exclusive|shared  whether other processes may open streams.db\n"
               "                            while the server runs, e.g. for sqlite3 .backup\n"
               "                            (default exclusive)\n"
               "  --long-poll-timeout DUR   e.g. 30s, 500ms (default 30s)\n"
               "  --sse-max-duration DUR    SSE responses end after this (default 60s)\n"
               "  --sse-heartbeat DUR       SSE comment after this much silence (default 15s)\n"
               "  --max-body SIZE           largest request body, e.g. 8MiB (default 8MiB)\n"
               "  --max-read-bytes SIZE     largest catch-up response body (default 1MiB)\n"
               "  --transport event|httplib event loops (default) or a thread per connection\n"
               "  --threads N               event loops for --transport event (default: cores)\n"
               "  --max-threads N           most connection threads of --transport httplib\n"
               "                            (default 16384)\n"
               "  --segment-store STORE     cold tier: dir:PATH, s3://BUCKET/PREFIX or none\n"
               "                            (default dir:DATA_DIR/segments)\n"
               "  --s3-endpoint URL         S3-compatible endpoint, e.g. http://127.0.0.1:9000\n"
               "  --s3-region REGION        signing region (default us-east-1; R2: auto)\n"
               "  --segment-max-messages N  seal a segment at N hot messages (default 1000)\n"
               "  --segment-max-bytes SIZE  ... or at SIZE hot bytes (default 4MiB)\n"
               "  --auth none|jwt           none (default): no authorization; jwt: streams\n"
               "                            belong to projects (/v1/stream/PROJECT/STREAM) and\n"
               "                            need Authorization: Bearer <JWT> (docs/auth.md)\n"
               "  --auth-clock-skew DUR     allowance on a token's exp and nbf (default 60s)\n"
               "  --subscriptions on|off    the __ds subscription APIs, webhooks and pull-wake\n"
               "                            (default on; docs/subscriptions.md)\n"
               "  --public-url URL          the stream root as clients reach it, for webhook\n"
               "                            callback and JWKS URLs, e.g.\n"
               "                            https://streams.example/v1/stream/ (default: the\n"
               "                            listening address)\n"
               "  --webhook-timeout DUR     a webhook delivery's whole time limit, 100ms to\n"
               "                            10m (default 10s; connecting at most 5s of it)\n"
               "  --estuary-ttl DUR         a session stream expires this long after its last\n"
               "                            subscribe (default 24h; docs/estuaries.md)\n"
               "  --registry on|off         announce every create and delete in the JSON stream\n"
               "                            __registry__ (per project with --auth jwt;\n"
               "                            default on; docs/registry.md)\n"
               "  --access-log stderr|FILE  a JSON line per request (default: none)\n"
               "  --read-cache SIZE         recent catch-up results kept (default 32MiB; 0: off)\n"
               "  --metrics on|off          count and serve GET /metrics (default on)\n"
               "  --metrics-listen HOST:PORT  serve /metrics there instead of the main port\n"
               "  --metrics-token TOKEN     /metrics on the main port wants this bearer token\n"
               "                            (or DS_METRICS_TOKEN in the environment)\n"
               "  --server-timing           a Server-Timing header on every stream response\n"
               "  --admin on|off            the admin page at /admin/ (default on)\n"
               "  --node NAME               this server is node NAME of the cluster --nodes\n"
               "  --nodes NAME=ADDR,...     every node, ADDR exactly as in nginx's upstream\n"
               "                            (hash ... consistent); requests for streams\n"
               "                            another node owns get 421 (docs/operations.md)\n"
               "  --producer-ttl DUR        drop a producer's state after this long without an\n"
               "                            accepted append (default 7d; 0: never)\n"
               "  --fault-rotation put:N|commit:N  a test hook: _exit(86) right after the\n"
               "                            upload (or the commit) that brings the segments\n"
               "                            uploaded (or recorded) to N; never in production\n"
               "S3 credentials come from DS_S3_ACCESS_KEY_ID and DS_S3_SECRET_ACCESS_KEY.\n"
               "Projects and tokens: durable-streams-server project create|list|rotate|\n"
               "  remove-secret|delete ..., durable-streams-server token NAME --scope S\n"
               "Moving a stream between nodes (stopped): durable-streams-server stream\n"
               "  export|adopt PATH --data-dir DIR --node NAME --segment-store STORE\n");
}

// "30s", "500ms", "2m", "24h", "7d", or a bare number of seconds.
bool ParseDuration(const char* text, std::chrono::milliseconds* out) {
  char* end = nullptr;
  double v = std::strtod(text, &end);
  if (end == text || v < 0) return false;
  std::string unit(end);
  double ms;
  if (unit.empty() || unit == "s") {
    ms = v * 1000;
  } else if (unit == "ms") {
    ms = v;
  } else if (unit == "m") {
    ms = v * 60000;
  } else if (unit == "h") {
    ms = v * 3600000;
  } else if (unit == "d") {
    ms = v * 86400000;
  } else {
    return false;
  }
  *out = std::chrono::milliseconds(static_cast<int64_t>(ms));
  return true;
}

// The project a request path is for (the access log under --auth jwt):
// /v1/stream/{project}/..., /v1/estuary/[subscribe/]{project}/...,
// /v1/config/{project}; "" for anything else.
std::string ProjectOfRequest(std::string_view path) {
  auto after = [&path](std::string_view prefix) -> std::optional<std::string_view> {
    if (path.substr(0, prefix.size()) != prefix) return std::nullopt;
    return path.substr(prefix.size());
  };
  if (auto rest = after("/v1/stream/")) {
    return std::string(durablestreams::SplitProjectPath(*rest).project);
  }
  std::optional<std::string_view> rest = after("/v1/estuary/subscribe/");
  if (!rest) rest = after("/v1/estuary/");
  if (!rest) rest = after("/v1/config/");
  if (!rest) return "";
  return std::string(rest->substr(0, rest->find('/')));
}

// "1048576", "512KiB", "8MiB", "1GiB" (K/M/G and KB/MB/GB mean the same).
bool ParseSize(const char* text, size_t* out) {
  const char* end = text + std::strlen(text);
  unsigned long long v = 0;
  auto [at, ec] = std::from_chars(text, end, v);  // digits only: no sign, no spaces
  if (ec != std::errc() || at == text) return false;
  std::string unit(at);
  unsigned long long mul = 1;
  if (unit.empty() || unit == "B") {
    mul = 1;
  } else if (unit == "K" || unit == "KB" || unit == "KiB") {
    mul = 1ULL << 10;
  } else if (unit == "M" || unit == "MB" || unit == "MiB") {
    mul = 1ULL << 20;
  } else if (unit == "G" || unit == "GB" || unit == "GiB") {
    mul = 1ULL << 30;
  } else {
    return false;
  }
  if (v > SIZE_MAX / mul) return false;
  *out = static_cast<size_t>(v * mul);
  return true;
}

// "put:N" or "commit:N": the process ends with status 86 right after the
// rotation's upload (or commit) that brings the segments uploaded (or
// recorded) to N, as a crash there would (docs/reliability.md).
bool SetRotationFault(std::string_view spec, durablestreams::SqliteTestHooks* hooks) {
  size_t colon = spec.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view point = spec.substr(0, colon), count = spec.substr(colon + 1);
  int n = 0;
  auto [at, ec] = std::from_chars(count.data(), count.data() + count.size(), n);
  if (ec != std::errc() || at != count.data() + count.size() || n <= 0) return false;
  auto fault = [n](int done) {
    if (done >= n) _exit(86);
  };
  if (point == "put") {
    hooks->after_segment_put = fault;
  } else if (point == "commit") {
    hooks->after_rotation_commit = fault;
  } else {
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (durablestreams::cli::IsSubcommand(argc, argv)) {
    return durablestreams::cli::RunSubcommand(argc, argv);
  }
  using durablestreams::Options;
  std::string auth = "none";
  std::string subscriptions = "on";
  std::string registry = "on";
  std::string access_log;  // "": none
  std::string metrics_mode = "on";
  std::string metrics_listen;  // "": the main listener
  std::string metrics_token;
  std::string admin = "on";
  std::string node_name, node_list;  // --node, --nodes
  std::string public_url;                     // the stream root as clients reach it
  std::vector<durablestreams::Route> routes;  // beside the streams
  std::chrono::milliseconds clock_skew{60000};
  std::chrono::milliseconds webhook_timeout{10000};
  std::string host = "127.0.0.1";
  int port = 4437;
  size_t max_threads = 16384;
  std::string transport = "event";
  size_t loops = 0;
  Options options;
  std::string segment_store;
  durablestreams::S3Options s3;
  // The hot log and cold tier the engine opens (OpenDefaultStorage).
  durablestreams::DefaultStorageOptions& store_options = options.default_storage;
  durablestreams::SqliteStorageOptions& sqlite = store_options.sqlite;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    bool ok = true;
    if (a == "--host") {
      host = value();
    } else if (a == "--port") {
      std::string_view v = value();
      auto [at, ec] = std::from_chars(v.data(), v.data() + v.size(), port);
      ok = ec == std::errc() && at == v.data() + v.size() && port >= 0 && port <= 65535;
    } else if (a == "--data-dir") {
      store_options.data_dir = value();
    } else if (a == "--sync") {
      std::string v = value();
      if (v == "full") {
        sqlite.sync = durablestreams::SyncMode::kFull;
      } else if (v == "normal") {
        sqlite.sync = durablestreams::SyncMode::kNormal;
      } else if (v == "off") {
        sqlite.sync = durablestreams::SyncMode::kOff;
      } else {
        ok = false;
      }
    } else if (a == "--db-lock") {
      std::string v = value();
      ok = v == "exclusive" || v == "shared";
      sqlite.exclusive = v == "exclusive";
    } else if (a == "--long-poll-timeout") {
      ok = ParseDuration(value(), &options.long_poll_timeout);
    } else if (a == "--sse-max-duration") {
      ok = ParseDuration(value(), &options.sse_max_duration);
    } else if (a == "--sse-heartbeat") {
      ok = ParseDuration(value(), &options.sse_heartbeat);
    } else if (a == "--max-body") {
      ok = ParseSize(value(), &options.max_body_bytes);
    } else if (a == "--read-cache") {
      ok = ParseSize(value(), &options.read_cache_bytes);
    } else if (a == "--max-read-bytes") {
      ok = ParseSize(value(), &options.max_read_bytes) && options.max_read_bytes > 0;
    } else if (a == "--transport") {
      transport = value();
      ok = transport == "event" || transport == "httplib";
    } else if (a == "--threads") {
      ok = ParseSize(value(), &loops) && loops > 0 && loops <= 256;
    } else if (a == "--max-threads") {
      ok = ParseSize(value(), &max_threads) && max_threads > 0;
    } else if (a == "--segment-store") {
      segment_store = value();
    } else if (a == "--s3-endpoint") {
      s3.endpoint = value();
    } else if (a == "--s3-region") {
      s3.region = value();
    } else if (a == "--segment-max-messages") {
      ok = ParseSize(value(), &sqlite.segment_max_messages) && sqlite.segment_max_messages > 0;
    } else if (a == "--segment-max-bytes") {
      ok = ParseSize(value(), &sqlite.segment_max_bytes) && sqlite.segment_max_bytes > 0;
    } else if (a == "--subscriptions") {
      subscriptions = value();
      ok = subscriptions == "on" || subscriptions == "off";
    } else if (a == "--public-url") {
      public_url = value();
      if (!public_url.empty() && public_url.back() != '/') public_url += '/';
    } else if (a == "--auth") {
      auth = value();
      ok = auth == "none" || auth == "jwt";
    } else if (a == "--auth-clock-skew") {
      ok = ParseDuration(value(), &clock_skew);
    } else if (a == "--webhook-timeout") {
      ok = ParseDuration(value(), &webhook_timeout) && webhook_timeout.count() >= 100 &&
           webhook_timeout.count() <= 600000;
    } else if (a == "--estuary-ttl") {
      std::chrono::milliseconds ttl{0};
      ok = ParseDuration(value(), &ttl) && ttl.count() >= 1000;
      options.estuary_ttl = std::chrono::duration_cast<std::chrono::seconds>(ttl);
    } else if (a == "--access-log") {
      access_log = value();
      ok = !access_log.empty();
    } else if (a == "--metrics") {
      metrics_mode = value();
      ok = metrics_mode == "on" || metrics_mode == "off";
    } else if (a == "--metrics-listen") {
      metrics_listen = value();
      ok = !metrics_listen.empty();
    } else if (a == "--metrics-token") {
      metrics_token = value();
      ok = !metrics_token.empty();
    } else if (a == "--node") {
      node_name = value();
    } else if (a == "--nodes") {
      node_list = value();
    } else if (a == "--server-timing") {
      options.server_timing = true;
    } else if (a == "--admin") {
      admin = value();
      ok = admin == "on" || admin == "off";
    } else if (a == "--registry") {
      registry = value();
      ok = registry == "on" || registry == "off";
    } else if (a == "--producer-ttl") {
      std::chrono::milliseconds ttl{0};
      ok = ParseDuration(value(), &ttl) && (ttl.count() == 0 || ttl.count() >= 1000);
      options.producer_ttl = std::chrono::duration_cast<std::chrono::seconds>(ttl);
    } else if (a == "--fault-rotation") {
      ok = SetRotationFault(value(), &sqlite.test_hooks);
    } else if (a == "--help" || a == "-h") {
      Usage();
      return 0;
    } else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      Usage();
      return 2;
    }
    if (!ok) {
      std::fprintf(stderr, "bad value for %s\n", a.c_str());
      return 2;
    }
  }

  if (!node_name.empty() || !node_list.empty()) {
    auto nodes = durablestreams::NodeRing::Parse(node_list);
    auto ring = nodes.ok() ? durablestreams::NodeRing::Make(*nodes, node_name)
                           : durablestreams::Result<durablestreams::NodeRing>(nodes.status());
    if (!ring.ok()) {
      std::fprintf(stderr, "durable-streams-server: --node/--nodes: %s\n",
                   ring.status().message().c_str());
      return 2;
    }
    options.node_ring = std::make_shared<const durablestreams::NodeRing>(std::move(ring).value());
    sqlite.segment_key_tag = node_name;
  }

  if (segment_store == "none") {
    store_options.cold_tier = false;
  } else if (!segment_store.empty()) {
    auto store = durablestreams::server::OpenSegmentStoreFlag(segment_store, s3);
    if (!store.ok()) {
      std::fprintf(stderr, "durable-streams-server: %s\n", store.status().message().c_str());
      return 2;
    }
    sqlite.segment_store = *store;
  }

  if (registry == "on") {
    // One registry per project: a project's readers see its streams only.
    options.registry_path = [projects = auth == "jwt"](std::string_view path) {
      using durablestreams::kDefaultProject;
      durablestreams::ProjectPath at = durablestreams::SplitProjectPath(path);
      if (!projects || at.project == kDefaultProject) return std::string("__registry__");
      return std::string(at.project) + "/__registry__";
    };
  }

  durablestreams::ControlAuthorizeFn authorize_control;
  if (auth == "jwt") {
    auto projects = durablestreams::ProjectStore::Open(store_options.data_dir);
    if (!projects.ok()) {
      std::fprintf(stderr, "durable-streams-server: %s\n", projects.status().ToString().c_str());
      return 1;
    }
    durablestreams::ProjectJwtAuthOptions ao;
    ao.projects = std::move(projects).value();
    ao.clock_skew = std::chrono::duration_cast<std::chrono::seconds>(clock_skew);
    auto current = ao.projects->Current();
    if (current.ok() && (*current)->empty()) {
      std::fprintf(stderr,
                   "durable-streams-server: --auth jwt and no project yet: every request is "
                   "refused until one is made (durable-streams-server project create NAME)\n");
    }
    routes.push_back(
        {std::string(durablestreams::kConfigRoot), durablestreams::ProjectConfigApi(ao)});
    durablestreams::ProjectJwtAuthHooks hooks = durablestreams::ProjectJwtAuth(std::move(ao));
    options.authorize_read = std::move(hooks.authorize_read);
    options.authorize_mutation = std::move(hooks.authorize_mutation);
    options.cors_origin = std::move(hooks.cors_origin);
    authorize_control = std::move(hooks.authorize_control);
  }

  // Signals go to one thread that waits for them; block them everywhere else
  // before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // The metrics token may come from the environment, out of `ps`.
  if (const char* t = std::getenv("DS_METRICS_TOKEN"); t && *t && metrics_token.empty()) {
    metrics_token = t;
  }
  std::shared_ptr<durablestreams::Metrics> metrics;
  if (metrics_mode == "on") {
    metrics = std::make_shared<durablestreams::Metrics>();
    options.metrics = metrics;
  }

  // Reserved subscriptions (the __ds control APIs); their threads start
  // with the signals blocked.
  std::unique_ptr<durablestreams::subscriptions::SubscriptionService> subs;
  if (subscriptions == "on") {
    durablestreams::subscriptions::SubscriptionServiceOptions so;
    so.data_dir = store_options.data_dir;
    so.public_root = public_url;
    so.projects = auth == "jwt";
    so.authorize_control = authorize_control;
    so.metrics = metrics;
    so.webhooks.total_timeout = webhook_timeout;
    so.webhooks.connect_timeout = std::min(so.webhooks.connect_timeout, webhook_timeout);
    auto made = durablestreams::subscriptions::SubscriptionService::Open(so);
    if (!made.ok()) {
      std::fprintf(stderr, "durable-streams-server: %s\n", made.status().ToString().c_str());
      return 1;
    }
    subs = std::move(made).value();
    durablestreams::subscriptions::UseSubscriptions(&options, subs.get());
  }

  auto opened = durablestreams::StreamEngine::Open(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "durable-streams-server: cannot open %s: %s\n",
                 store_options.data_dir.c_str(), opened.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<durablestreams::StreamEngine> engine = std::move(opened).value();
  if (subs) {
    durablestreams::Status attached = subs->Attach(engine.get());
    if (!attached.ok()) {
      std::fprintf(stderr, "durable-streams-server: subscriptions: %s\n",
                   attached.ToString().c_str());
      return 1;
    }
  }
  routes.push_back({std::string(durablestreams::kEstuaryRoot), nullptr,
                    durablestreams::EstuaryApi(*engine)});
  durablestreams::InspectApiOptions io;
  io.authorize_control = authorize_control;
  io.projects = auth == "jwt";
  auto inspect = durablestreams::InspectApi(*engine, io);
  routes.push_back({std::string(durablestreams::kInspectRoot), nullptr, inspect});
  routes.push_back({std::string(durablestreams::kInspectList), nullptr, inspect, true});
  if (admin == "on") {
    for (auto& r : durablestreams::AdminPageRoutes()) routes.push_back(std::move(r));
  }
  std::unique_ptr<durablestreams::MetricsListener> metrics_listener;
  std::shared_ptr<durablestreams::RequestMetrics> request_metrics;
  if (metrics) {
    request_metrics = std::make_shared<durablestreams::RequestMetrics>(metrics);
    if (!metrics_listen.empty()) {
      auto listening = durablestreams::MetricsListener::Start(metrics, metrics_listen);
      if (!listening.ok()) {
        std::fprintf(stderr, "durable-streams-server: %s\n", listening.status().ToString().c_str());
        return 1;
      }
      metrics_listener = std::move(listening).value();
      std::fprintf(stderr, "durable-streams-server: metrics on port %d\n", metrics_listener->port());
    } else {
      routes.push_back(durablestreams::MetricsRoute(metrics, metrics_token, auth == "jwt"));
    }
  }
  auto stream_root = [&](int bound_port) {
    if (subs && public_url.empty()) {
      subs->SetPublicRoot("http://" + host + ":" + std::to_string(bound_port) + "/v1/stream/");
    }
  };

  std::shared_ptr<durablestreams::AccessLog> log;
  if (!access_log.empty()) {
    durablestreams::AccessLogOptions lo;
    lo.target = access_log;
    if (auth == "jwt") lo.project_of = ProjectOfRequest;
    auto opened_log = durablestreams::AccessLog::Open(lo);
    if (!opened_log.ok()) {
      std::fprintf(stderr, "durable-streams-server: %s\n", opened_log.status().ToString().c_str());
      return 1;
    }
    log = *opened_log;
  }

  if (transport == "event") {
    durablestreams::EventServerOptions eo;
    eo.access_log = log;
    eo.request_metrics = request_metrics;
    eo.host = host;
    eo.port = port;
    eo.threads = static_cast<int>(loops);
    eo.routes = routes;
    auto started = durablestreams::EventServer::Start(*engine, eo);
    if (!started.ok()) {
      std::fprintf(stderr, "durable-streams-server: %s\n", started.status().ToString().c_str());
      return 1;
    }
    std::unique_ptr<durablestreams::EventServer> server = std::move(started).value();
    stream_root(server->port());
    std::printf("listening on http://%s:%d\n", host.c_str(), server->port());
    std::fflush(stdout);
    int sig = 0;
    sigwait(&signals, &sig);
    std::fprintf(stderr, "durable-streams-server: signal %d, shutting down\n", sig);
    engine->Shutdown();  // answers live readers, commits what is queued
    server->Stop();      // lets those answers go out, then closes
    if (subs) subs->Stop();
    server.reset();
    engine.reset();
    return 0;
  }

  httplib::Server server;
  server.new_task_queue = [max_threads] {
    return new durablestreams::GrowingThreadPool(max_threads);
  };
  durablestreams::HttplibAdapterOptions ho;
  ho.routes = routes;
  ho.access_log = log;
  ho.request_metrics = request_metrics;
  durablestreams::Mount(server, *engine, ho);

  int bound =
      port == 0 ? server.bind_to_any_port(host) : (server.bind_to_port(host, port) ? port : -1);
  if (bound < 0) {
    std::fprintf(stderr, "durable-streams-server: cannot listen on %s:%d\n", host.c_str(), port);
    return 1;
  }
  durablestreams::WidenListenBacklog(bound);
  stream_root(bound);
  std::printf("listening on http://%s:%d\n", host.c_str(), bound);
  std::fflush(stdout);

  std::atomic<bool> signalled{false};
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    signalled = true;
    std::fprintf(stderr, "durable-streams-server: signal %d, shutting down\n", sig);
    engine->Shutdown();  // answers live readers, commits what is queued
    server.stop();
  });
  server.listen_after_bind();
  // listen_after_bind also returns if the socket fails; make sure the signal
  // thread ends either way.
  if (!signalled) pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  if (subs) subs->Stop();
  engine.reset();
  return 0;
}

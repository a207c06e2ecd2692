// server/httplib_adapter.cc: the cpp-httplib transport for StreamEngine.
#include "durablestreams/server/httplib_adapter.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <future>
#include <thread>

#include "durablestreams/live_stream.h"
#include "routing.h"

namespace durablestreams {

namespace {

// `text` as a regular expression that matches it alone.
std::string RegexLiteral(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

Request ToRequest(const std::string& root, const httplib::Request& hreq) {
  Request req;
  req.root = root;
  req.method = ToMethod(hreq.method);
  req.path = hreq.matches.size() > 1 ? hreq.matches[1].str() : std::string();
  std::string host = hreq.get_header_value("Host");
  if (!host.empty()) {
    std::string target = hreq.target.substr(0, hreq.target.find('?'));
    req.url = PublicUrl(host, hreq.get_header_value("X-Forwarded-Proto"), target);
  }
  for (const auto& [k, v] : hreq.params) req.query.emplace_back(k, v);
  for (const auto& [k, v] : hreq.headers) req.headers.Add(k, v);
  // httplib does not look at the body again after the handler.
  req.body = std::move(const_cast<std::string&>(hreq.body));
  return req;
}

void SendPlain(const Response& r, bool head, httplib::Response& hres) {
  hres.status = r.status;
  for (const auto& [k, v] : r.headers.fields()) hres.set_header(k, v);
  if (!head) hres.body = r.body;
}

void Serve(StreamEngine& engine, const std::string& root, const httplib::Request& hreq,
           httplib::Response& hres) {
  Request req = ToRequest(root, hreq);
  const bool head = req.method == Method::kHead;
  Response r = engine.HandleAndWait(std::move(req));
  hres.status = r.status;
  for (const auto& [k, v] : r.headers.fields()) {
    if (r.live && k == "Content-Type") continue;
    hres.set_header(k, v);
  }
  if (!r.live) {
    if (!head) hres.body = std::move(r.body);
    return;
  }
  std::shared_ptr<LiveStream> live = r.live;
  std::string first = std::move(r.body);
  hres.set_chunked_content_provider(
      "text/event-stream",
      [live, first = std::move(first)](size_t, httplib::DataSink& sink) mutable {
        std::string buf = std::move(first);
        first.clear();
        bool more = live->WaitAndTake(&buf, std::chrono::milliseconds(1000));
        if (!buf.empty() && !sink.write(buf.data(), buf.size())) {
          live->Cancel();
          return false;
        }
        if (!more) sink.done();
        return true;
      },
      [live](bool) { live->Cancel(); });
}

}  // namespace

void Mount(httplib::Server& server, StreamEngine& engine, const HttplibAdapterOptions& options) {
  server.set_payload_max_length(engine.options().max_body_bytes);
  server.set_keep_alive_max_count(100000);
  server.set_tcp_nodelay(true);  // small responses must not wait for delayed ACKs
  if (options.access_log || options.request_metrics) {
    // A request runs on one worker thread from routing to its logger.
    struct Started {
      std::chrono::steady_clock::time_point at;
      int64_t unix_ms = 0;
    };
    static thread_local Started started;
    server.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
      started.at = std::chrono::steady_clock::now();
      started.unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
      return httplib::Server::HandlerResponse::Unhandled;
    });
    server.set_logger([log = options.access_log, metrics = options.request_metrics](
                          const httplib::Request& req, const httplib::Response& res) {
      double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started.at)
              .count();
      if (metrics) metrics->Record(req.method, res.status, ms / 1000);
      if (!log) return;
      AccessLogEntry e;
      e.time_ms = started.unix_ms;
      e.method = req.method;
      e.path = req.path;
      e.status = res.status;
      e.bytes = req.method == "HEAD" ? 0 : res.body.size();
      e.duration_ms = ms;
      e.live = res.get_header_value("Content-Type") == "text/event-stream";
      log->Write(e);
    });
  }
  std::string pattern = options.prefix + "(.+)";
  auto handler = [&engine, root = options.prefix](const httplib::Request& req,
                                                  httplib::Response& res) {
    Serve(engine, root, req, res);
  };
  server.Get(pattern, handler);
  server.Put(pattern, handler);
  server.Post(pattern, handler);
  server.Delete(pattern, handler);
  server.Options(pattern, handler);
  for (const Route& route : options.routes) {
    auto serve = [route, root = route.prefix](const httplib::Request& req, httplib::Response& res) {
      Request r = ToRequest(root, req);
      bool head = r.method == Method::kHead;
      if (!route.async_handler) return SendPlain(route.handler(r), head, res);
      auto promise = std::make_shared<std::promise<Response>>();
      auto answer = promise->get_future();
      route.async_handler(std::move(r),
                          [promise](Response out) { promise->set_value(std::move(out)); });
      SendPlain(answer.get(), head, res);
    };
    std::string route_pattern = route.exact ? RegexLiteral(route.prefix) : route.prefix + "(.+)";
    server.Get(route_pattern, serve);
    server.Put(route_pattern, serve);
    server.Post(route_pattern, serve);
    server.Delete(route_pattern, serve);
    server.Options(route_pattern, serve);
  }
  if (options.health) {
    server.Get(std::string(kHealthPath), [](const httplib::Request&, httplib::Response& res) {
      Response r = HealthResponse();
      res.set_content(r.body, *r.headers.Get("Content-Type"));
    });
  }
  // httplib's own answers (unknown route, body over the limit, bad request
  // line) get the same JSON error shape and security headers as ours.
  server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    const char* code = "ERROR";
    const char* message = "request failed";
    switch (res.status) {
      case 400: code = "BAD_REQUEST"; message = "malformed request"; break;
      case 404: code = "NOT_FOUND"; message = "no such route"; break;
      case 405: code = "METHOD_NOT_ALLOWED"; message = "method not allowed"; break;
      case 413: code = "PAYLOAD_TOO_LARGE"; message = "request body is larger than the limit"; break;
      case 414: code = "URI_TOO_LONG"; message = "request target is too long"; break;
      case 431: code = "HEADERS_TOO_LARGE"; message = "request headers are too large"; break;
      default: break;
    }
    Response r = ErrorResponse(res.status, code, message);
    for (const auto& [k, v] : r.headers.fields()) {
      if (k != "Content-Type") res.set_header(k, v);
    }
    res.set_content(r.body, "application/json");
  });
}

bool WidenListenBacklog(int port, int backlog) {
  bool found = false;
  for (int fd = 0; fd < 1024; ++fd) {
    int listening = 0;
    socklen_t len = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
    sockaddr_storage addr{};
    socklen_t alen = sizeof addr;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &alen) != 0) continue;
    int bound = -1;
    if (addr.ss_family == AF_INET) {
      bound = ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    } else if (addr.ss_family == AF_INET6) {
      bound = ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
    }
    if (bound == port && ::listen(fd, backlog) == 0) found = true;
  }
  return found;
}

void GrowingThreadPool::enqueue(std::function<void()> fn) {
  bool spawn = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back(std::move(fn));
    // A task is a connection that may live for minutes: every queued task
    // needs an idle worker of its own, or a new one.
    if (jobs_.size() > idle_ && threads_ < max_threads_) {
      ++threads_;
      spawn = true;
    }
  }
  if (spawn) {
    std::thread([this] { Work(); }).detach();
  } else {
    work_cv_.notify_one();
  }
}

void GrowingThreadPool::shutdown() {
  std::unique_lock<std::mutex> lock(mu_);
  shutdown_ = true;
  work_cv_.notify_all();
  exit_cv_.wait(lock, [&] { return threads_ == 0; });
}

void GrowingThreadPool::Work() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (jobs_.empty()) {
      if (shutdown_) break;
      ++idle_;
      bool got = work_cv_.wait_for(lock, std::chrono::seconds(60),
                                   [&] { return !jobs_.empty() || shutdown_; });
      --idle_;
      if (!got) break;  // idle for a minute
      continue;
    }
    std::function<void()> fn = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    fn();
    lock.lock();
  }
  --threads_;
  exit_cv_.notify_all();
}

}  // namespace durablestreams

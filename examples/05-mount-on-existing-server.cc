// examples/05-mount-on-existing-server.cc
//
// What it shows: adding Durable Streams to an httplib server that already has
// routes of its own, under a prefix of your choosing, with per-tenant access
// control in the authorization hooks.
//
// Run:  ./build/examples/05-mount-on-existing-server        (port 8081)
//       curl -X PUT -d '' -H 'X-Tenant: acme' -H 'Content-Type: text/plain' \
//            localhost:8081/api/streams/acme/log               -> 201
//       curl -H 'X-Tenant: other' 'localhost:8081/api/streams/acme/log?offset=-1'   -> 403
#include <cstdio>

#include "durablestreams/server/httplib_adapter.h"

using namespace durablestreams;

// A tenant may touch only streams under its own name.
std::optional<Response> SameTenant(const Request& req) {
  const std::string* tenant = req.headers.Get("X-Tenant");
  if (tenant && !tenant->empty() && req.path.rfind(*tenant + "/", 0) == 0) return std::nullopt;
  return DenyResponse(403, "FORBIDDEN", "streams belong to the tenant named in their path");
}

int main() {
  Options options;
  options.default_storage.data_dir = "./example-data-05";
  options.authorize_read = SameTenant;
  options.authorize_mutation = SameTenant;
  options.long_poll_timeout = std::chrono::seconds(20);
  auto engine = StreamEngine::Open(options);
  if (!engine.ok()) return 1;

  httplib::Server server;  // the application's own server
  server.new_task_queue = [] { return new GrowingThreadPool(1024); };
  server.Get("/api/version", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"version\":\"1.2.3\"}", "application/json");
  });

  HttplibAdapterOptions mount;
  mount.prefix = "/api/streams/";
  mount.health = false;  // the application has its own health check
  Mount(server, **engine, mount);

  std::printf("listening on http://127.0.0.1:8081\n");
  server.listen("127.0.0.1", 8081);
  return 0;
}

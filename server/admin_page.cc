// server/admin_page.cc: the admin page's routes (admin_page.h); its files
// are in server/admin/ and embedded by CMake (assets.cc.in).
#include "durablestreams/server/admin_page.h"

#include <string>

namespace durablestreams {

namespace admin {
extern const char kIndexHtml[];
extern const char kAppJs[];
extern const char kAppCss[];
}  // namespace admin

namespace {

constexpr const char* kPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

Response Asset(const Request& req, const char* body, const char* type) {
  Response r;
  if (req.method != Method::kGet && req.method != Method::kHead) {
    r = ErrorResponse(405, "METHOD_NOT_ALLOWED", "the admin page is read-only");
    r.headers.Set("Allow", "GET, HEAD");
    return r;
  }
  r.body = body;
  r.headers.Set("Content-Type", type);
  r.headers.Set("Cache-Control", "no-cache");
  r.headers.Set("Content-Security-Policy", kPolicy);
  r.headers.Set("X-Content-Type-Options", "nosniff");
  r.headers.Set("Referrer-Policy", "no-referrer");
  return r;
}

Route Exact(std::string path, const char* body, const char* type) {
  Route route;
  route.prefix = std::move(path);
  route.exact = true;
  route.handler = [body, type](const Request& req) { return Asset(req, body, type); };
  return route;
}

}  // namespace

std::vector<Route> AdminPageRoutes() {
  std::vector<Route> routes;
  routes.push_back(Exact("/admin/", admin::kIndexHtml, "text/html; charset=utf-8"));
  routes.push_back(Exact("/admin/app.js", admin::kAppJs, "text/javascript; charset=utf-8"));
  routes.push_back(Exact("/admin/app.css", admin::kAppCss, "text/css; charset=utf-8"));
  Route redirect;
  redirect.prefix = "/admin";
  redirect.exact = true;
  redirect.handler = [](const Request&) {
    Response r;
    r.status = 308;
    r.headers.Set("Location", "/admin/");
    return r;
  };
  routes.push_back(std::move(redirect));
  return routes;
}

}  // namespace durablestreams

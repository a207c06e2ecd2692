// include/durablestreams/server/admin_page.h
//
// The admin page, served by the server at /admin/ (docs/operations.md): an
// overview from /metrics and the inspect API (inspect_api.h), a stream
// list with search, a stream view with a live tail, and a test panel that
// creates, appends and reads. Its HTML, CSS and script (server/admin/) are
// compiled into the server; it loads nothing from elsewhere, and its
// Content-Security-Policy lets it load and connect to this server alone.
// It asks for no authority of its own: the token typed into it is sent
// with its requests, and every route checks it as it would any client's.
//
// Thread safety: the routes' handlers are pure.
#ifndef DURABLESTREAMS_SERVER_ADMIN_PAGE_H_
#define DURABLESTREAMS_SERVER_ADMIN_PAGE_H_

#include <vector>

#include "durablestreams/server/route.h"

namespace durablestreams {

// /admin (redirect), /admin/, /admin/app.js, /admin/app.css.
std::vector<Route> AdminPageRoutes();

}  // namespace durablestreams

#endif  // DURABLESTREAMS_SERVER_ADMIN_PAGE_H_

// lib/engine/auth.cc: the response of a refused request (auth.h).
#include "durablestreams/auth.h"

#include "protocol/errors.h"

namespace durablestreams {

Response DenyResponse(int status, std::string_view code, std::string_view message) {
  Response r;
  r.status = status;
  r.headers.Set("Content-Type", "application/json");
  r.body = protocol::ErrorJson(code, message);
  return r;
}

}  // namespace durablestreams

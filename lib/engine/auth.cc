// lib/engine/auth.cc: the response of a refused request (auth.h).
#include "durablestreams/auth.h"

namespace durablestreams {

Response DenyResponse(int status, std::string_view code, std::string_view message) {
  return ErrorResponse(status, code, message);
}

}  // namespace durablestreams

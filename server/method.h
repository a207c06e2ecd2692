// server/method.h: the protocol's Method for an HTTP method name, shared by
// both transports.
#ifndef DURABLESTREAMS_SERVER_METHOD_H_
#define DURABLESTREAMS_SERVER_METHOD_H_

#include <string_view>

#include "durablestreams/request.h"

namespace durablestreams {

inline Method ToMethod(std::string_view m) {
  if (m == "GET") return Method::kGet;
  if (m == "HEAD") return Method::kHead;
  if (m == "PUT") return Method::kPut;
  if (m == "POST") return Method::kPost;
  if (m == "DELETE") return Method::kDelete;
  if (m == "OPTIONS") return Method::kOptions;
  return Method::kOther;
}

}  // namespace durablestreams

#endif  // DURABLESTREAMS_SERVER_METHOD_H_

// lib/util/status.cc: Status's text form (status.h).
#include "durablestreams/status.h"

namespace durablestreams {

std::string Status::ToString() const {
  static const char* const kNames[] = {"OK",      "NotFound", "InvalidArgument",
                                       "Corruption", "IOError", "NoSpace",
                                       "Busy",    "Shutdown", "Internal",
                                       "Unavailable"};
  constexpr int kCount = sizeof(kNames) / sizeof(kNames[0]);
  int i = static_cast<int>(code_);
  std::string out = (i >= 0 && i < kCount) ? kNames[i] : "Unknown";
  if (ok()) return out;
  return out + ": " + message_;
}

}  // namespace durablestreams

// lib/engine/common.cc: small definitions of the public value types.
#include <chrono>

#include "durablestreams/auth.h"
#include "durablestreams/clock.h"
#include "durablestreams/request.h"
#include "durablestreams/status.h"
#include "protocol/errors.h"
#include "protocol/headers.h"

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

void Headers::Set(std::string_view name, std::string value) {
  Remove(name);
  fields_.emplace_back(std::string(name), std::move(value));
}

const std::string* Headers::Get(std::string_view name) const {
  for (const auto& f : fields_) {
    if (protocol::EqualsIgnoreCase(f.first, name)) return &f.second;
  }
  return nullptr;
}

size_t Headers::Count(std::string_view name) const {
  size_t n = 0;
  for (const auto& f : fields_) n += protocol::EqualsIgnoreCase(f.first, name);
  return n;
}

void Headers::Remove(std::string_view name) {
  size_t out = 0;
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (!protocol::EqualsIgnoreCase(fields_[i].first, name)) {
      if (out != i) fields_[out] = std::move(fields_[i]);
      ++out;
    }
  }
  fields_.resize(out);
}

namespace {
class RealClock final : public Clock {
 public:
  int64_t NowMillis() override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};
}  // namespace

std::shared_ptr<Clock> SystemClock() {
  static const std::shared_ptr<Clock> clock = std::make_shared<RealClock>();
  return clock;
}

Response DenyResponse(int status, std::string_view code, std::string_view message) {
  Response r;
  r.status = status;
  r.headers.Set("Content-Type", "application/json");
  r.body = protocol::ErrorJson(code, message);
  return r;
}

}  // namespace durablestreams

// include/durablestreams/status.h
//
// Status and Result<T>: how every fallible call of the library reports an
// outcome. No exception crosses the public API.
//
// Thread safety: Status and Result are plain values; distinct objects may be
// used from distinct threads without synchronization.
#ifndef DURABLESTREAMS_STATUS_H_
#define DURABLESTREAMS_STATUS_H_

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace durablestreams {

// What went wrong, one line each. Values are stable; do not renumber.
enum class StatusCode {
  kOk = 0,               // success
  kNotFound = 1,         // the named thing does not exist
  kInvalidArgument = 2,  // the caller passed something malformed
  kCorruption = 3,       // stored data failed a consistency check
  kIOError = 4,          // the operating system or SQLite reported an error
  kNoSpace = 5,          // the disk (or quota) is full; retry after freeing space
  kBusy = 6,             // a resource is temporarily unavailable; retry helps
  kShutdown = 7,         // the engine is stopping and takes no new work
  kInternal = 8,         // a bug: an invariant did not hold
  kUnavailable = 9,      // a remote store is unreachable or served an unusable
                         // object; retry may help
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status IOError(std::string m) { return {StatusCode::kIOError, std::move(m)}; }
  static Status NoSpace(std::string m) { return {StatusCode::kNoSpace, std::move(m)}; }
  static Status Busy(std::string m) { return {StatusCode::kBusy, std::move(m)}; }
  static Status Shutdown(std::string m) { return {StatusCode::kShutdown, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
  static Status Unavailable(std::string m) {
    return {StatusCode::kUnavailable, std::move(m)};
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "OK" or "<code name>: <message>".
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    assert(!status_.ok());
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

  // REQUIRES: ok()
  T& value() & { assert(ok()); return *value_; }
  const T& value() const& { assert(ok()); return *value_; }
  T&& value() && { assert(ok()); return std::move(*value_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace durablestreams

#endif  // DURABLESTREAMS_STATUS_H_

// lib/subscriptions/glob.h
//
// The stream patterns of subscriptions (PROTOCOL.md §6.2): a pattern is a
// stream-root-relative path whose segments are literals, `*` (exactly one
// segment) or `**` (zero or more segments). A wildcard is a whole segment:
// `user-*` is refused rather than read as a literal, so a pattern never
// means something other than it looks. Empty segments (`a//b`, a leading or
// trailing `/`) are refused too, as they are in stream paths.
//
// Matching is O(pattern segments x path segments) whatever the number of
// `**`, so a hostile pattern cannot make an append slow.
//
// Thread safety: a Glob is immutable after Parse and may be shared.
#ifndef DURABLESTREAMS_LIB_SUBSCRIPTIONS_GLOB_H_
#define DURABLESTREAMS_LIB_SUBSCRIPTIONS_GLOB_H_

#include <string>
#include <string_view>
#include <vector>

#include "durablestreams/status.h"

namespace durablestreams::subscriptions {

class Glob {
 public:
  // A pattern of at most kMaxSegments segments and kMaxBytes bytes, or
  // InvalidArgument saying what is wrong with it.
  static Result<Glob> Parse(std::string_view pattern);

  static constexpr size_t kMaxSegments = 64;
  static constexpr size_t kMaxBytes = 1024;

  bool Matches(std::string_view path) const;

  const std::string& text() const { return text_; }

 private:
  enum class Kind { kLiteral, kOne, kAny };
  struct Segment {
    Kind kind;
    std::string text;
  };
  std::string text_;
  std::vector<Segment> segments_;
};

}  // namespace durablestreams::subscriptions

#endif  // DURABLESTREAMS_LIB_SUBSCRIPTIONS_GLOB_H_

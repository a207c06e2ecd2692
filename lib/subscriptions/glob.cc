// lib/subscriptions/glob.cc: subscription patterns (glob.h).
#include "subscriptions/glob.h"

#include <algorithm>

namespace durablestreams::subscriptions {

namespace {

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    parts.push_back(path.substr(start, slash - start));
    if (slash == std::string_view::npos) return parts;
    start = slash + 1;
  }
}

}  // namespace

Result<Glob> Glob::Parse(std::string_view pattern) {
  if (pattern.empty()) return Status::InvalidArgument("pattern is empty");
  if (pattern.size() > kMaxBytes) return Status::InvalidArgument("pattern is too long");
  Glob g;
  g.text_ = std::string(pattern);
  for (std::string_view part : Split(pattern)) {
    if (part.empty()) return Status::InvalidArgument("pattern has an empty segment");
    if (g.segments_.size() == kMaxSegments) {
      return Status::InvalidArgument("pattern has too many segments");
    }
    if (part == "*") {
      g.segments_.push_back({Kind::kOne, {}});
    } else if (part == "**") {
      // `**/**` means what one `**` does; keep one.
      if (!g.segments_.empty() && g.segments_.back().kind == Kind::kAny) continue;
      g.segments_.push_back({Kind::kAny, {}});
    } else if (part.find('*') != std::string_view::npos) {
      return Status::InvalidArgument("a wildcard (* or **) must be a whole path segment");
    } else {
      g.segments_.push_back({Kind::kLiteral, std::string(part)});
    }
  }
  return g;
}

bool Glob::Matches(std::string_view path) const {
  std::vector<std::string_view> parts = Split(path);
  // can[j]: the pattern's first i segments match the path's first j parts.
  // One row per pattern segment, O(segments x parts) in all.
  std::vector<char> can(parts.size() + 1, 0), next(parts.size() + 1, 0);
  can[0] = 1;
  for (const Segment& seg : segments_) {
    std::fill(next.begin(), next.end(), 0);
    if (seg.kind == Kind::kAny) {
      char reached = 0;
      for (size_t j = 0; j <= parts.size(); ++j) {
        reached = reached || can[j];
        next[j] = reached;
      }
    } else {
      for (size_t j = 0; j < parts.size(); ++j) {
        if (can[j] && (seg.kind == Kind::kOne || parts[j] == seg.text)) next[j + 1] = 1;
      }
    }
    can.swap(next);
  }
  return can[parts.size()] != 0;
}

}  // namespace durablestreams::subscriptions

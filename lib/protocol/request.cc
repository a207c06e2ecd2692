// lib/protocol/request.cc: Headers (request.h), whose names compare as HTTP's
// do, without regard to case.
#include "durablestreams/request.h"

#include "protocol/headers.h"

namespace durablestreams {

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

}  // namespace durablestreams

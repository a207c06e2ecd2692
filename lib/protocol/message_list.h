// lib/protocol/message_list.h
//
// The messages of one append, stored back to back: `data` holds them without
// separators and `sizes` their lengths, in order. A JSON batch of 100 values
// is one buffer and one vector, not 100 strings. No message is empty.
//
// A value type; not synchronized.
#ifndef DURABLESTREAMS_LIB_PROTOCOL_MESSAGE_LIST_H_
#define DURABLESTREAMS_LIB_PROTOCOL_MESSAGE_LIST_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace durablestreams::protocol {

struct MessageList {
  std::string data;
  std::vector<uint32_t> sizes;

  // A list of `body` as its one message (none when it is empty), without a copy.
  static MessageList One(std::string&& body) {
    MessageList l;
    if (!body.empty()) l.sizes.push_back(static_cast<uint32_t>(body.size()));
    l.data = std::move(body);
    return l;
  }

  size_t size() const { return sizes.size(); }
  bool empty() const { return sizes.empty(); }
  void push_back(std::string_view m) {
    if (m.empty()) return;
    data.append(m);
    sizes.push_back(static_cast<uint32_t>(m.size()));
  }
  // Calls fn(std::string_view) for each message, in order.
  template <typename Fn>
  void ForEach(Fn fn) const {
    size_t at = 0;
    for (uint32_t n : sizes) {
      fn(std::string_view(data).substr(at, n));
      at += n;
    }
  }
  std::vector<std::string> Strings() const {
    std::vector<std::string> out;
    ForEach([&](std::string_view m) { out.emplace_back(m); });
    return out;
  }
};

}  // namespace durablestreams::protocol

#endif  // DURABLESTREAMS_LIB_PROTOCOL_MESSAGE_LIST_H_

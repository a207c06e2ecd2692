// lib/storage/message_bytes.h: the bytes of stored messages, back to back.
// Free functions; no state.
#ifndef DURABLESTREAMS_STORAGE_MESSAGE_BYTES_H_
#define DURABLESTREAMS_STORAGE_MESSAGE_BYTES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "durablestreams/storage.h"

namespace durablestreams::storage {

// Appends to *body the bytes of a message `data` that starts at position
// `start`, from position `from` on (a read may start inside a message).
inline void AppendFrom(std::string_view data, uint64_t start, uint64_t from, std::string* body) {
  if (start < from) data.remove_prefix(from - start);
  body->append(data);
}

// Appends to *body the bytes of `msgs` (in order and contiguous) from
// position `from` on, and sets *next to the end of the last message (leaves
// it when there is none). One allocation; a single whole message into an
// empty body is moved, not copied, which is why `msgs` is not const.
void AppendMessageBytes(std::vector<StoredMessage>* msgs, uint64_t from, std::string* body,
                        uint64_t* next);

}  // namespace durablestreams::storage

#endif  // DURABLESTREAMS_STORAGE_MESSAGE_BYTES_H_

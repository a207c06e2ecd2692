// lib/storage/storage.cc: the defaults of Storage::ReadBytes and Describe, and the
// concatenation it shares with the engine and SqliteStorage.
#include "durablestreams/storage.h"

#include <utility>

#include "storage/message_bytes.h"

namespace durablestreams {

namespace storage {

void AppendMessageBytes(std::vector<StoredMessage>* msgs, uint64_t from, std::string* body,
                        uint64_t* next) {
  if (msgs->size() == 1 && (*msgs)[0].start >= from && body->empty()) {
    *body = std::move((*msgs)[0].data);  // one whole message: the body itself
    *next = (*msgs)[0].end;
    return;
  }
  // One allocation: growing the body message by message would copy a 1 MiB
  // response several times over.
  size_t total = body->size();
  for (const StoredMessage& m : *msgs) total += m.data.size();
  body->reserve(total);
  for (const StoredMessage& m : *msgs) {
    AppendFrom(m.data, m.start, from, body);
    *next = m.end;
  }
}

}  // namespace storage

Status Storage::ReadBytes(int64_t stream_id, uint64_t from, uint64_t to, size_t max_bytes,
                          std::string* body, uint64_t* next) {
  *next = from;
  std::vector<StoredMessage> msgs;
  Status s = ReadMessages(stream_id, from, to, max_bytes, &msgs);
  if (s.ok()) storage::AppendMessageBytes(&msgs, from, body, next);
  return s;
}

Status Storage::Describe(int64_t stream_id, StreamStorageInfo* out) {
  *out = StreamStorageInfo();
  uint64_t from = 0;
  for (;;) {
    std::vector<StoredMessage> msgs;
    Status s = ReadMessages(stream_id, from, UINT64_MAX, 1 << 20, &msgs);
    if (!s.ok()) return s;
    if (msgs.empty()) return Status::OK();
    for (const StoredMessage& m : msgs) {
      ++out->hot_messages;
      out->hot_bytes += m.data.size();
    }
    from = msgs.back().end;
  }
}

}  // namespace durablestreams

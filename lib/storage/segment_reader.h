// lib/storage/segment_reader.h
//
// Reads messages out of sealed segments in a SegmentStore, through a bounded
// LRU cache of decoded data. Small segments are fetched whole; large ones
// by byte ranges found through their index (segment_format.h), so a reader
// of one message does not fetch megabytes.
//
// Thread safety: Read() may be called from many threads at once.
#ifndef DURABLESTREAMS_STORAGE_SEGMENT_READER_H_
#define DURABLESTREAMS_STORAGE_SEGMENT_READER_H_

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "durablestreams/segment_store.h"
#include "durablestreams/storage.h"

namespace durablestreams::storage {

// A row of the segment index (the `segments` table).
struct SegmentInfo {
  uint64_t start = 0;
  uint64_t end = 0;
  std::string key;
  uint64_t size = 0;  // object bytes
  uint64_t messages = 0;
};

class SegmentReader {
 public:
  // Segments up to `whole_object_bytes` are fetched in one piece.
  SegmentReader(std::shared_ptr<SegmentStore> store, size_t cache_bytes,
                size_t whole_object_bytes = 1024 * 1024);

  // Appends to *out the messages of `seg` that end after `from` and start
  // before `to`, adding their sizes to *bytes and stopping once *bytes
  // reaches `max_bytes`. A missing, short or damaged object is kUnavailable
  // (the bytes are never served); so is a store error.
  Status Read(const SegmentInfo& seg, uint64_t from, uint64_t to, size_t max_bytes,
              std::vector<StoredMessage>* out, size_t* bytes);

  // As Read(), but appends the bytes of those messages from `from` on to
  // *body straight from the cache (no copy of each message first), and sets
  // *next to the end of the last one.
  Status ReadBytes(const SegmentInfo& seg, uint64_t from, uint64_t to, size_t max_bytes,
                   std::string* body, uint64_t* next, size_t* bytes);

  // Drops cached data of objects whose key starts with `prefix`.
  void Forget(const std::string& prefix);

 private:
  using Chunk = std::vector<StoredMessage>;
  struct Entry {
    std::string key;
    std::shared_ptr<const void> value;
    size_t bytes = 0;
  };

  // The walk of Read() and ReadBytes(): hands each message to `take`.
  Status Visit(const SegmentInfo& seg, uint64_t from, uint64_t to, size_t max_bytes,
               size_t* bytes, const std::function<void(const StoredMessage&)>& take);

  // Data of [first index entry, last) decoded, or the whole segment.
  Status LoadChunk(const SegmentInfo& seg, size_t chunk, std::shared_ptr<const Chunk>* out);
  Status LoadLayout(const SegmentInfo& seg, std::shared_ptr<const void>* out);

  std::shared_ptr<const void> Lookup(const std::string& key);
  void Insert(const std::string& key, std::shared_ptr<const void> value, size_t bytes);

  const std::shared_ptr<SegmentStore> store_;
  const size_t cache_bytes_;
  const size_t whole_object_bytes_;

  std::mutex mu_;
  std::list<Entry> lru_;  // most recent first; guarded by mu_
  std::unordered_map<std::string, std::list<Entry>::iterator> map_;  // guarded by mu_
  size_t used_ = 0;                                                  // guarded by mu_
};

}  // namespace durablestreams::storage

#endif  // DURABLESTREAMS_STORAGE_SEGMENT_READER_H_

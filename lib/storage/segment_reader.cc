// lib/storage/segment_reader.cc
#include "storage/segment_reader.h"

#include <algorithm>
#include <chrono>

#include "storage/message_bytes.h"
#include "storage/segment_format.h"

namespace durablestreams::storage {

namespace {

// Index entries per ranged fetch of a large segment (about 1 MiB of frames
// at the index spacing of 64 KiB).
constexpr size_t kEntriesPerChunk = 16;
// Trailing bytes fetched first to find a large segment's index.
constexpr uint64_t kTailGuess = 16 * 1024;

Deadline ReadDeadline() { return std::chrono::steady_clock::now() + std::chrono::seconds(20); }

Status Unusable(const SegmentInfo& seg, const Status& why) {
  return Status::Unavailable("segment " + seg.key + " is unreadable: " + why.ToString());
}

}  // namespace

SegmentReader::SegmentReader(std::shared_ptr<SegmentStore> store, size_t cache_bytes,
                             size_t whole_object_bytes)
    : store_(std::move(store)), cache_bytes_(cache_bytes), whole_object_bytes_(whole_object_bytes) {}

std::shared_ptr<const void> SegmentReader::Lookup(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = map_.find(key);
  if (it == map_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->value;
}

void SegmentReader::Insert(const std::string& key, std::shared_ptr<const void> value,
                           size_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (bytes > cache_bytes_) return;
  auto it = map_.find(key);
  if (it != map_.end()) {
    used_ -= it->second->bytes;
    lru_.erase(it->second);
    map_.erase(it);
  }
  lru_.push_front(Entry{key, std::move(value), bytes});
  map_[key] = lru_.begin();
  used_ += bytes;
  while (used_ > cache_bytes_ && !lru_.empty()) {
    used_ -= lru_.back().bytes;
    map_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

void SegmentReader::Forget(const std::string& prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = lru_.begin(); it != lru_.end();) {
    if (it->key.compare(0, prefix.size(), prefix) == 0) {
      used_ -= it->bytes;
      map_.erase(it->key);
      it = lru_.erase(it);
    } else {
      ++it;
    }
  }
}

Status SegmentReader::LoadLayout(const SegmentInfo& seg, std::shared_ptr<const void>* out) {
  std::string cache_key = seg.key + "#index";
  if ((*out = Lookup(cache_key))) return Status::OK();
  uint64_t want = std::min(seg.size, kTailGuess);
  std::string tail;
  for (int round = 0; round < 2; ++round) {
    Status s = store_->Get(seg.key, seg.size - want, want, &tail, ReadDeadline());
    if (!s.ok()) return Unusable(seg, s);
    if (tail.size() != want) {
      return Unusable(seg, Status::Corruption("object is shorter than its recorded size"));
    }
    auto layout = std::make_shared<SegmentLayout>();
    uint64_t need = 0;
    s = DecodeSegmentLayout(tail, seg.size, seg.start, seg.end, layout.get(), &need);
    if (!s.ok()) return Unusable(seg, s);
    if (need == 0) {
      size_t bytes = sizeof(SegmentLayout) + layout->index.size() * sizeof(SegmentIndexEntry);
      *out = layout;
      Insert(cache_key, layout, bytes);
      return Status::OK();
    }
    want = need;
  }
  return Unusable(seg, Status::Corruption("index does not fit its trailer"));
}

Status SegmentReader::LoadChunk(const SegmentInfo& seg, size_t chunk,
                                std::shared_ptr<const Chunk>* out) {
  std::string cache_key = seg.key + "#" + std::to_string(chunk);
  if (auto v = Lookup(cache_key)) {
    *out = std::static_pointer_cast<const Chunk>(v);
    return Status::OK();
  }
  auto data = std::make_shared<Chunk>();
  std::string object;
  if (seg.size <= whole_object_bytes_) {
    Status s = store_->Get(seg.key, 0, SegmentStore::kToEnd, &object, ReadDeadline());
    if (!s.ok()) return Unusable(seg, s);
    if (object.size() != seg.size) {
      return Unusable(seg, Status::Corruption("object has " + std::to_string(object.size()) +
                                              " bytes, the index recorded " +
                                              std::to_string(seg.size)));
    }
    s = DecodeSegment(object, seg.start, seg.end, data.get());
    if (!s.ok()) return Unusable(seg, s);
    if (data->size() != seg.messages) {
      return Unusable(seg, Status::Corruption("message count differs from the index"));
    }
  } else {
    std::shared_ptr<const void> v;
    Status s = LoadLayout(seg, &v);
    if (!s.ok()) return s;
    const auto& layout = *static_cast<const SegmentLayout*>(v.get());
    size_t first = chunk * kEntriesPerChunk;
    if (first >= layout.index.size()) return Status::Internal("segment chunk out of range");
    size_t last = first + kEntriesPerChunk;
    uint64_t begin = layout.index[first].offset;
    uint64_t stop = last < layout.index.size() ? layout.index[last].offset : layout.index_offset;
    uint64_t end_pos = last < layout.index.size() ? layout.index[last].position : layout.end;
    s = store_->Get(seg.key, begin, stop - begin, &object, ReadDeadline());
    if (!s.ok()) return Unusable(seg, s);
    if (object.size() != stop - begin) {
      return Unusable(seg, Status::Corruption("object is shorter than its index says"));
    }
    s = DecodeFrames(object, layout.index[first].position, data.get());
    if (!s.ok()) return Unusable(seg, s);
    if (data->empty() || data->back().end != end_pos) {
      return Unusable(seg, Status::Corruption("frames do not match the index"));
    }
  }
  size_t bytes = sizeof(Chunk);
  for (const StoredMessage& m : *data) bytes += sizeof(StoredMessage) + m.data.size();
  *out = data;
  Insert(cache_key, data, bytes);
  return Status::OK();
}

Status SegmentReader::Read(const SegmentInfo& seg, uint64_t from, uint64_t to, size_t max_bytes,
                           std::vector<StoredMessage>* out, size_t* bytes) {
  return Visit(seg, from, to, max_bytes, bytes,
               [out](const StoredMessage& m) { out->push_back(m); });
}

Status SegmentReader::ReadBytes(const SegmentInfo& seg, uint64_t from, uint64_t to,
                                size_t max_bytes, std::string* body, uint64_t* next,
                                size_t* bytes) {
  return Visit(seg, from, to, max_bytes, bytes, [&](const StoredMessage& m) {
    AppendFrom(m.data, m.start, from, body);
    *next = m.end;
  });
}

Status SegmentReader::Visit(const SegmentInfo& seg, uint64_t from, uint64_t to, size_t max_bytes,
                            size_t* bytes,
                            const std::function<void(const StoredMessage&)>& take) {
  size_t chunk = 0;
  if (seg.size > whole_object_bytes_) {
    std::shared_ptr<const void> v;
    Status s = LoadLayout(seg, &v);
    if (!s.ok()) return s;
    const auto& index = static_cast<const SegmentLayout*>(v.get())->index;
    // The last entry at or before `from`.
    auto it = std::upper_bound(index.begin(), index.end(), from,
                               [](uint64_t p, const SegmentIndexEntry& e) { return p < e.position; });
    size_t entry = it == index.begin() ? 0 : static_cast<size_t>(it - index.begin()) - 1;
    chunk = entry / kEntriesPerChunk;
  }
  for (;; ++chunk) {
    std::shared_ptr<const Chunk> data;
    Status s = LoadChunk(seg, chunk, &data);
    if (!s.ok()) return s;
    auto it = std::upper_bound(data->begin(), data->end(), from,
                               [](uint64_t p, const StoredMessage& m) { return p < m.end; });
    for (; it != data->end(); ++it) {
      if (it->start >= to || *bytes >= max_bytes) return Status::OK();
      take(*it);
      *bytes += it->data.size();
    }
    if (data->back().end >= seg.end || *bytes >= max_bytes) return Status::OK();
  }
}

}  // namespace durablestreams::storage

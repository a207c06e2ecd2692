// lib/storage/memory_storage.cc: MemoryStorage (memory_storage.h).
#include "durablestreams/memory_storage.h"

#include <algorithm>

namespace durablestreams {

Status MemoryStorage::Load(LoadedState* out) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, rec] : streams_) {
    StreamRecord r = rec;
    auto it = messages_.find(id);
    // As the contract says: the tail is the end of the last append where
    // that is past the record's.
    if (it != messages_.end() && !it->second.empty())
      r.tail = std::max(r.tail, it->second.back().end);
    out->streams.push_back(std::move(r));
  }
  for (const auto& [key, p] : producers_) out->producers.push_back(p);
  for (const auto& [key, l] : links_) out->links.push_back(l);
  return Status::OK();
}

Status MemoryStorage::Apply(const WriteBatch& b) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!fail_.ok()) return fail_;
  for (int64_t id : b.delete_streams) {
    streams_.erase(id);
    messages_.erase(id);
    auto it = producers_.lower_bound({id, std::string()});
    while (it != producers_.end() && it->first.first == id) it = producers_.erase(it);
    for (auto l = links_.begin(); l != links_.end();) {
      l = l->first.first == id || l->first.second == id ? links_.erase(l) : std::next(l);
    }
  }
  for (const StreamRecord& r : b.upsert_streams) streams_[r.id] = r;
  for (const FanoutLink& l : b.remove_links) links_.erase({l.source_id, l.target_id});
  for (const FanoutLink& l : b.add_links) links_[{l.source_id, l.target_id}] = l;
  for (const auto& key : b.delete_producers) producers_.erase(key);
  for (const ProducerRecord& p : b.upsert_producers) producers_[{p.stream_id, p.producer_id}] = p;
  for (const AppendRecord& a : b.appends) {
    std::vector<StoredMessage>& msgs = messages_[a.stream_id];
    if (a.sizes.empty()) {
      msgs.push_back({a.start, a.start + a.data.size(), a.data, a.last_in_append});
      continue;
    }
    uint64_t pos = a.start;
    size_t at = 0;
    for (size_t i = 0; i < a.sizes.size(); ++i) {
      bool last = i + 1 == a.sizes.size();
      msgs.push_back(
          {pos, pos + a.sizes[i], a.data.substr(at, a.sizes[i]), last && a.last_in_append});
      pos += a.sizes[i];
      at += a.sizes[i];
    }
  }
  for (const auto& [id, ms] : b.touches) {
    auto it = streams_.find(id);
    if (it != streams_.end()) it->second.last_access_ms = ms;
  }
  ++applied_;
  return Status::OK();
}

Status MemoryStorage::ReadMessages(int64_t stream_id, uint64_t from, uint64_t to, size_t max_bytes,
                                   std::vector<StoredMessage>* out) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = messages_.find(stream_id);
  if (it == messages_.end()) return Status::OK();
  const std::vector<StoredMessage>& msgs = it->second;
  auto first = std::upper_bound(msgs.begin(), msgs.end(), from,
                                [](uint64_t f, const StoredMessage& m) { return f < m.end; });
  size_t bytes = 0;
  for (auto m = first; m != msgs.end() && m->start < to && bytes < max_bytes; ++m) {
    bytes += m->data.size();
    out->push_back(*m);
  }
  return Status::OK();
}

void MemoryStorage::FailApplies(Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_ = std::move(status);
}

int64_t MemoryStorage::applied() const {
  std::lock_guard<std::mutex> lock(mu_);
  return applied_;
}

StorageStats MemoryStorage::Stats() {
  StorageStats st;
  st.commits = static_cast<uint64_t>(applied());
  return st;
}

}  // namespace durablestreams

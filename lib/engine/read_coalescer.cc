// lib/engine/read_coalescer.cc: ReadCoalescer (read_coalescer.h).
#include "engine/read_coalescer.h"

namespace durablestreams::engine {

Status ReadCoalescer::Read(int64_t id, uint64_t pos, uint64_t tail, const ReadFn& read,
                           std::string* body, uint64_t* next, bool* shared) {
  Key key{id, pos, tail};
  std::shared_ptr<Entry> e;
  {
    std::unique_lock<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      e = it->second;
      cv_.wait(lock, [&] { return e->done; });
      if (e->kept) lru_.splice(lru_.begin(), lru_, e->lru);
      *shared = true;
      *body = e->body;
      *next = e->next;
      return e->status;
    }
    e = std::make_shared<Entry>();
    entries_.emplace(key, e);
  }
  *shared = false;
  std::string got;
  uint64_t got_next = pos;
  Status s = read(&got, &got_next);
  std::lock_guard<std::mutex> lock(mu_);
  e->status = s;
  e->next = got_next;
  e->body = std::move(got);
  e->done = true;
  *body = e->body;
  *next = e->next;
  if (s.ok() && e->body.size() <= budget_ / 4) {
    Keep(key, *e);
  } else {
    entries_.erase(key);  // the waiters hold it
  }
  cv_.notify_all();
  return s;
}

void ReadCoalescer::Keep(const Key& key, Entry& e) {
  lru_.push_front(key);
  e.lru = lru_.begin();
  e.kept = true;
  kept_bytes_ += e.body.size() + 64;
  while (kept_bytes_ > budget_ && !lru_.empty()) {
    auto it = entries_.find(lru_.back());
    kept_bytes_ -= it->second->body.size() + 64;
    it->second->kept = false;
    entries_.erase(it);
    lru_.pop_back();
  }
}

}  // namespace durablestreams::engine

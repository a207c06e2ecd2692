// lib/engine/read_coalescer.h
//
// ReadCoalescer: identical catch-up reads share one storage read and one
// encoded body. A read of stream `id` from position `pos` against the tail
// `tail` gives the same bytes forever (data below a tail never changes),
// so a result is keyed by (id, pos, tail): a read that finds its key in
// flight waits for that read's result instead of reading again, and one
// that finds it among the recent results (at most `budget_bytes` of
// bodies, least recently used dropped first) takes it at once. A failed
// read is given to the reads that waited for it and not kept.
//
// A wait is for a storage read already running (bounded by it), never for
// data to arrive, so the engine still never blocks a thread on a stream.
//
// Thread safety: Read() may be called from any thread.
#ifndef DURABLESTREAMS_LIB_ENGINE_READ_COALESCER_H_
#define DURABLESTREAMS_LIB_ENGINE_READ_COALESCER_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include "durablestreams/status.h"

namespace durablestreams::engine {

class ReadCoalescer {
 public:
  using ReadFn = std::function<Status(std::string* body, uint64_t* next)>;

  explicit ReadCoalescer(size_t budget_bytes) : budget_(budget_bytes) {}

  // The result of (id, pos, tail) into *body and *next: from `read`, or
  // from an identical read in flight or recent. *shared: it was not read
  // here.
  Status Read(int64_t id, uint64_t pos, uint64_t tail, const ReadFn& read, std::string* body,
              uint64_t* next, bool* shared);

 private:
  using Key = std::tuple<int64_t, uint64_t, uint64_t>;
  struct Entry {
    bool done = false;
    Status status;
    std::string body;
    uint64_t next = 0;
    std::list<Key>::iterator lru;  // when kept
    bool kept = false;
  };
  void Keep(const Key& key, Entry& e);

  const size_t budget_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<Key, std::shared_ptr<Entry>> entries_;  // guarded by mu_
  std::list<Key> lru_;                             // kept entries, most recent first; mu_
  size_t kept_bytes_ = 0;                          // guarded by mu_
};

}  // namespace durablestreams::engine

#endif  // DURABLESTREAMS_LIB_ENGINE_READ_COALESCER_H_

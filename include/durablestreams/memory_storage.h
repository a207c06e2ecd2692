// include/durablestreams/memory_storage.h
//
// MemoryStorage keeps streams in memory: a Storage for unit tests of the
// engine and of embedders' code, with no files, no threads and no waits of
// its own. Nothing survives the object; an engine reopened over the same
// object (Options::storage) finds everything it committed, as after a
// restart. The real store is the SQLite hot log (storage.h).
//
// Thread safety: every method may be called from any thread. One mutex
// guards the state; Apply() holds it only while it changes the maps, so a
// reader waits for a writer at most that long (the SQLite store's readers
// never wait: this one is for tests, not for load).
#ifndef DURABLESTREAMS_MEMORY_STORAGE_H_
#define DURABLESTREAMS_MEMORY_STORAGE_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "durablestreams/storage.h"

namespace durablestreams {

class MemoryStorage final : public Storage {
 public:
  Status Load(LoadedState* out) override;
  // All of the batch or, while FailApplies() is set, none of it.
  Status Apply(const WriteBatch& batch) override;
  Status ReadMessages(int64_t stream_id, uint64_t from, uint64_t to, size_t max_bytes,
                      std::vector<StoredMessage>* out) override;
  StorageStats Stats() override;  // commits only

  // Until called again with OK, every Apply() fails with `status` and
  // changes nothing (kNoSpace: what a full disk does).
  void FailApplies(Status status);
  // Group commits applied so far (a failed one does not count).
  int64_t applied() const;

 private:
  mutable std::mutex mu_;
  std::map<int64_t, StreamRecord> streams_;
  std::map<int64_t, std::vector<StoredMessage>> messages_;  // by stream, in order
  std::map<std::pair<int64_t, std::string>, ProducerRecord> producers_;
  std::map<std::pair<int64_t, int64_t>, FanoutLink> links_;
  Status fail_;
  int64_t applied_ = 0;
};

}  // namespace durablestreams

#endif  // DURABLESTREAMS_MEMORY_STORAGE_H_

// lib/storage/sqlite_rotation.cc: the rotation thread: seals a
// stream's oldest hot messages into segments, records them, removes the
// objects of deleted streams.
#include <algorithm>

#include "storage/crc32c.h"
#include "storage/segment_format.h"
#include "storage/sqlite_storage_impl.h"

namespace durablestreams::storage {

Status SqliteStorage::LoadHotState() {
  std::lock_guard<std::mutex> lock(tier_mu_);
  struct Query {
    const char* sql;
    int kind;
  };
  const Query queries[] = {
      {"SELECT id, path, closed FROM streams", 0},
      {"SELECT stream_id, sum(CASE WHEN sizes IS NULL THEN 1 ELSE length(sizes) / 4 END), "
       "sum(length(data)), min(end_pos - length(data)) "
       "FROM messages GROUP BY stream_id",
       1},
      {"SELECT stream_id, max(end_pos) FROM segments GROUP BY stream_id", 2},
  };
  for (const Query& qq : queries) {
    Stmt st;
    Status s = st.Prepare(db_, qq.sql);
    if (!s.ok()) return s;
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      sqlite3_stmt* q = st.get();
      int64_t id = sqlite3_column_int64(q, 0);
      if (qq.kind == 0) {
        HotState& h = hot_[id];
        h.path = reinterpret_cast<const char*>(sqlite3_column_text(q, 1));
        h.closed = sqlite3_column_int(q, 2) != 0;
        continue;
      }
      auto it = hot_.find(id);
      if (it == hot_.end()) continue;
      if (qq.kind == 1) {
        it->second.messages = static_cast<uint64_t>(sqlite3_column_int64(q, 1));
        it->second.bytes = static_cast<uint64_t>(sqlite3_column_int64(q, 2));
        it->second.cold_end = static_cast<uint64_t>(sqlite3_column_int64(q, 3));
      } else {
        // A segment may end inside a batch row (a rotation capped by
        // size): the hot part begins where the segments end.
        uint64_t end = static_cast<uint64_t>(sqlite3_column_int64(q, 1));
        if (it->second.messages == 0 || end > it->second.cold_end) it->second.cold_end = end;
      }
    }
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "load the cold tier state");
  }
  return Status::OK();
}

bool SqliteStorage::NeedsRotation(const HotState& h) const {
  return h.messages >= max_messages_ || h.bytes >= max_bytes_ || (h.closed && h.messages > 0);
}

void SqliteStorage::NoteApplied(const WriteBatch& b) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(tier_mu_);
    for (int64_t id : b.delete_streams) hot_.erase(id);
    if (!b.delete_streams.empty()) wake = cleanup_pending_ = true;
    for (const StreamRecord& r : b.upsert_streams) {
      HotState& h = hot_[r.id];
      if (h.path.empty()) {
        h.path = r.path;
        h.cold_end = r.fork_source_id ? r.fork_offset : 0;
      }
      h.closed = r.closed;
      wake = wake || NeedsRotation(h);
    }
    for (const AppendRecord& a : b.appends) {
      auto it = hot_.find(a.stream_id);
      if (it == hot_.end()) continue;
      HotState& h = it->second;
      if (h.messages == 0) h.cold_end = a.start;
      h.messages += a.message_count();
      h.bytes += a.data.size();
      wake = wake || NeedsRotation(h);
    }
  }
  if (wake) tier_cv_.notify_one();
}

void SqliteStorage::RotationLoop() {
  std::chrono::milliseconds backoff(0);
  std::unique_lock<std::mutex> lock(tier_mu_);
  while (!stopping_) {
    if (backoff.count() > 0) {
      tier_cv_.wait_for(lock, backoff, [&] { return stopping_; });
      if (stopping_) break;
    }
    bool cleanup = cleanup_pending_;
    std::vector<std::pair<int64_t, HotState>> due;
    for (const auto& [sid, state] : hot_) {
      if (NeedsRotation(state)) due.emplace_back(sid, state);
    }
    auto has_work = [&] {
      if (stopping_ || cleanup_pending_) return true;
      for (const auto& entry : hot_) {
        if (NeedsRotation(entry.second)) return true;
      }
      return false;
    };
    if (!cleanup && due.empty() && !sealed_.empty()) {
      // Sealed segments wait for a group commit to record them; when
      // appends stop, none comes, and they are recorded here.
      backoff = std::chrono::milliseconds(0);
      if (tier_cv_.wait_for(lock, kSealedWait, [&] { return has_work() || sealed_.empty(); })) {
        continue;
      }
      std::vector<SealedSegment> sealed;
      sealed.swap(sealed_);
      lock.unlock();
      Status s = RecordSealed(&sealed);
      if (!s.ok()) RequeueSealed(&sealed);
      lock.lock();
      if (!s.ok()) {
        backoff = std::chrono::milliseconds(250);
        std::fprintf(stderr, "durablestreams: recording sealed segments deferred: %s\n",
                     s.ToString().c_str());
      }
      continue;
    }
    if (!cleanup && due.empty()) {
      backoff = std::chrono::milliseconds(0);
      tier_cv_.wait(lock, has_work);
      continue;
    }
    lock.unlock();
    Status s;
    if (cleanup) {
      bool more = false;
      s = CleanUp(&more);
      lock.lock();
      if (s.ok() && !more) cleanup_pending_ = false;
      lock.unlock();
    }
    if (s.ok() && !due.empty()) s = SealBatch(due);
    lock.lock();
    if (s.ok()) {
      backoff = std::chrono::milliseconds(0);
      // Let a busy stream's next segments gather, to be put together.
      if (!due.empty()) tier_cv_.wait_for(lock, kRotationPause, [&] { return stopping_; });
    } else {
      // The store is down or refusing: appends go on into the hot log;
      // try again later, backing off to 30 s.
      backoff = std::min<std::chrono::milliseconds>(
          std::chrono::milliseconds(30000),
          backoff.count() == 0 ? std::chrono::milliseconds(250) : backoff * 2);
      std::fprintf(stderr, "durablestreams: segment rotation deferred (retry in %lld ms): %s\n",
                   static_cast<long long>(backoff.count()), s.ToString().c_str());
    }
  }
}

// Seals the oldest hot messages of each stream in `due` into segments
// (as many as are due, up to kSealBatchBytes in all), puts them in the
// store together and queues their rows for the next group commit
// (sealed_). The hot state moves past them at once, so the next segments
// can follow before these are recorded; until then their rows stay
// readable.
Status SqliteStorage::SealBatch(const std::vector<std::pair<int64_t, HotState>>& due) {
  // Segments are cut from `messages` alone: fold the log first, so that
  // all the rows counted as due are there.
  Status folded = Fold();
  if (!folded.ok()) return folded;
  std::vector<SealedSegment> segs;
  std::vector<std::string> objects;
  size_t total = 0;
  for (auto [id, h] : due) {
    while (NeedsRotation(h) && total < kSealBatchBytes) {
      std::vector<StoredMessage> msgs;
      ReadConn* conn = AcquireReader();
      size_t bytes = 0;
      Status s = ReadHot(conn, id, h.cold_end, UINT64_MAX, max_bytes_, {}, &msgs, &bytes,
                         /*stop_at_gap=*/false, max_messages_);  // ends at an append's end
      ReleaseReader(conn);
      if (!s.ok()) return s;
      if (msgs.empty() || msgs.front().start != h.cold_end) {
        // Deleted meanwhile, or our count is off: recount from the database.
        std::lock_guard<std::mutex> lock(tier_mu_);
        auto it = hot_.find(id);
        if (it != hot_.end() && it->second.cold_end == h.cold_end) {
          if (msgs.empty()) {
            it->second.messages = it->second.bytes = 0;
          } else {
            it->second.cold_end = msgs.front().start;
          }
        }
        break;
      }
      SealedSegment seg;
      seg.stream_id = id;
      seg.start = msgs.front().start;
      seg.end = msgs.back().end;
      seg.messages = msgs.size();
      objects.push_back(storage::EncodeSegment(msgs));
      seg.object_size = objects.back().size();
      seg.crc32c = Crc32c(0, objects.back().data(), objects.back().size());
      seg.key = storage::SegmentKey(h.path, id, seg.start, key_tag_);
      total += seg.object_size;
      MovePast(&h, seg);
      segs.push_back(std::move(seg));
    }
  }
  if (segs.empty()) return Status::OK();
  std::vector<SegmentObject> puts;
  for (size_t i = 0; i < segs.size(); ++i) puts.push_back({segs[i].key, objects[i]});
  Status s = store_->PutMany(puts, std::chrono::steady_clock::now() + std::chrono::seconds(60));
  if (!s.ok()) {
    cold_errors_.fetch_add(1, std::memory_order_relaxed);
    return s;
  }
  puts_ += static_cast<int>(segs.size());
  rotations_.fetch_add(1, std::memory_order_relaxed);
  segments_uploaded_.fetch_add(segs.size(), std::memory_order_relaxed);
  if (hooks_.after_segment_put) hooks_.after_segment_put(puts_);
  std::lock_guard<std::mutex> lock(tier_mu_);
  for (SealedSegment& seg : segs) {
    auto it = hot_.find(seg.stream_id);
    if (it != hot_.end() && it->second.cold_end == seg.start) MovePast(&it->second, seg);
    sealed_.push_back(std::move(seg));
  }
  return Status::OK();
}

// The hot part of *h now begins after `seg`.
void SqliteStorage::MovePast(HotState* h, const SealedSegment& seg) {
  h->cold_end = seg.end;
  h->messages -= std::min<uint64_t>(h->messages, seg.messages);
  h->bytes -= std::min<uint64_t>(h->bytes, seg.end - seg.start);
}

// Step 2 of rotation inside the open transaction: the segments' rows in,
// the rows they cover out. A stream deleted meanwhile is skipped: its
// deletion queued the prefix for clean-up, which removes the object.
Status SqliteStorage::RecordSealedInTransaction(const std::vector<SealedSegment>& sealed) {
  Status s;
  for (const SealedSegment& seg : sealed) {
    sqlite3_bind_int64(stream_path_->get(), 1, seg.stream_id);
    bool exists = sqlite3_step(stream_path_->get()) == SQLITE_ROW;
    stream_path_->Reset();
    if (!exists) continue;
    sqlite3_stmt* q = add_segment_->get();
    sqlite3_bind_int64(q, 1, seg.stream_id);
    sqlite3_bind_int64(q, 2, static_cast<int64_t>(seg.start));
    sqlite3_bind_int64(q, 3, static_cast<int64_t>(seg.end));
    sqlite3_bind_text(q, 4, seg.key.data(), static_cast<int>(seg.key.size()), SQLITE_STATIC);
    sqlite3_bind_int64(q, 5, static_cast<int64_t>(seg.object_size));
    sqlite3_bind_int64(q, 6, static_cast<int64_t>(seg.messages));
    sqlite3_bind_int64(q, 7, seg.crc32c);
    s = add_segment_->Exec("record segment");
    if (!s.ok()) return s;
    sqlite3_bind_int64(drop_rotated_->get(), 1, seg.stream_id);
    sqlite3_bind_int64(drop_rotated_->get(), 2, static_cast<int64_t>(seg.end));
    s = drop_rotated_->Exec("drop rotated rows");
    if (!s.ok()) return s;
  }
  return s;
}

// The same inside Apply()'s transaction, undone alone if it fails.
bool SqliteStorage::RecordSealedInSavepoint(const std::vector<SealedSegment>& sealed) {
  if (sqlite3_exec(db_, "SAVEPOINT seal", nullptr, nullptr, nullptr) != SQLITE_OK) return false;
  if (RecordSealedInTransaction(sealed).ok()) {
    return sqlite3_exec(db_, "RELEASE seal", nullptr, nullptr, nullptr) == SQLITE_OK;
  }
  sqlite3_exec(db_, "ROLLBACK TO seal", nullptr, nullptr, nullptr);
  sqlite3_exec(db_, "RELEASE seal", nullptr, nullptr, nullptr);
  return false;
}

// The rotation thread's own commit of *sealed, when no append brings one.
Status SqliteStorage::RecordSealed(std::vector<SealedSegment>* sealed) {
  {
    std::lock_guard<std::mutex> write_lock(write_mu_);
    Status s = begin_->Exec("begin rotation");
    if (!s.ok()) return s;
    s = RecordSealedInTransaction(*sealed);
    if (s.ok()) s = commit_->Exec("commit rotation");
    if (!s.ok()) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return s;
    }
    CheckpointIfDue();
    NoteRecorded(sealed->size());
  }
  sealed->clear();
  return Status::OK();
}

// Puts *sealed back at the head of the queue (a commit failed).
void SqliteStorage::RequeueSealed(std::vector<SealedSegment>* sealed) {
  if (sealed->empty()) return;
  std::lock_guard<std::mutex> lock(tier_mu_);
  sealed_.insert(sealed_.begin(), std::make_move_iterator(sealed->begin()),
                 std::make_move_iterator(sealed->end()));
  sealed->clear();
}

// After a commit that recorded n sealed segments (write_mu_ held).
void SqliteStorage::NoteRecorded(size_t n) {
  recorded_ += static_cast<int>(n);
  segments_sealed_.fetch_add(n, std::memory_order_relaxed);
  if (hooks_.after_rotation_commit) hooks_.after_rotation_commit(recorded_);
  tier_cv_.notify_one();
}

// Removes the objects of deleted streams. *more: rows remain.
Status SqliteStorage::CleanUp(bool* more) {
  std::vector<std::string> prefixes;
  {
    std::lock_guard<std::mutex> write_lock(write_mu_);
    int rc;
    while ((rc = sqlite3_step(list_cleanup_->get())) == SQLITE_ROW) {
      prefixes.emplace_back(
          reinterpret_cast<const char*>(sqlite3_column_text(list_cleanup_->get(), 0)));
    }
    list_cleanup_->Reset();
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "list segment cleanup");
  }
  *more = prefixes.size() == 64;
  for (const std::string& prefix : prefixes) {
    Deadline deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    std::vector<std::string> keys;
    Status s = store_->List(prefix, &keys, deadline);
    for (size_t i = 0; s.ok() && i < keys.size(); ++i) s = store_->Delete(keys[i], deadline);
    if (!s.ok()) {
      cold_errors_.fetch_add(1, std::memory_order_relaxed);
      return s;
    }
    segment_reader_->Forget(prefix);
    std::lock_guard<std::mutex> write_lock(write_mu_);
    sqlite3_bind_text(del_cleanup_->get(), 1, prefix.data(), static_cast<int>(prefix.size()),
                      SQLITE_STATIC);
    s = del_cleanup_->Exec("finish segment cleanup");
    if (!s.ok()) return s;
  }
  return Status::OK();
}

}  // namespace durablestreams::storage

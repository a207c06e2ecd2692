// lib/storage/sqlite_write.cc: Apply(), the write path: one
// transaction per group commit, the append log and its folds.
#include <string>

#include "storage/segment_format.h"
#include "storage/sqlite_storage_impl.h"

namespace durablestreams::storage {

Status SqliteStorage::Apply(const WriteBatch& b) {
  if (b.empty()) return Status::OK();
  std::lock_guard<std::mutex> write_lock(write_mu_);
  Status s = begin_->Exec("begin");
  if (!s.ok()) return s;
  LogChange log;
  s = ApplyInTransaction(b, &log);
  if (s.ok() &&
      (log_rows_ + log.added.size() >= kFoldRows || log_bytes_ + log.bytes >= kFoldBytes)) {
    s = FoldInTransaction(&log);
  }
  // Segments the rotation thread has put ride along: their rows cost this
  // commit a few pages instead of a commit (and an fsync) each. A failure
  // there leaves them for later and does not fail the batch. At most
  // kSealedPerCommit, oldest first: one rotation pass can seal a hundred,
  // and recording them all held one commit for 5 to 8 ms.
  std::vector<SealedSegment> sealed;
  if (s.ok() && store_) {
    {
      std::lock_guard<std::mutex> lock(tier_mu_);
      if (sealed_.size() <= kSealedPerCommit) {
        sealed.swap(sealed_);
      } else {
        auto end = sealed_.begin() + kSealedPerCommit;
        sealed.assign(std::make_move_iterator(sealed_.begin()), std::make_move_iterator(end));
        sealed_.erase(sealed_.begin(), end);
      }
    }
    if (!sealed.empty() && !RecordSealedInSavepoint(sealed)) RequeueSealed(&sealed);
  }
  if (s.ok()) s = BumpGen(log);
  if (s.ok()) s = commit_->Exec("commit");
  if (!s.ok()) {
    // After SQLITE_FULL and some I/O errors SQLite rolls back by itself;
    // ROLLBACK then fails harmlessly.
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    RequeueSealed(&sealed);
    return s;
  }
  commits_.fetch_add(1, std::memory_order_relaxed);
  if (sync_full_) fsyncs_.fetch_add(1, std::memory_order_relaxed);  // the WAL's
  PublishLog(log);
  CheckpointIfDue();
  if (store_) {
    NoteApplied(b);
    if (!sealed.empty()) NoteRecorded(sealed.size());
  }
  return s;
}

Status SqliteStorage::ExecSql(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    // Same classification as SqliteError, with SQLite's own message once.
    Status s = SqliteError(nullptr, rc, sql);
    return Status(s.code(), sql + ": " + msg);
  }
  return Status::OK();
}

Status SqliteStorage::ApplyInTransaction(const WriteBatch& b, LogChange* log) {
  Status s;
  std::string sizes;
  for (int64_t id : b.delete_streams) {
    // Queue the removal of its segments (and of any object a rotation
    // wrote but never recorded) before the row with its path goes.
    std::string path;
    sqlite3_bind_int64(stream_path_->get(), 1, id);
    if (sqlite3_step(stream_path_->get()) == SQLITE_ROW) {
      path = reinterpret_cast<const char*>(sqlite3_column_text(stream_path_->get(), 0));
    }
    stream_path_->Reset();
    // Its own prefix, and those of segments it was adopted with (sealed on
    // another node, docs/operations.md "Moving a stream").
    std::vector<std::string> prefixes;
    sqlite3_bind_int64(segment_dirs_->get(), 1, id);
    while (sqlite3_step(segment_dirs_->get()) == SQLITE_ROW) {
      const unsigned char* dir = sqlite3_column_text(segment_dirs_->get(), 0);
      if (dir && *dir) prefixes.emplace_back(reinterpret_cast<const char*>(dir));
    }
    segment_dirs_->Reset();
    sqlite3_bind_int64(del_segments_->get(), 1, id);
    s = del_segments_->Exec("delete segments");
    if (!s.ok()) return s;
    if (store_ || sqlite3_changes(db_) > 0) {
      prefixes.push_back(storage::SegmentKeyPrefix(path, id, key_tag_));
    }
    for (const std::string& prefix : prefixes) {
      sqlite3_bind_text(add_cleanup_->get(), 1, prefix.data(), static_cast<int>(prefix.size()),
                        SQLITE_TRANSIENT);
      s = add_cleanup_->Exec("queue segment cleanup");
      if (!s.ok()) return s;
    }
    for (Stmt* st : {del_stream_, del_messages_, del_producers_, del_links_from_, del_links_to_}) {
      sqlite3_bind_int64(st->get(), 1, id);
      s = st->Exec("delete stream");
      if (!s.ok()) return s;
    }
    if (auto it = log_index_.find(id); it != log_index_.end()) {
      for (const LogEntry& e : it->second) {
        sqlite3_bind_int64(del_log_row_->get(), 1, e.seq);
        s = del_log_row_->Exec("delete stream");
        if (!s.ok()) return s;
      }
      log->dropped.push_back(id);
    }
  }
  for (const StreamRecord& r : b.upsert_streams) {
    sqlite3_stmt* q = upsert_stream_->get();
    sqlite3_bind_int64(q, 1, r.id);
    sqlite3_bind_text(q, 2, r.path.data(), static_cast<int>(r.path.size()), SQLITE_STATIC);
    sqlite3_bind_text(q, 3, r.content_type.data(), static_cast<int>(r.content_type.size()),
                      SQLITE_STATIC);
    BindOptional(q, 4, r.ttl_seconds);
    BindOptional(q, 5, r.expires_at_ms);
    sqlite3_bind_int64(q, 6, r.created_at_ms);
    sqlite3_bind_int64(q, 7, r.last_access_ms);
    sqlite3_bind_int(q, 8, r.closed ? 1 : 0);
    sqlite3_bind_int64(q, 9, static_cast<int64_t>(r.tail));
    sqlite3_bind_text(q, 10, r.last_stream_seq.data(), static_cast<int>(r.last_stream_seq.size()),
                      SQLITE_STATIC);
    if (r.closed_by_producer) {
      sqlite3_bind_text(q, 11, r.closed_by_producer->data(),
                        static_cast<int>(r.closed_by_producer->size()), SQLITE_STATIC);
    } else {
      sqlite3_bind_null(q, 11);
    }
    sqlite3_bind_int64(q, 12, r.closed_by_epoch);
    sqlite3_bind_int64(q, 13, r.closed_by_seq);
    BindOptional(q, 14, r.fork_source_id);
    sqlite3_bind_text(q, 15, r.forked_from.data(), static_cast<int>(r.forked_from.size()),
                      SQLITE_STATIC);
    sqlite3_bind_int64(q, 16, static_cast<int64_t>(r.fork_anchor));
    sqlite3_bind_int64(q, 17, static_cast<int64_t>(r.fork_sub_offset));
    sqlite3_bind_int64(q, 18, static_cast<int64_t>(r.fork_offset));
    sqlite3_bind_int(q, 19, r.soft_deleted ? 1 : 0);
    sqlite3_bind_int(q, 20, r.public_read ? 1 : 0);
    sqlite3_bind_text(q, 21, r.reader_key.data(), static_cast<int>(r.reader_key.size()),
                      SQLITE_STATIC);
    sqlite3_bind_int(q, 22, r.estuary ? 1 : 0);
    s = upsert_stream_->Exec("upsert stream");
    if (!s.ok()) return s;
  }
  for (const FanoutLink& l : b.remove_links) {
    sqlite3_bind_int64(del_link_->get(), 1, l.source_id);
    sqlite3_bind_int64(del_link_->get(), 2, l.target_id);
    s = del_link_->Exec("remove fan-out link");
    if (!s.ok()) return s;
  }
  for (const FanoutLink& l : b.add_links) {
    sqlite3_bind_int64(add_link_->get(), 1, l.source_id);
    sqlite3_bind_int64(add_link_->get(), 2, l.target_id);
    sqlite3_bind_int64(add_link_->get(), 3, l.subscribed_at_ms);
    s = add_link_->Exec("add fan-out link");
    if (!s.ok()) return s;
  }
  for (const auto& [stream_id, producer_id] : b.delete_producers) {
    sqlite3_bind_int64(del_producer_->get(), 1, stream_id);
    sqlite3_bind_text(del_producer_->get(), 2, producer_id.data(),
                      static_cast<int>(producer_id.size()), SQLITE_STATIC);
    s = del_producer_->Exec("expire producer");
    if (!s.ok()) return s;
  }
  for (const ProducerRecord& p : b.upsert_producers) {
    sqlite3_stmt* q = upsert_producer_->get();
    sqlite3_bind_int64(q, 1, p.stream_id);
    sqlite3_bind_text(q, 2, p.producer_id.data(), static_cast<int>(p.producer_id.size()),
                      SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, p.epoch);
    sqlite3_bind_int64(q, 4, p.last_seq);
    sqlite3_bind_int64(q, 5, p.updated_at_ms);
    s = upsert_producer_->Exec("upsert producer");
    if (!s.ok()) return s;
  }
  for (const AppendRecord& a : b.appends) {
    bool direct = a.data.size() >= kDirectBytes && !HasLogRows(a.stream_id, *log);
    Stmt* insert = direct ? insert_message_ : insert_log_;
    sqlite3_stmt* q = insert->get();
    sqlite3_bind_int64(q, 1, a.stream_id);
    sqlite3_bind_int64(q, 2, static_cast<int64_t>(a.start + a.data.size()));
    sqlite3_bind_blob(q, 3, a.data.data(), static_cast<int>(a.data.size()), SQLITE_STATIC);
    sqlite3_bind_int(q, 4, a.last_in_append ? 1 : 0);
    if (!a.sizes.empty()) {
      sizes.clear();
      for (uint32_t n : a.sizes) {
        for (int k = 0; k < 4; ++k) sizes.push_back(static_cast<char>((n >> (8 * k)) & 0xff));
      }
      sqlite3_bind_blob(q, 5, sizes.data(), static_cast<int>(sizes.size()), SQLITE_STATIC);
    }
    s = insert->Exec("append");
    if (!s.ok()) return s;
    if (!direct) {
      log->added.push_back(
          {a.stream_id, {a.start + a.data.size(), sqlite3_last_insert_rowid(db_)}});
      log->bytes += a.data.size();
    }
  }
  for (const auto& [id, at] : b.touches) {
    sqlite3_bind_int64(touch_->get(), 1, id);
    sqlite3_bind_int64(touch_->get(), 2, at);
    s = touch_->Exec("touch");
    if (!s.ok()) return s;
  }
  return s;
}

// Whether stream `id` has rows in the log, counting this transaction's
// (write_mu_ held). Its rows in `messages` must all come before them.
bool SqliteStorage::HasLogRows(int64_t id, const LogChange& log) const {
  for (const auto& added : log.added) {
    if (added.first == id) return true;
  }
  auto it = log_index_.find(id);
  return it != log_index_.end() && !it->second.empty();
}

// Moves every log row into `messages` (write_mu_ held, in a transaction).
// Sorted by stream, each stream's rows land together: a few pages of
// `messages` and its index per stream, where the appends one by one
// would have cost a page each.
Status SqliteStorage::FoldInTransaction(LogChange* log) {
  Status s = fold_copy_->Exec("fold the log");
  if (s.ok()) s = fold_clear_->Exec("fold the log");
  if (s.ok()) log->folded = true;
  return s;
}

// The index in memory after `log` committed (write_mu_ held). A change
// that removed log rows also bumped log_state.gen in its transaction.
void SqliteStorage::PublishLog(const LogChange& log) {
  std::lock_guard<std::mutex> lock(log_mu_);
  if (log.folded) {
    log_index_.clear();
    log_rows_ = log_bytes_ = 0;
  } else {
    for (int64_t id : log.dropped) {
      auto it = log_index_.find(id);
      log_rows_ -= it->second.size();
      log_index_.erase(it);
    }
    for (const auto& [id, entry] : log.added) log_index_[id].push_back(entry);
    log_rows_ += log.added.size();
    log_bytes_ += log.bytes;
  }
  if (log.RemovesRows()) ++log_gen_;
}

// In a transaction that removes log rows: the generation readers check.
Status SqliteStorage::BumpGen(const LogChange& log) {
  if (!log.RemovesRows()) return Status::OK();
  sqlite3_bind_int64(set_gen_->get(), 1, log_gen_ + 1);
  return set_gen_->Exec("bump the log generation");
}

// Folds the log in a transaction of its own, if it has rows.
Status SqliteStorage::Fold() {
  std::lock_guard<std::mutex> write_lock(write_mu_);
  if (log_rows_ == 0) return Status::OK();
  LogChange log;
  Status s = begin_->Exec("begin fold");
  if (s.ok()) s = FoldInTransaction(&log);
  if (s.ok()) s = BumpGen(log);
  if (s.ok()) s = commit_->Exec("commit fold");
  if (!s.ok()) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return s;
  }
  commits_.fetch_add(1, std::memory_order_relaxed);
  if (sync_full_) fsyncs_.fetch_add(1, std::memory_order_relaxed);  // the WAL's
  PublishLog(log);
  CheckpointIfDue();
  return s;
}

}  // namespace durablestreams::storage

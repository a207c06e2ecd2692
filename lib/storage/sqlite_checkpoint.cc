// lib/storage/sqlite_checkpoint.cc: WAL checkpoints, the writer's
// RESTART and the checkpoint thread's background copy.
#include <chrono>
#include <thread>

#include "storage/sqlite_storage_impl.h"

namespace durablestreams::storage {

// After each commit of the writer connection (its thread holds
// write_mu_): notes how many frames the WAL holds; CheckpointIfDue() acts
// on it once the commit is published (a checkpoint inside the commit would
// hold back the log's index in memory, and readers wait for that).
int SqliteStorage::WalHook(void* arg, sqlite3* /*db*/, const char* /*schema*/, int frames) {
  static_cast<SqliteStorage*>(arg)->wal_frames_ = frames;
  return SQLITE_OK;
}

// After a commit and its PublishLog() (write_mu_ held). SQLite's own
// checkpoint is PASSIVE: it copies the frames no reader still needs and
// never waits, and the WAL starts over only when a checkpoint finds it
// fully copied with no reader in it. Readers that overlap commits all the
// time (rotation reads, catch-up, SSE) can keep that from ever happening:
// the WAL then grows without end (580 MB after some 20 s of JSON appends in
// one benchmark run), and every commit after the mark runs another
// checkpoint. RESTART waits (briefly: the busy timeout is lowered for it)
// for the readers of older snapshots, copies everything and lets the next
// commit write from the start of the file. If readers keep it from that (a
// new reader may take the place of one that left), what could be copied
// was, and the next attempt comes a few commits later.
//
// A RESTART holds the write lock while it copies: copying 1000 frames and
// syncing the database file took 3.5 ms at full sync and 7 ms at NORMAL,
// with every commit waiting. So at the mark the checkpoint thread first
// copies in the background (PASSIVE: no write lock), and the RESTART that
// follows, at the first commit after it, copies only what was committed
// meanwhile. Commits that outrun the copy (kCheckpointLagFrames) wait for
// it, which keeps the WAL's size bounded. A RESTART that readers kept from
// starting the WAL over had copied everything first: the next attempt
// needs no background copy.
//
// Only a running checkpoint thread is waited for. Before it starts (the
// recovery in Open()) and once it has stopped (the destructor), the
// RESTART copies everything itself.
void SqliteStorage::CheckpointIfDue() {
  if (wal_frames_ < checkpoint_at_ || hooks_.skip_checkpoints) return;
  if (!restart_retry_ && !BackgroundCopyDone()) return;
  int rc = CheckpointNow(SQLITE_CHECKPOINT_RESTART);
  checkpoint_at_ = rc == SQLITE_OK ? kCheckpointFrames : wal_frames_ + kCheckpointRetryFrames;
  restart_retry_ = rc != SQLITE_OK;
  if (rc == SQLITE_OK) wal_frames_ = 0;
}

// A checkpoint of the writer's connection in `mode` (RESTART, TRUNCATE)
// that waits at most kCheckpointWait for readers of older snapshots.
// SQLite's busy timeout sleeps 1, 2, 5, 10 ms in turn: a reader that left
// after 0.1 ms would still cost the commits behind this 1 ms, often 3.
int SqliteStorage::CheckpointNow(int mode) {
  ckpt_wait_until_ = std::chrono::steady_clock::now() + kCheckpointWait;
  sqlite3_busy_handler(db_, &SqliteStorage::CheckpointBusy, this);
  int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, mode, nullptr, nullptr);
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  if (rc == SQLITE_OK) {
    checkpoints_.fetch_add(1, std::memory_order_relaxed);
    fsyncs_.fetch_add(2, std::memory_order_relaxed);  // the WAL, then the database
  }
  return rc;
}

// Whether CheckpointIfDue()'s RESTART may go ahead: the checkpoint thread
// has copied the WAL, or is not running. Otherwise asks it for a copy, and
// waits for that only once the commits have outrun it by
// kCheckpointLagFrames.
bool SqliteStorage::BackgroundCopyDone() {
  std::unique_lock<std::mutex> lock(ckpt_mu_);
  if (!ckpt_running_) return true;
  if (ckpt_state_ == CkptState::kIdle) {
    ckpt_state_ = CkptState::kWanted;
    ckpt_cv_.notify_all();
  }
  if (ckpt_state_ != CkptState::kCopied) {
    if (wal_frames_ < checkpoint_at_ + kCheckpointLagFrames) return false;
    ckpt_cv_.wait(lock, [&] { return ckpt_state_ == CkptState::kCopied || !ckpt_running_; });
  }
  ckpt_state_ = CkptState::kIdle;
  return true;
}

// The RESTART's busy handler: looks again every kCheckpointPoll until
// ckpt_wait_until_.
int SqliteStorage::CheckpointBusy(void* arg, int /*count*/) {
  if (std::chrono::steady_clock::now() >= static_cast<SqliteStorage*>(arg)->ckpt_wait_until_) {
    return 0;
  }
  std::this_thread::sleep_for(kCheckpointPoll);
  return 1;
}

// The checkpoint thread: a PASSIVE checkpoint each time CheckpointIfDue()
// asks for one. Its result does not matter: CheckpointIfDue()'s RESTART
// copies whatever it left.
void SqliteStorage::CheckpointLoop() {
  std::unique_lock<std::mutex> lock(ckpt_mu_);
  for (;;) {
    ckpt_cv_.wait(lock, [&] { return !ckpt_running_ || ckpt_state_ == CkptState::kWanted; });
    if (!ckpt_running_) return;
    ckpt_state_ = CkptState::kCopying;
    lock.unlock();
    (void)sqlite3_wal_checkpoint_v2(ckpt_db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    lock.lock();
    ckpt_state_ = CkptState::kCopied;
    ckpt_cv_.notify_all();
  }
}

}  // namespace durablestreams::storage

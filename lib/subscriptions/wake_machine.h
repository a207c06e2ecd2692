// lib/subscriptions/wake_machine.h
//
// One subscription's delivery state (PROTOCOL.md §7) as a pure state
// machine: no I/O, no clock of its own, no threads. The service feeds it
// events (a linked stream's new tail, a webhook's answer, a callback, a
// claim, an ack, a release, the time passing) with the time they happen,
// and does what each call returns (deliver a webhook, append a wake event).
// Its fields are what the store persists, so a restart resumes it where it
// stood.
//
// A subscription is idle with no wake issued; it has pending work when a
// linked stream's tail is past its acked offset. Pending work while idle
// issues a wake: the generation goes up by one, a fresh wake id, a snapshot
// of the tails. Callbacks, acks and releases must name the current
// generation and wake id (and carry a token of that generation), else they
// are FENCED.
//
// Webhooks: the lease starts when a wake is issued and again with each 2xx
// answer and valid callback. A delivery that fails is retried, the same
// wake (so a receiver can tell a retry by its wake id), from 1 s doubling
// to 60 s with 20% jitter; the lease does not run while a retry waits, so
// retries keep their schedule. One delivery at a time: a kDeliver effect
// is not given again until OnDelivered reports on it. After a restart
// (Restore) a wake that was issued and not answered is delivered again:
// at-least-once.
//
// Thread safety: none; the service serializes the calls.
#ifndef DURABLESTREAMS_LIB_SUBSCRIPTIONS_WAKE_MACHINE_H_
#define DURABLESTREAMS_LIB_SUBSCRIPTIONS_WAKE_MACHINE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "subscriptions/subscription_config.h"

namespace durablestreams::subscriptions {

struct Link {
  bool explicit_link = false;
  bool glob = false;
  std::string acked;  // last processed offset, inclusive
  std::string tail;   // the stream's tail as last seen
  bool Pending() const { return tail > acked; }
};

// What the service does after a call.
struct Effect {
  enum class Kind { kNone, kDeliver, kWriteWakeEvent };
  Kind kind = Kind::kNone;
  std::string stream;  // kWriteWakeEvent: the stream that triggered it
};

struct Ack {
  std::string stream;
  std::string offset;
};

// The outcome of a callback, ack, release or claim: an error code of the
// spec (FENCED, INVALID_OFFSET, ALREADY_CLAIMED, NO_PENDING_WORK,
// INVALID_REQUEST) or success, with the effect to carry out.
struct Answer {
  std::string error;  // empty: success
  std::string message;
  bool next_wake = false;
  Effect effect;
};

class WakeMachine {
 public:
  WakeMachine(SubscriptionConfig config, std::function<std::string()> new_wake_id)
      : config_(std::move(config)), new_wake_id_(std::move(new_wake_id)) {}

  const SubscriptionConfig& config() const { return config_; }
  const std::map<std::string, Link>& links() const { return links_; }

  // Links `path` (explicitly or by the pattern) at `acked`, which is its
  // tail, or its start for a stream made after the subscription.
  void LinkStream(const std::string& path, bool by_glob, const std::string& acked,
                  const std::string& tail);
  // Removes the explicit link; the stream stays linked if the pattern
  // matches it. True if a link was removed altogether.
  bool UnlinkExplicit(const std::string& path);

  // A linked stream's tail moved.
  Effect OnTail(const std::string& path, const std::string& tail, int64_t now_ms);
  // The time passed: lease expiry, webhook retries.
  Effect OnTime(int64_t now_ms);
  // The earliest time OnTime has something to do, or 0.
  int64_t NextDeadline() const;

  // A webhook delivery of (generation, wake_id) ended: answered 2xx (ok)
  // and {"done":true} (done), or failed. `jitter` in [-1, 1].
  Effect OnDelivered(int64_t generation, const std::string& wake_id, bool ok, bool done,
                     int64_t now_ms, double jitter);

  // POST …/callback (webhook) or …/ack (pull-wake).
  Answer Callback(int64_t token_generation, int64_t generation, const std::string& wake_id,
                  const std::vector<Ack>& acks, bool done, int64_t now_ms);
  Answer Claim(const std::string& worker, int64_t now_ms);
  Answer Release(int64_t token_generation, int64_t generation, const std::string& wake_id,
                 int64_t now_ms);

  bool HasPending() const;
  bool Idle() const { return wake_id_.empty(); }
  int64_t generation() const { return generation_; }
  const std::string& wake_id() const { return wake_id_; }
  const std::string& holder() const { return holder_; }
  int64_t lease_expires_ms() const { return lease_expires_ms_; }
  const std::map<std::string, std::string>& snapshot() const { return snapshot_; }
  bool failed() const { return failed_; }
  int attempts() const { return attempts_; }
  int64_t next_attempt_ms() const { return next_attempt_ms_; }

  // The delay before retry `attempt` (1, 2, …): 1 s doubling to 60 s, times
  // 1 + 0.2 * jitter.
  static int64_t RetryDelayMs(int attempt, double jitter);

  // For the store: the state as it was persisted.
  void Restore(int64_t generation, std::string wake_id, std::string holder,
               int64_t lease_expires_ms, std::map<std::string, std::string> snapshot,
               bool delivered, bool failed, int attempts, int64_t next_attempt_ms);
  bool delivered() const { return delivered_; }

 private:
  Effect StartWake(int64_t now_ms);
  Effect FinishWake(int64_t now_ms, bool* next_wake);
  std::string FirstPending() const;
  Answer Fence(int64_t token_generation, int64_t generation, const std::string& wake_id) const;

  SubscriptionConfig config_;
  std::function<std::string()> new_wake_id_;
  std::map<std::string, Link> links_;
  int64_t generation_ = 0;
  std::string wake_id_;  // empty: idle
  std::string holder_;   // pull-wake: the worker holding the lease
  int64_t lease_expires_ms_ = 0;
  std::map<std::string, std::string> snapshot_;  // the tails when the wake was issued
  bool delivered_ = false;                       // webhook: the wake's POST was answered 2xx
  bool sending_ = false;                         // webhook: a kDeliver is out (not persisted)
  bool failed_ = false;                          // webhook: the last attempt failed
  int attempts_ = 0;                             // failed attempts in a row
  int64_t next_attempt_ms_ = 0;
};

}  // namespace durablestreams::subscriptions

#endif  // DURABLESTREAMS_LIB_SUBSCRIPTIONS_WAKE_MACHINE_H_

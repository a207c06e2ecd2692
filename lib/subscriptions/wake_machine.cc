// lib/subscriptions/wake_machine.cc: one subscription's delivery state
// (wake_machine.h).
#include "subscriptions/wake_machine.h"

#include <algorithm>
#include <cmath>

namespace durablestreams::subscriptions {

namespace {

Answer Refuse(const char* code, std::string message) {
  Answer a;
  a.error = code;
  a.message = std::move(message);
  return a;
}

}  // namespace

int64_t WakeMachine::RetryDelayMs(int attempt, double jitter) {
  double base = 1000.0 * std::pow(2.0, std::min(attempt, 7) - 1);
  base = std::min(base, 60000.0);
  jitter = std::clamp(jitter, -1.0, 1.0);
  return static_cast<int64_t>(base * (1.0 + 0.2 * jitter));
}

void WakeMachine::LinkStream(const std::string& path, bool by_glob, const std::string& acked,
                             const std::string& tail) {
  auto [it, fresh] = links_.try_emplace(path);
  Link& link = it->second;
  if (fresh) {
    link.acked = acked;
    link.tail = std::max(tail, acked);
  }
  (by_glob ? link.glob : link.explicit_link) = true;
}

bool WakeMachine::UnlinkExplicit(const std::string& path) {
  auto it = links_.find(path);
  if (it == links_.end()) return false;
  it->second.explicit_link = false;
  if (it->second.glob) return false;
  links_.erase(it);
  return true;
}

bool WakeMachine::HasPending() const {
  for (const auto& [path, link] : links_) {
    if (link.Pending()) return true;
  }
  return false;
}

std::string WakeMachine::FirstPending() const {
  for (const auto& [path, link] : links_) {
    if (link.Pending()) return path;
  }
  return std::string();
}

Effect WakeMachine::StartWake(int64_t now_ms) {
  ++generation_;
  wake_id_ = new_wake_id_();
  holder_.clear();
  delivered_ = false;
  snapshot_.clear();
  for (const auto& [path, link] : links_) snapshot_[path] = link.tail;
  Effect e;
  if (config_.type == DeliveryType::kPullWake) {
    lease_expires_ms_ = 0;  // runs from the claim
    e.kind = Effect::Kind::kWriteWakeEvent;
    e.stream = FirstPending();
    return e;
  }
  lease_expires_ms_ = now_ms + config_.lease_ttl_ms;
  if (!sending_ && (!failed_ || now_ms >= next_attempt_ms_)) {
    sending_ = true;
    e.kind = Effect::Kind::kDeliver;
  }
  return e;
}

Effect WakeMachine::FinishWake(int64_t now_ms, bool* next_wake) {
  wake_id_.clear();
  holder_.clear();
  snapshot_.clear();
  lease_expires_ms_ = 0;
  delivered_ = false;
  *next_wake = HasPending();
  return *next_wake ? StartWake(now_ms) : Effect{};
}

Effect WakeMachine::OnTail(const std::string& path, const std::string& tail, int64_t now_ms) {
  auto it = links_.find(path);
  if (it == links_.end()) return {};
  if (tail > it->second.tail) it->second.tail = tail;
  if (Idle() && it->second.Pending()) return StartWake(now_ms);
  return {};
}

Effect WakeMachine::OnTime(int64_t now_ms) {
  if (Idle()) return {};
  if (lease_expires_ms_ != 0 && now_ms >= lease_expires_ms_) {
    // The holder or the receiver went quiet: the wake ends unacked.
    bool next_wake = false;
    return FinishWake(now_ms, &next_wake);
  }
  if (config_.type == DeliveryType::kWebhook && !delivered_ && !sending_ &&
      (!failed_ || now_ms >= next_attempt_ms_)) {
    sending_ = true;
    Effect e;
    e.kind = Effect::Kind::kDeliver;
    return e;
  }
  return {};
}

int64_t WakeMachine::NextDeadline() const {
  if (Idle()) return 0;
  int64_t next = lease_expires_ms_;
  if (config_.type == DeliveryType::kWebhook && !sending_ && !delivered_) {
    // A retry waits for its time; a wake restored unsent is due at once.
    int64_t send = failed_ ? next_attempt_ms_ : 1;
    next = next == 0 ? send : std::min(next, send);
  }
  return next;
}

Effect WakeMachine::OnDelivered(int64_t generation, const std::string& wake_id, bool ok, bool done,
                                int64_t now_ms, double jitter) {
  if (generation != generation_ || wake_id != wake_id_) {
    sending_ = false;
    // An answer to an old wake: if the current one waits to be sent, send it.
    return OnTime(now_ms);
  }
  sending_ = false;
  if (!ok) {
    failed_ = true;
    ++attempts_;
    next_attempt_ms_ = now_ms + RetryDelayMs(attempts_, jitter);
    lease_expires_ms_ = 0;
    return {};
  }
  failed_ = false;
  attempts_ = 0;
  next_attempt_ms_ = 0;
  delivered_ = true;
  lease_expires_ms_ = now_ms + config_.lease_ttl_ms;
  if (!done) return {};
  for (const auto& [path, tail] : snapshot_) {
    auto it = links_.find(path);
    if (it != links_.end() && tail > it->second.acked) it->second.acked = tail;
  }
  bool next_wake = false;
  return FinishWake(now_ms, &next_wake);
}

Answer WakeMachine::Fence(int64_t token_generation, int64_t generation,
                          const std::string& wake_id) const {
  if (Idle() || token_generation != generation_ || generation != generation_ ||
      wake_id != wake_id_) {
    return Refuse("FENCED", "the wake is no longer current");
  }
  return {};
}

Answer WakeMachine::Callback(int64_t token_generation, int64_t generation,
                             const std::string& wake_id, const std::vector<Ack>& acks, bool done,
                             int64_t now_ms) {
  Answer fenced = Fence(token_generation, generation, wake_id);
  if (!fenced.error.empty()) return fenced;
  if (config_.type == DeliveryType::kPullWake && holder_.empty()) {
    return Refuse("FENCED", "the wake is not claimed");
  }
  // All acks are checked before any is applied.
  for (const Ack& a : acks) {
    auto it = links_.find(a.stream);
    if (it == links_.end()) {
      return Refuse("INVALID_OFFSET", "the subscription has no stream " + a.stream);
    }
    if (a.offset < it->second.acked) {
      return Refuse("INVALID_OFFSET", "the offset is behind the acked offset of " + a.stream);
    }
    if (a.offset > it->second.tail) {
      return Refuse("INVALID_OFFSET", "the offset is beyond the tail of " + a.stream);
    }
  }
  for (const Ack& a : acks) links_[a.stream].acked = a.offset;
  lease_expires_ms_ = now_ms + config_.lease_ttl_ms;
  if (config_.type == DeliveryType::kWebhook) delivered_ = true;
  Answer ok;
  if (done) ok.effect = FinishWake(now_ms, &ok.next_wake);
  return ok;
}

Answer WakeMachine::Claim(const std::string& worker, int64_t now_ms) {
  if (config_.type != DeliveryType::kPullWake) {
    return Refuse("INVALID_REQUEST", "the subscription is not pull-wake");
  }
  if (!holder_.empty()) return Refuse("ALREADY_CLAIMED", holder_);
  if (!HasPending()) return Refuse("NO_PENDING_WORK", "the subscription has no pending work");
  Answer ok;
  if (Idle()) ok.effect = StartWake(now_ms);
  holder_ = worker;
  lease_expires_ms_ = now_ms + config_.lease_ttl_ms;
  return ok;
}

Answer WakeMachine::Release(int64_t token_generation, int64_t generation,
                            const std::string& wake_id, int64_t now_ms) {
  if (config_.type != DeliveryType::kPullWake) {
    return Refuse("INVALID_REQUEST", "the subscription is not pull-wake");
  }
  Answer fenced = Fence(token_generation, generation, wake_id);
  if (!fenced.error.empty()) return fenced;
  if (holder_.empty()) return Refuse("FENCED", "the wake is not claimed");
  Answer ok;
  ok.effect = FinishWake(now_ms, &ok.next_wake);
  return ok;
}

void WakeMachine::Restore(int64_t generation, std::string wake_id, std::string holder,
                          int64_t lease_expires_ms, std::map<std::string, std::string> snapshot,
                          bool delivered, bool failed, int attempts, int64_t next_attempt_ms) {
  generation_ = generation;
  wake_id_ = std::move(wake_id);
  holder_ = std::move(holder);
  lease_expires_ms_ = lease_expires_ms;
  snapshot_ = std::move(snapshot);
  delivered_ = delivered;
  failed_ = failed;
  attempts_ = attempts;
  next_attempt_ms_ = next_attempt_ms;
  sending_ = false;
}

}  // namespace durablestreams::subscriptions

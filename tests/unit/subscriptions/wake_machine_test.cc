// Unit tests of one subscription's delivery state
// (lib/subscriptions/wake_machine.h), driven with explicit times.
#include "subscriptions/wake_machine.h"

#include <catch2/catch.hpp>

using namespace durablestreams::subscriptions;

namespace {

std::string Off(int n) {
  std::string digits = std::to_string(n);
  return "0000000000000000_" + std::string(16 - digits.size(), '0') + digits;
}

SubscriptionConfig Config(DeliveryType type) {
  SubscriptionConfig c;
  c.type = type;
  c.pattern = "events/*";
  c.webhook_url = "http://localhost/h";
  c.wake_stream = "wake";
  c.lease_ttl_ms = 1000;
  return c;
}

WakeMachine Machine(DeliveryType type) {
  auto n = std::make_shared<int>(0);
  return WakeMachine(Config(type), [n] { return "w_" + std::to_string(++*n); });
}

}  // namespace

TEST_CASE("wake machine: an append wakes an idle webhook subscription, done acks the snapshot") {
  WakeMachine m = Machine(DeliveryType::kWebhook);
  m.LinkStream("events/a", true, Off(0), Off(0));
  CHECK(m.OnTail("events/a", Off(0), 0).kind == Effect::Kind::kNone);
  Effect e = m.OnTail("events/a", Off(10), 5);
  REQUIRE(e.kind == Effect::Kind::kDeliver);
  CHECK(m.generation() == 1);
  CHECK(m.wake_id() == "w_1");
  // Busy: a second append does not wake again, and nothing is sent twice.
  CHECK(m.OnTail("events/a", Off(20), 6).kind == Effect::Kind::kNone);
  CHECK(m.OnTime(7).kind == Effect::Kind::kNone);
  // done acks the snapshot (10), not the newer tail (20): woken again at once.
  Effect again = m.OnDelivered(1, "w_1", true, true, 8, 0);
  CHECK(m.links().at("events/a").acked == Off(10));
  REQUIRE(again.kind == Effect::Kind::kDeliver);
  CHECK(m.generation() == 2);
  m.OnDelivered(2, "w_2", true, true, 9, 0);
  CHECK(m.Idle());
  CHECK_FALSE(m.HasPending());
}

TEST_CASE("wake machine: callbacks are fenced by generation and wake id, acks are checked") {
  WakeMachine m = Machine(DeliveryType::kWebhook);
  m.LinkStream("events/a", true, Off(0), Off(0));
  m.OnTail("events/a", Off(10), 0);
  m.OnDelivered(1, "w_1", true, false, 1, 0);
  CHECK(m.Callback(0, 1, "w_1", {}, false, 2).error == "FENCED");      // token of another gen
  CHECK(m.Callback(1, 1, "w_other", {}, false, 2).error == "FENCED");  // another wake
  CHECK(m.Callback(1, 1, "w_1", {{"events/zz", Off(1)}}, false, 2).error == "INVALID_OFFSET");
  CHECK(m.Callback(1, 1, "w_1", {{"events/a", Off(11)}}, false, 2).error == "INVALID_OFFSET");
  // A refused callback changes nothing; a good one acks and extends the lease.
  CHECK(m.links().at("events/a").acked == Off(0));
  Answer part = m.Callback(1, 1, "w_1", {{"events/a", Off(4)}}, false, 900);
  CHECK(part.error.empty());
  CHECK(m.lease_expires_ms() == 1900);
  CHECK(m.Callback(1, 1, "w_1", {{"events/a", Off(3)}}, false, 901).error == "INVALID_OFFSET");
  Answer done = m.Callback(1, 1, "w_1", {{"events/a", Off(10)}}, true, 950);
  CHECK(done.error.empty());
  CHECK_FALSE(done.next_wake);
  CHECK(m.Callback(1, 1, "w_1", {{"events/a", Off(10)}}, true, 951).error == "FENCED");
}

TEST_CASE("wake machine: failed deliveries retry the same wake on a capped backoff") {
  WakeMachine m = Machine(DeliveryType::kWebhook);
  m.LinkStream("events/a", true, Off(0), Off(0));
  REQUIRE(m.OnTail("events/a", Off(1), 0).kind == Effect::Kind::kDeliver);
  CHECK(m.OnDelivered(1, "w_1", false, false, 100, 0).kind == Effect::Kind::kNone);
  CHECK(m.failed());
  CHECK(m.NextDeadline() == 1100);
  CHECK(m.OnTime(1099).kind == Effect::Kind::kNone);
  // The lease does not run out while the retry waits: still wake 1.
  REQUIRE(m.OnTime(5000).kind == Effect::Kind::kDeliver);
  CHECK(m.generation() == 1);
  m.OnDelivered(1, "w_1", false, false, 5000, 0);
  CHECK(m.NextDeadline() == 7000);
  CHECK(WakeMachine::RetryDelayMs(1, 0) == 1000);
  CHECK(WakeMachine::RetryDelayMs(3, 0) == 4000);
  CHECK(WakeMachine::RetryDelayMs(30, 0) == 60000);
  CHECK(WakeMachine::RetryDelayMs(30, 1) == 72000);
  CHECK(WakeMachine::RetryDelayMs(1, -1) == 800);
  // Answered at last: active again, the lease runs, its expiry re-wakes.
  m.OnTime(7000);
  m.OnDelivered(1, "w_1", true, false, 7000, 0);
  CHECK_FALSE(m.failed());
  REQUIRE(m.OnTime(8000).kind == Effect::Kind::kDeliver);
  CHECK(m.generation() == 2);
}

TEST_CASE("wake machine: a restored wake that was not answered is delivered again") {
  WakeMachine m = Machine(DeliveryType::kWebhook);
  m.LinkStream("events/a", true, Off(0), Off(5));
  m.Restore(7, "w_x", "", 10'000, {{"events/a", Off(5)}}, false, false, 0, 0);
  CHECK(m.NextDeadline() == 1);  // due at once, not at the lease's end
  REQUIRE(m.OnTime(1).kind == Effect::Kind::kDeliver);
  CHECK(m.NextDeadline() == 10'000);
  CHECK(m.generation() == 7);
  CHECK(m.Callback(6, 7, "w_x", {}, false, 2).error == "FENCED");
}

TEST_CASE("wake machine: pull-wake claims, heartbeats, releases and lease expiry") {
  WakeMachine m = Machine(DeliveryType::kPullWake);
  m.LinkStream("events/a", true, Off(0), Off(0));
  CHECK(m.Claim("w1", 0).error == "NO_PENDING_WORK");
  Effect e = m.OnTail("events/a", Off(3), 10);
  REQUIRE(e.kind == Effect::Kind::kWriteWakeEvent);
  CHECK(e.stream == "events/a");
  CHECK(m.NextDeadline() == 0);  // no lease before a claim
  CHECK(m.Claim("w1", 20).error.empty());
  Answer busy = m.Claim("w2", 21);
  CHECK(busy.error == "ALREADY_CLAIMED");
  CHECK(busy.message == "w1");
  CHECK(m.Callback(1, 1, "w_1", {}, false, 900).error.empty());  // heartbeat
  CHECK(m.OnTime(1500).kind == Effect::Kind::kNone);
  // Released with work left: a new wake event for a later claim.
  Answer rel = m.Release(1, 1, "w_1", 1600);
  CHECK(rel.next_wake);
  CHECK(rel.effect.kind == Effect::Kind::kWriteWakeEvent);
  CHECK(m.generation() == 2);
  CHECK(m.Release(1, 1, "w_1", 1601).error == "FENCED");
  // Claimed and let go quiet: the lease runs out, the holder is cleared.
  CHECK(m.Claim("w2", 1700).error.empty());
  Effect expired = m.OnTime(2700);
  CHECK(expired.kind == Effect::Kind::kWriteWakeEvent);
  CHECK(m.holder().empty());
  CHECK(m.generation() == 3);
  CHECK(m.Claim("w3", 2800).error.empty());
  Answer done = m.Callback(3, 3, "w_3", {{"events/a", Off(3)}}, true, 2900);
  CHECK(done.error.empty());
  CHECK_FALSE(done.next_wake);
  CHECK(m.Idle());
}

TEST_CASE("wake machine: explicit and glob links") {
  WakeMachine m = Machine(DeliveryType::kWebhook);
  m.LinkStream("events/a", true, Off(0), Off(0));
  m.LinkStream("events/a", false, Off(9), Off(9));  // already linked: keeps its cursor
  CHECK(m.links().at("events/a").acked == Off(0));
  CHECK_FALSE(m.UnlinkExplicit("events/a"));  // the pattern still links it
  CHECK(m.links().count("events/a") == 1);
  m.LinkStream("manual/b", false, Off(0), Off(0));
  CHECK(m.UnlinkExplicit("manual/b"));
  CHECK(m.links().count("manual/b") == 0);
  CHECK_FALSE(m.UnlinkExplicit("manual/none"));
}

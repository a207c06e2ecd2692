// lib/subscriptions/subscription_store.h
//
// Where subscriptions survive restarts: DATA_DIR/subscriptions.db, a side
// database beside the hot log (storage/sqlite_side_db.h; its schema is in
// docs/format.md). A subscription is saved with its row and its links (all,
// or those changed) in one transaction, each time its state changes (a wake
// issued, an ack, a lease taken or ended, a delivery failed): what a
// restart loads is one state the subscription was in. Tails are not stored; they are read
// from the streams at start.
//
// Deleting a subscription leaves a tombstone of its generation, so one
// made again under the same id goes on counting and no token or wake id
// of the old one can match it.
//
// Thread safety: every method may be called from any thread (one mutex).
#ifndef DURABLESTREAMS_LIB_SUBSCRIPTIONS_SUBSCRIPTION_STORE_H_
#define DURABLESTREAMS_LIB_SUBSCRIPTIONS_SUBSCRIPTION_STORE_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "durablestreams/status.h"
#include "storage/sqlite_side_db.h"
#include "subscriptions/subscription_config.h"
#include "subscriptions/wake_machine.h"

namespace durablestreams::subscriptions {

struct StoredLink {
  bool explicit_link = false;
  bool glob = false;
  std::string acked;
};

struct StoredSubscription {
  std::string project;
  std::string id;
  bool deleted = false;
  std::string config;  // Canonical(config)
  std::string config_hash;
  int64_t created_ms = 0;
  int64_t generation = 0;
  std::string wake_id;
  std::string holder;
  int64_t lease_expires_ms = 0;
  std::map<std::string, std::string> snapshot;
  bool delivered = false;
  bool failed = false;
  int attempts = 0;
  int64_t next_attempt_ms = 0;
  std::map<std::string, StoredLink> links;
  // Saving: true, `links` are all of them (others are removed); false,
  // `links` are the ones changed since the last save and `removed_links`
  // the ones gone.
  bool all_links = true;
  std::vector<std::string> removed_links;
};

// The stored form of a machine's state (config and links included).
StoredSubscription ToStored(const std::string& project, const std::string& id, int64_t created_ms,
                            const WakeMachine& machine);
// The same with the config's Canonical form and ConfigHash already known.
StoredSubscription ToStored(const std::string& project, const std::string& id, int64_t created_ms,
                            const WakeMachine& machine, const std::string& config,
                            const std::string& config_hash);

class SubscriptionStore {
 public:
  static Result<std::unique_ptr<SubscriptionStore>> Open(const std::string& data_dir);

  // Every subscription, tombstones included.
  Result<std::vector<StoredSubscription>> LoadAll();
  Status Save(const StoredSubscription& s);
  // Saves each of `subs` in one transaction (one fsync).
  Status SaveAll(const std::vector<StoredSubscription>& subs);
  // Removes the subscription's links and state, keeping its generation.
  Status Delete(const std::string& project, const std::string& id);

  // 32 random bytes made with the file: the key of callback and claim
  // tokens, so they stay valid across a restart.
  const std::string& token_key() const { return token_key_; }

 private:
  SubscriptionStore() = default;
  Status Init(const std::string& data_dir);

  std::mutex mu_;
  storage::SideDb file_;  // GUARDED_BY(mu_)
  std::string token_key_;
};

}  // namespace durablestreams::subscriptions

#endif  // DURABLESTREAMS_LIB_SUBSCRIPTIONS_SUBSCRIPTION_STORE_H_

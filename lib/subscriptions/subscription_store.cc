// lib/subscriptions/subscription_store.cc: subscriptions.db
// (subscription_store.h). Its schema (docs/format.md: keep the two in step):
//
//   PRAGMA user_version = 1
//   subscriptions (project, id, deleted, config, config_hash, created_ms,
//                  generation, wake_id, holder, lease_expires_ms, snapshot,
//                  delivered, failed, attempts, next_attempt_ms;
//                  PRIMARY KEY (project, id))
//     snapshot: one "path\ttail\n" line per stream (paths hold no control
//     characters)
//   links (project, sub, path, explicit, glob, acked;
//          PRIMARY KEY (project, sub, path))
//   meta  (key PRIMARY KEY, value): 'token_key' -> 32 random bytes
#include "subscriptions/subscription_store.h"

#include <openssl/rand.h>

#include "storage/sqlite_stmt.h"

namespace durablestreams::subscriptions {

namespace {

using storage::BindText;
using storage::ColumnText;
using storage::SqliteError;
using storage::Stmt;

constexpr int kSchemaVersion = 1;

const char* const kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS subscriptions (
  project          TEXT    NOT NULL,
  id               TEXT    NOT NULL,
  deleted          INTEGER NOT NULL DEFAULT 0,
  config           TEXT    NOT NULL,
  config_hash      TEXT    NOT NULL,
  created_ms       INTEGER NOT NULL,
  generation       INTEGER NOT NULL DEFAULT 0,
  wake_id          TEXT    NOT NULL DEFAULT '',
  holder           TEXT    NOT NULL DEFAULT '',
  lease_expires_ms INTEGER NOT NULL DEFAULT 0,
  snapshot         TEXT    NOT NULL DEFAULT '',
  delivered        INTEGER NOT NULL DEFAULT 0,
  failed           INTEGER NOT NULL DEFAULT 0,
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms  INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (project, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS links (
  project  TEXT    NOT NULL,
  sub      TEXT    NOT NULL,
  path     TEXT    NOT NULL,
  explicit INTEGER NOT NULL,
  glob     INTEGER NOT NULL,
  acked    TEXT    NOT NULL,
  PRIMARY KEY (project, sub, path)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value BLOB NOT NULL
) WITHOUT ROWID;
)sql";

std::string EncodeSnapshot(const std::map<std::string, std::string>& snapshot) {
  std::string out;
  for (const auto& [path, tail] : snapshot) out += path + '\t' + tail + '\n';
  return out;
}

std::map<std::string, std::string> DecodeSnapshot(const std::string& text) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    size_t tab = text.find('\t', start);
    if (tab != std::string::npos && tab < nl) {
      out[text.substr(start, tab - start)] = text.substr(tab + 1, nl - tab - 1);
    }
    start = nl + 1;
  }
  return out;
}

}  // namespace

StoredSubscription ToStored(const std::string& project, const std::string& id, int64_t created_ms,
                            const WakeMachine& m) {
  return ToStored(project, id, created_ms, m, Canonical(m.config()), ConfigHash(m.config()));
}

StoredSubscription ToStored(const std::string& project, const std::string& id, int64_t created_ms,
                            const WakeMachine& m, const std::string& config,
                            const std::string& config_hash) {
  StoredSubscription s;
  s.project = project;
  s.id = id;
  s.config = config;
  s.config_hash = config_hash;
  s.created_ms = created_ms;
  s.generation = m.generation();
  s.wake_id = m.wake_id();
  s.holder = m.holder();
  s.lease_expires_ms = m.lease_expires_ms();
  s.snapshot = m.snapshot();
  s.delivered = m.delivered();
  s.failed = m.failed();
  s.attempts = m.attempts();
  s.next_attempt_ms = m.next_attempt_ms();
  for (const auto& [path, link] : m.links()) {
    s.links[path] = StoredLink{link.explicit_link, link.glob, link.acked};
  }
  return s;
}

Result<std::unique_ptr<SubscriptionStore>> SubscriptionStore::Open(const std::string& data_dir) {
  std::unique_ptr<SubscriptionStore> store(new SubscriptionStore());
  Status s = store->Init(data_dir);
  if (!s.ok()) return s;
  return store;
}

Status SubscriptionStore::Init(const std::string& data_dir) {
  std::lock_guard<std::mutex> lock(mu_);
  Status s = file_.Open(data_dir, "subscriptions.db", kSchemaVersion, kSchemaV1);
  if (!s.ok()) return s;
  return file_.Transaction([&]() -> Status {
    unsigned char fresh[32];
    if (RAND_bytes(fresh, sizeof fresh) != 1) return Status::IOError("no random bytes");
    Stmt ins;
    Status st = ins.Prepare(file_.db(), "INSERT OR IGNORE INTO meta VALUES ('token_key', ?1)");
    if (!st.ok()) return st;
    sqlite3_bind_blob(ins.get(), 1, fresh, sizeof fresh, SQLITE_TRANSIENT);
    st = ins.Exec("make the token key");
    if (!st.ok()) return st;
    Stmt q;
    st = q.Prepare(file_.db(), "SELECT value FROM meta WHERE key = 'token_key'");
    if (!st.ok()) return st;
    if (sqlite3_step(q.get()) != SQLITE_ROW || sqlite3_column_bytes(q.get(), 0) != 32) {
      return Status::Corruption("subscriptions.db: the token key is missing or malformed");
    }
    token_key_.assign(static_cast<const char*>(sqlite3_column_blob(q.get(), 0)), 32);
    q.Reset();
    return Status::OK();
  });
}

Result<std::vector<StoredSubscription>> SubscriptionStore::LoadAll() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<StoredSubscription> out;
  Status s = file_.Transaction([&]() -> Status {
    Stmt q;
    Status st = q.Prepare(file_.db(),
                          "SELECT project, id, deleted, config, config_hash, created_ms, "
                          "generation, wake_id, holder, lease_expires_ms, snapshot, delivered, "
                          "failed, attempts, next_attempt_ms FROM subscriptions");
    if (!st.ok()) return st;
    std::map<std::pair<std::string, std::string>, size_t> at;
    int rc;
    while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
      sqlite3_stmt* r = q.get();
      StoredSubscription sub;
      sub.project = ColumnText(r, 0);
      sub.id = ColumnText(r, 1);
      sub.deleted = sqlite3_column_int(r, 2) != 0;
      sub.config = ColumnText(r, 3);
      sub.config_hash = ColumnText(r, 4);
      sub.created_ms = sqlite3_column_int64(r, 5);
      sub.generation = sqlite3_column_int64(r, 6);
      sub.wake_id = ColumnText(r, 7);
      sub.holder = ColumnText(r, 8);
      sub.lease_expires_ms = sqlite3_column_int64(r, 9);
      sub.snapshot = DecodeSnapshot(ColumnText(r, 10));
      sub.delivered = sqlite3_column_int(r, 11) != 0;
      sub.failed = sqlite3_column_int(r, 12) != 0;
      sub.attempts = sqlite3_column_int(r, 13);
      sub.next_attempt_ms = sqlite3_column_int64(r, 14);
      at[{sub.project, sub.id}] = out.size();
      out.push_back(std::move(sub));
    }
    q.Reset();
    if (rc != SQLITE_DONE) return SqliteError(file_.db(), rc, "read subscriptions");
    Stmt l;
    st = l.Prepare(file_.db(), "SELECT project, sub, path, explicit, glob, acked FROM links");
    if (!st.ok()) return st;
    while ((rc = sqlite3_step(l.get())) == SQLITE_ROW) {
      sqlite3_stmt* r = l.get();
      auto it = at.find({ColumnText(r, 0), ColumnText(r, 1)});
      if (it == at.end()) continue;
      out[it->second].links[ColumnText(r, 2)] = StoredLink{
          sqlite3_column_int(r, 3) != 0, sqlite3_column_int(r, 4) != 0, ColumnText(r, 5)};
    }
    l.Reset();
    if (rc != SQLITE_DONE) return SqliteError(file_.db(), rc, "read links");
    return Status::OK();
  });
  if (!s.ok()) return s;
  return out;
}

Status SubscriptionStore::Save(const StoredSubscription& sub) {
  return SaveAll({sub});
}

Status SubscriptionStore::SaveAll(const std::vector<StoredSubscription>& subs) {
  std::lock_guard<std::mutex> lock(mu_);
  return file_.Transaction([&]() -> Status {
    Stmt up, clear, drop, ins;
    Status st = up.Prepare(
        file_.db(),
        "INSERT OR REPLACE INTO subscriptions (project, id, deleted, config, config_hash, "
        "created_ms, generation, wake_id, holder, lease_expires_ms, snapshot, delivered, failed, "
        "attempts, next_attempt_ms) VALUES (?1, ?2, 0, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
        "?12, ?13, ?14)");
    if (st.ok()) {
      st = clear.Prepare(file_.db(), "DELETE FROM links WHERE project = ?1 AND sub = ?2");
    }
    if (st.ok()) {
      st = drop.Prepare(file_.db(),
                        "DELETE FROM links WHERE project = ?1 AND sub = ?2 AND path = ?3");
    }
    if (st.ok())
      st = ins.Prepare(file_.db(), "INSERT OR REPLACE INTO links VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    if (!st.ok()) return st;
    for (const StoredSubscription& sub : subs) {
      sqlite3_stmt* u = up.get();
      BindText(u, 1, sub.project);
      BindText(u, 2, sub.id);
      BindText(u, 3, sub.config);
      BindText(u, 4, sub.config_hash);
      sqlite3_bind_int64(u, 5, sub.created_ms);
      sqlite3_bind_int64(u, 6, sub.generation);
      BindText(u, 7, sub.wake_id);
      BindText(u, 8, sub.holder);
      sqlite3_bind_int64(u, 9, sub.lease_expires_ms);
      BindText(u, 10, EncodeSnapshot(sub.snapshot));
      sqlite3_bind_int(u, 11, sub.delivered);
      sqlite3_bind_int(u, 12, sub.failed);
      sqlite3_bind_int(u, 13, sub.attempts);
      sqlite3_bind_int64(u, 14, sub.next_attempt_ms);
      st = up.Exec("save subscription");
      if (!st.ok()) return st;
      if (sub.all_links) {
        BindText(clear.get(), 1, sub.project);
        BindText(clear.get(), 2, sub.id);
        st = clear.Exec("clear links");
        if (!st.ok()) return st;
      }
      for (const std::string& path : sub.removed_links) {
        BindText(drop.get(), 1, sub.project);
        BindText(drop.get(), 2, sub.id);
        BindText(drop.get(), 3, path);
        st = drop.Exec("remove link");
        if (!st.ok()) return st;
      }
      for (const auto& [path, link] : sub.links) {
        BindText(ins.get(), 1, sub.project);
        BindText(ins.get(), 2, sub.id);
        BindText(ins.get(), 3, path);
        sqlite3_bind_int(ins.get(), 4, link.explicit_link);
        sqlite3_bind_int(ins.get(), 5, link.glob);
        BindText(ins.get(), 6, link.acked);
        st = ins.Exec("save link");
        if (!st.ok()) return st;
      }
    }
    return Status::OK();
  });
}

Status SubscriptionStore::Delete(const std::string& project, const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  return file_.Transaction([&]() -> Status {
    for (const char* sql :
         {"DELETE FROM links WHERE project = ?1 AND sub = ?2",
          "UPDATE subscriptions SET deleted = 1, wake_id = '', holder = '', lease_expires_ms = 0, "
          "snapshot = '', delivered = 0, failed = 0, attempts = 0, next_attempt_ms = 0 "
          "WHERE project = ?1 AND id = ?2"}) {
      Stmt s;
      Status st = s.Prepare(file_.db(), sql);
      if (!st.ok()) return st;
      BindText(s.get(), 1, project);
      BindText(s.get(), 2, id);
      st = s.Exec("delete subscription");
      if (!st.ok()) return st;
    }
    return Status::OK();
  });
}

}  // namespace durablestreams::subscriptions

// lib/storage/sqlite_schema.cc: the schema of streams.db and its
// migrations (docs/format.md: keep the two in step).
#include <string>

#include "storage/sqlite_storage_impl.h"

namespace durablestreams::storage {

namespace {

const char* const kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS streams (
  id                 INTEGER PRIMARY KEY,
  path               TEXT    NOT NULL UNIQUE,
  content_type       TEXT    NOT NULL,
  ttl_seconds        INTEGER,
  expires_at_ms      INTEGER,
  created_at_ms      INTEGER NOT NULL,
  last_access_ms     INTEGER NOT NULL,
  closed             INTEGER NOT NULL DEFAULT 0,
  tail               INTEGER NOT NULL DEFAULT 0,
  last_stream_seq    TEXT    NOT NULL DEFAULT '',
  closed_by_producer TEXT,
  closed_by_epoch    INTEGER NOT NULL DEFAULT 0,
  closed_by_seq      INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS messages (
  stream_id INTEGER NOT NULL,
  end_pos   INTEGER NOT NULL,
  data      BLOB    NOT NULL,
  PRIMARY KEY (stream_id, end_pos)
);
CREATE TABLE IF NOT EXISTS producers (
  stream_id     INTEGER NOT NULL,
  producer_id   TEXT    NOT NULL,
  epoch         INTEGER NOT NULL,
  last_seq      INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY (stream_id, producer_id)
) WITHOUT ROWID;
)sql";

// Version 2: forks and append boundaries.
const char* const kMigrateV2 = R"sql(
ALTER TABLE streams ADD COLUMN fork_source_id INTEGER;
ALTER TABLE streams ADD COLUMN forked_from TEXT NOT NULL DEFAULT '';
ALTER TABLE streams ADD COLUMN fork_anchor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE streams ADD COLUMN fork_sub_offset INTEGER NOT NULL DEFAULT 0;
ALTER TABLE streams ADD COLUMN fork_offset INTEGER NOT NULL DEFAULT 0;
ALTER TABLE streams ADD COLUMN soft_deleted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN last_in_append INTEGER NOT NULL DEFAULT 1;
)sql";

// Version 3: the cold tier.
const char* const kMigrateV3 = R"sql(
CREATE TABLE IF NOT EXISTS segments (
  stream_id   INTEGER NOT NULL,
  start_pos   INTEGER NOT NULL,
  end_pos     INTEGER NOT NULL,
  object_key  TEXT    NOT NULL,
  object_size INTEGER NOT NULL,
  messages    INTEGER NOT NULL,
  PRIMARY KEY (stream_id, end_pos)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS segment_cleanup (
  prefix TEXT PRIMARY KEY
) WITHOUT ROWID;
)sql";

// Version 4: one row per append. A row with `sizes` holds several messages
// (a JSON batch) back to back in `data`; `sizes` is their lengths, 4 bytes
// each, little-endian. NULL: the row is one message.
const char* const kMigrateV4 = R"sql(
ALTER TABLE messages ADD COLUMN sizes BLOB;
)sql";

// Version 5: the append log. Small appends land in `log`, in commit order
// and with no index but its rowid, so a commit writes one or two pages of it
// however many streams it touches; `messages` has one index leaf per stream.
// A fold moves every log row into `messages` in one transaction, sorted by
// stream, and bumps `log_state.gen` (as does any other deletion of log rows).
// Readers find a stream's log rows through an index in memory, checked
// against `gen` in their snapshot (SqliteStorage::BeginRead).
const char* const kMigrateV5 = R"sql(
CREATE TABLE IF NOT EXISTS log (
  seq            INTEGER PRIMARY KEY,
  stream_id      INTEGER NOT NULL,
  end_pos        INTEGER NOT NULL,
  data           BLOB    NOT NULL,
  last_in_append INTEGER NOT NULL,
  sizes          BLOB
);
CREATE TABLE IF NOT EXISTS log_state (
  id  INTEGER PRIMARY KEY CHECK (id = 0),
  gen INTEGER NOT NULL
);
INSERT OR IGNORE INTO log_state (id, gen) VALUES (0, 0);
)sql";

// Version 6: public streams and reader keys (project auth).
const char* const kMigrateV6 = R"sql(
ALTER TABLE streams ADD COLUMN public_read INTEGER NOT NULL DEFAULT 0;
ALTER TABLE streams ADD COLUMN reader_key TEXT NOT NULL DEFAULT '';
)sql";

// Version 7: session streams and their fan-out links (estuary.h). A link
// goes with either of its streams (deleted in the same transaction).
const char* const kMigrateV7 = R"sql(
ALTER TABLE streams ADD COLUMN estuary INTEGER NOT NULL DEFAULT 0;
CREATE TABLE IF NOT EXISTS fanout (
  source_id        INTEGER NOT NULL,
  target_id        INTEGER NOT NULL,
  subscribed_at_ms INTEGER NOT NULL,
  PRIMARY KEY (source_id, target_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS fanout_by_target ON fanout (target_id);
)sql";

// Version 8: each segment's CRC32C of its whole object (inspection).
// NULL for segments sealed before it.
const char* const kMigrateV8 = R"sql(
ALTER TABLE segments ADD COLUMN crc32c INTEGER;
)sql";

}  // namespace

Result<int> SqliteStorage::UserVersion() {
  Stmt s;
  Status st = s.Prepare(db_, "PRAGMA user_version");
  if (!st.ok()) return st;
  int rc = sqlite3_step(s.get());
  if (rc != SQLITE_ROW) return SqliteError(db_, rc, "read schema version");
  return sqlite3_column_int(s.get(), 0);
}

// Brings the schema to kSchemaVersion, one step per version, each in its
// own transaction. Version 0 is an empty file.
Status SqliteStorage::Migrate() {
  Result<int> v = UserVersion();
  if (!v.ok()) return v.status();
  // (v is updated as each step completes.)
  if (*v > kSchemaVersion) {
    return Status::Corruption("database schema version " + std::to_string(*v) +
                              " is newer than this library understands (" +
                              std::to_string(kSchemaVersion) + ")");
  }
  if (*v == 0) {
    // An empty file, or somebody else's database: refuse the latter.
    Stmt s;
    Status st = s.Prepare(db_,
                          "SELECT count(*) FROM sqlite_master WHERE name NOT IN "
                          "('streams','messages','producers')");
    if (!st.ok()) return st;
    if (sqlite3_step(s.get()) == SQLITE_ROW && sqlite3_column_int(s.get(), 0) > 0) {
      return Status::Corruption("the database holds tables that are not ours");
    }
    st = MigrationStep(kSchemaV1, 1);
    if (!st.ok()) return st;
    *v = 1;
  }
  // To versions 2, 3, ...
  const char* const steps[] = {kMigrateV2, kMigrateV3, kMigrateV4, kMigrateV5, kMigrateV6,
                               kMigrateV7, kMigrateV8};
  for (int to = *v + 1; to <= kSchemaVersion; ++to) {
    Status st = MigrationStep(steps[to - 2], to);
    if (!st.ok()) return st;
  }
  return Status::OK();
}

// Runs `sql` and sets user_version to `version` in one transaction.
Status SqliteStorage::MigrationStep(const char* sql, int version) {
  Status st = ExecSql(std::string("BEGIN IMMEDIATE;") + sql +
                      "PRAGMA user_version=" + std::to_string(version) + "; COMMIT;");
  if (!st.ok()) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  return st;
}

}  // namespace durablestreams::storage

// lib/auth/project_store.cc: ProjectStore (projects.h) over SQLite:
// DATA_DIR/projects.db in WAL mode with the default file locks, so the CLI
// and the server share it. Its schema (docs/format.md: keep the two in step):
//
//   PRAGMA user_version = 1
//   projects        (id TEXT PRIMARY KEY, created_ms, public_by_default,
//                    cors_origins: the origins joined by '\n')
//   project_secrets (project, secret, created_ms; PRIMARY KEY (project, secret));
//                    created_ms rises strictly within a project
//
// The view Current() returns is rebuilt when PRAGMA data_version moved (a
// commit by another connection) or this store changed something.
#include <openssl/rand.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <mutex>

#include "auth/base64url.h"
#include "durablestreams/projects.h"
#include "storage/sqlite_side_db.h"
#include "storage/sqlite_stmt.h"

namespace durablestreams {

namespace {

using storage::SqliteError;
using storage::Stmt;
constexpr auto& Column = storage::ColumnText;
constexpr auto& Bind = storage::BindText;

constexpr int kProjectsSchemaVersion = 1;

const char* const kProjectsSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS projects (
  id                TEXT    PRIMARY KEY,
  created_ms        INTEGER NOT NULL,
  public_by_default INTEGER NOT NULL DEFAULT 0,
  cors_origins      TEXT    NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS project_secrets (
  project    TEXT    NOT NULL,
  secret     TEXT    NOT NULL,
  created_ms INTEGER NOT NULL,
  PRIMARY KEY (project, secret)
) WITHOUT ROWID;
)sql";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "*", or scheme://host[:port] as browsers send it in Origin.
bool IsOrigin(std::string_view o) {
  if (o == "*") return true;
  size_t sep = o.find("://");
  if (sep == std::string_view::npos || sep == 0 || o.size() == sep + 3 || o.size() > 256)
    return false;
  for (size_t i = 0; i < o.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(o[i]);
    if (c <= 0x20 || c >= 0x7f || c == ',' || (i > sep + 2 && c == '/')) return false;
  }
  return true;
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    if (nl > start) out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

class SqliteProjectStore : public ProjectStore {
 public:
  ~SqliteProjectStore() override { data_version_.Finalize(); }

  Status Init(const std::string& data_dir) {
    Status s = file_.Open(data_dir, "projects.db", kProjectsSchemaVersion, kProjectsSchemaV1);
    if (!s.ok()) return s;
    db_ = file_.db();
    return data_version_.Prepare(db_, "PRAGMA data_version");
  }

  Result<std::shared_ptr<const ProjectMap>> Current() override {
    std::lock_guard<std::mutex> lock(mu_);
    int rc = sqlite3_step(data_version_.get());
    int64_t version = rc == SQLITE_ROW ? sqlite3_column_int64(data_version_.get(), 0) : -1;
    data_version_.Reset();
    if (rc != SQLITE_ROW) return SqliteError(db_, rc, "PRAGMA data_version");
    if (view_ && version == view_version_) return view_;
    Result<std::shared_ptr<const ProjectMap>> loaded = Load();
    if (!loaded.ok()) return loaded;
    view_ = *loaded;
    view_version_ = version;
    return view_;
  }

  Result<Project> Create(std::string_view id) override {
    if (!IsProjectId(id)) return Status::InvalidArgument("a project id is [a-zA-Z0-9_-]{1,64}");
    Result<std::string> secret = NewSecret();
    if (!secret.ok()) return secret.status();
    std::lock_guard<std::mutex> lock(mu_);
    Status s = Write([&]() -> Status {
      if (Exists(id)) return Status::InvalidArgument("project " + std::string(id) + " exists");
      Stmt ins;
      Status st = ins.Prepare(db_, "INSERT INTO projects (id, created_ms) VALUES (?1, ?2)");
      if (!st.ok()) return st;
      Bind(ins.get(), 1, id);
      sqlite3_bind_int64(ins.get(), 2, NowMs());
      st = ins.Exec("insert project");
      if (!st.ok()) return st;
      return InsertSecret(id, *secret);
    });
    if (!s.ok()) return s;
    Project p;
    p.id = std::string(id);
    p.secrets.push_back(*secret);
    return p;
  }

  Result<std::vector<std::string>> Change(std::string_view id,
                                          const ProjectChange& change) override {
    for (const std::string& secret : change.add_secrets) {
      if (secret.size() < 32) return Status::InvalidArgument("a secret has at least 32 characters");
    }
    for (const std::string& prefix : change.remove_secrets) {
      if (prefix.size() < 4)
        return Status::InvalidArgument("name a secret by at least 4 characters");
    }
    std::string origins;
    if (change.cors_origins) {
      for (const std::string& o : *change.cors_origins) {
        if (!IsOrigin(o)) {
          return Status::InvalidArgument(
              "a CORS origin is \"*\" or scheme://host[:port], without a path");
        }
        if (!origins.empty()) origins += '\n';
        origins += o;
      }
    }
    std::vector<std::string> made;
    for (int i = 0; i < change.new_secrets; ++i) {
      Result<std::string> secret = NewSecret();
      if (!secret.ok()) return secret.status();
      made.push_back(*secret);
    }
    std::lock_guard<std::mutex> lock(mu_);
    Status s = Write([&]() -> Status {
      if (!Exists(id)) return NoProject(id);
      for (const std::string& prefix : change.remove_secrets) {
        Status st = RemoveOneSecret(id, prefix);
        if (!st.ok()) return st;
      }
      const std::vector<std::string>* lists[] = {&change.add_secrets, &made};
      for (const std::vector<std::string>* list : lists) {
        for (const std::string& secret : *list) {
          Status st = InsertSecret(id, secret);
          if (!st.ok()) return st;
        }
      }
      if (change.cors_origins) {
        Status st = Update(id, "UPDATE projects SET cors_origins = ?2 WHERE id = ?1", origins);
        if (!st.ok()) return st;
      }
      if (change.public_by_default) {
        Status st = Update(id, "UPDATE projects SET public_by_default = ?2 WHERE id = ?1",
                           *change.public_by_default ? "1" : "0");
        if (!st.ok()) return st;
      }
      return Status::OK();
    });
    if (!s.ok()) return s;
    return made;
  }

  Status Delete(std::string_view id) override {
    std::lock_guard<std::mutex> lock(mu_);
    return Write([&]() -> Status {
      if (!Exists(id)) return NoProject(id);
      for (const char* sql : {"DELETE FROM project_secrets WHERE project = ?1",
                              "DELETE FROM projects WHERE id = ?1"}) {
        Stmt del;
        Status st = del.Prepare(db_, sql);
        if (!st.ok()) return st;
        Bind(del.get(), 1, id);
        st = del.Exec("delete project");
        if (!st.ok()) return st;
      }
      return Status::OK();
    });
  }

 private:
  static Status NoProject(std::string_view id) {
    return Status::NotFound("no project " + std::string(id));
  }

  Status ExecScript(const char* sql) { return file_.Exec(sql); }

  // Runs `body` in one IMMEDIATE transaction (other writers wait for it),
  // and drops the view so the next Current() rebuilds it. Holds mu_.
  template <typename F>
  Status Write(F body) {
    Status s = file_.Transaction(body);
    view_.reset();
    return s;
  }

  // Runs `sql` with ?1 = id and ?2 = value. Holds mu_, in Write().
  Status Update(std::string_view id, const char* sql, std::string_view value) {
    Stmt u;
    Status st = u.Prepare(db_, sql);
    if (!st.ok()) return st;
    Bind(u.get(), 1, id);
    Bind(u.get(), 2, value);
    return u.Exec("update project");
  }

  // Removes the one secret of `id` that starts with `prefix`. Holds mu_, in Write().
  Status RemoveOneSecret(std::string_view id, std::string_view prefix) {
    Stmt q;
    Status st = q.Prepare(db_, "SELECT secret FROM project_secrets WHERE project = ?1");
    if (!st.ok()) return st;
    Bind(q.get(), 1, id);
    std::vector<std::string> matches;
    while (sqlite3_step(q.get()) == SQLITE_ROW) {
      std::string s = Column(q.get(), 0);
      if (s.compare(0, prefix.size(), prefix) == 0) matches.push_back(std::move(s));
    }
    q.Reset();
    if (matches.empty()) return Status::InvalidArgument("no secret starts with that prefix");
    if (matches.size() > 1) {
      return Status::InvalidArgument("several secrets start with that prefix; give more of it");
    }
    Stmt del;
    st = del.Prepare(db_, "DELETE FROM project_secrets WHERE project = ?1 AND secret = ?2");
    if (!st.ok()) return st;
    Bind(del.get(), 1, id);
    Bind(del.get(), 2, matches[0]);
    return del.Exec("delete secret");
  }

  bool Exists(std::string_view id) {
    Stmt q;
    if (!q.Prepare(db_, "SELECT 1 FROM projects WHERE id = ?1").ok()) return false;
    Bind(q.get(), 1, id);
    bool found = sqlite3_step(q.get()) == SQLITE_ROW;
    q.Reset();
    return found;
  }

  Status InsertSecret(std::string_view id, std::string_view secret) {
    Stmt ins;
    Status st = ins.Prepare(
        db_,
        // created_ms orders the secrets (the newest signs the CLI's tokens),
        // so two added in one millisecond still get distinct, rising values.
        "INSERT OR IGNORE INTO project_secrets (project, secret, created_ms) VALUES (?1, ?2, "
        "MAX(?3, COALESCE((SELECT MAX(created_ms) + 1 FROM project_secrets WHERE project = ?1), "
        "0)))");
    if (!st.ok()) return st;
    Bind(ins.get(), 1, id);
    Bind(ins.get(), 2, secret);
    sqlite3_bind_int64(ins.get(), 3, NowMs());
    return ins.Exec("insert secret");
  }

  // Every project and its secrets, in one read transaction. Holds mu_.
  Result<std::shared_ptr<const ProjectMap>> Load() {
    Status s = ExecScript("BEGIN");
    if (!s.ok()) return s;
    auto map = std::make_shared<ProjectMap>();
    Stmt p, k;
    s = p.Prepare(db_, "SELECT id, created_ms, public_by_default, cors_origins FROM projects");
    if (s.ok()) {
      int rc;
      while ((rc = sqlite3_step(p.get())) == SQLITE_ROW) {
        Project proj;
        proj.id = Column(p.get(), 0);
        proj.created_ms = sqlite3_column_int64(p.get(), 1);
        proj.public_by_default = sqlite3_column_int(p.get(), 2) != 0;
        proj.cors_origins = SplitLines(Column(p.get(), 3));
        std::string id = proj.id;
        map->emplace(std::move(id), std::move(proj));
      }
      p.Reset();
      if (rc != SQLITE_DONE) s = SqliteError(db_, rc, "read projects");
    }
    if (s.ok())
      s = k.Prepare(db_, "SELECT project, secret FROM project_secrets ORDER BY created_ms");
    if (s.ok()) {
      int rc;
      while ((rc = sqlite3_step(k.get())) == SQLITE_ROW) {
        auto it = map->find(Column(k.get(), 0));
        if (it != map->end()) it->second.secrets.push_back(Column(k.get(), 1));
      }
      k.Reset();
      if (rc != SQLITE_DONE) s = SqliteError(db_, rc, "read secrets");
    }
    (void)ExecScript("COMMIT");
    if (!s.ok()) return s;
    return std::shared_ptr<const ProjectMap>(std::move(map));
  }

  std::mutex mu_;  // guards everything below and the connection
  storage::SideDb file_;
  sqlite3* db_ = nullptr;  // file_'s
  Stmt data_version_;
  std::shared_ptr<const ProjectMap> view_;
  int64_t view_version_ = -1;
};

}  // namespace

bool IsProjectId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string SecretPrefix(std::string_view secret) {
  return std::string(secret.substr(0, 6));
}

Result<std::string> NewSecret() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return Status::Internal("no random bytes");
  return auth::Base64UrlEncode(std::string_view(reinterpret_cast<char*>(bytes), sizeof bytes));
}

Result<std::string> ProjectStore::Rotate(std::string_view id) {
  ProjectChange c;
  c.new_secrets = 1;
  Result<std::vector<std::string>> made = Change(id, c);
  if (!made.ok()) return made.status();
  return (*made)[0];
}

Status ProjectStore::AddSecret(std::string_view id, std::string secret) {
  ProjectChange c;
  c.add_secrets.push_back(std::move(secret));
  return Change(id, c).status();
}

Status ProjectStore::RemoveSecret(std::string_view id, std::string prefix) {
  ProjectChange c;
  c.remove_secrets.push_back(std::move(prefix));
  return Change(id, c).status();
}

Status ProjectStore::SetCorsOrigins(std::string_view id, std::vector<std::string> origins) {
  ProjectChange c;
  c.cors_origins = std::move(origins);
  return Change(id, c).status();
}

Status ProjectStore::SetPublicByDefault(std::string_view id, bool on) {
  ProjectChange c;
  c.public_by_default = on;
  return Change(id, c).status();
}

Result<std::unique_ptr<ProjectStore>> ProjectStore::Open(const std::string& data_dir) {
  auto store = std::make_unique<SqliteProjectStore>();
  Status s = store->Init(data_dir);
  if (!s.ok()) return s;
  return std::unique_ptr<ProjectStore>(std::move(store));
}

}  // namespace durablestreams

// include/durablestreams/projects.h
//
// Projects: who may use the streams under /v1/stream/{project}/ when the
// server runs with project auth (project_auth.h). A project has an id
// ([a-zA-Z0-9_-]{1,64}), one or more signing secrets (a token signed with
// any of them is valid, so keys rotate without downtime; removing a secret
// invalidates its tokens on the next request), the CORS origins it allows,
// and whether its new streams are public by default (private unless set).
//
// ProjectStore keeps them in DATA_DIR/projects.db, a SQLite database of its
// own (docs/format.md), beside the hot log: the hot log belongs to the
// server process alone, and this one is shared, so the CLI
// (`durable-streams-server project ...`) can change projects while the
// server runs. The file is created mode 0600: it holds secrets. A secret
// is 32 random bytes in base64url (43 characters); as an HMAC key it is
// used as that text.
//
// Thread safety: every method may be called from any thread. Changes made
// by another process are seen by Current() on its next call.
//
// Ownership: the store owns its database connection.
#ifndef DURABLESTREAMS_PROJECTS_H_
#define DURABLESTREAMS_PROJECTS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "durablestreams/status.h"

namespace durablestreams {

struct Project {
  std::string id;
  std::vector<std::string> secrets;       // oldest first
  std::vector<std::string> cors_origins;  // "*" allows any origin
  bool public_by_default = false;
  int64_t created_ms = 0;
};

using ProjectMap = std::map<std::string, Project, std::less<>>;

// Whether `id` is a project id: [a-zA-Z0-9_-]{1,64}.
bool IsProjectId(std::string_view id);

// The first characters of a secret, which name it in listings and in
// RemoveSecret without showing it.
std::string SecretPrefix(std::string_view secret);

// 32 random bytes from the system's generator, base64url.
Result<std::string> NewSecret();

// Changes to one project, made together or not at all (ProjectStore::Change).
struct ProjectChange {
  int new_secrets = 0;                      // secrets to generate (NewSecret)
  std::vector<std::string> add_secrets;     // given secrets, 32 characters or more
  std::vector<std::string> remove_secrets;  // each names one secret by a prefix of 4 or more
  std::optional<std::vector<std::string>> cors_origins;  // replaces the list
  std::optional<bool> public_by_default;
};

class ProjectStore {
 public:
  // Opens (or creates) DATA_DIR/projects.db, creating DATA_DIR if needed.
  static Result<std::unique_ptr<ProjectStore>> Open(const std::string& data_dir);
  virtual ~ProjectStore() = default;

  // Every project as of now: the store's view, re-read when the database
  // changed (by this store or another process). Cheap when nothing changed.
  virtual Result<std::shared_ptr<const ProjectMap>> Current() = 0;

  // Creates `id` with one new secret and returns the project. AlreadyExists
  // (InvalidArgument) if there is one.
  virtual Result<Project> Create(std::string_view id) = 0;
  // Makes every change of `change` to `id` in one transaction, or none (a
  // bad origin, a prefix that names no secret or several): InvalidArgument,
  // NotFound for no such project. Returns the secrets it generated.
  virtual Result<std::vector<std::string>> Change(std::string_view id,
                                                  const ProjectChange& change) = 0;
  // Deletes the project and its secrets (not its streams).
  virtual Status Delete(std::string_view id) = 0;

  // One change each.
  Result<std::string> Rotate(std::string_view id);  // a new secret
  Status AddSecret(std::string_view id, std::string secret);
  Status RemoveSecret(std::string_view id, std::string prefix);
  Status SetCorsOrigins(std::string_view id, std::vector<std::string> origins);
  Status SetPublicByDefault(std::string_view id, bool on);
};

}  // namespace durablestreams

#endif  // DURABLESTREAMS_PROJECTS_H_

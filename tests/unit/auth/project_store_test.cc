// Unit tests of ProjectStore (projects.h) over a real projects.db in a
// temporary directory: changes are all or nothing, another connection's
// changes are seen on the next Current(), secrets are named by prefix.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "durablestreams/projects.h"
#include "support/temp_dir.h"

using namespace durablestreams;

TEST_CASE("projects: a change is made whole or not at all, and other connections see it") {
  dstest::TempDir dir;
  auto a = ProjectStore::Open(dir.path());
  auto b = ProjectStore::Open(dir.path());
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  struct stat st;
  REQUIRE(stat((dir.path() + "/projects.db").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  auto made = (*a)->Create("p");
  REQUIRE(made.ok());
  REQUIRE(made->secrets.size() == 1);
  CHECK(made->secrets[0].size() == 43);
  CHECK_FALSE((*a)->Create("p").ok());
  CHECK_FALSE((*a)->Create("no/slash").ok());
  CHECK((*b)->Current().value()->count("p") == 1);

  // One bad part refuses the whole change.
  ProjectChange bad;
  bad.new_secrets = 1;
  bad.public_by_default = true;
  bad.cors_origins = std::vector<std::string>{"https://ok.example", "not an origin"};
  CHECK((*b)->Change("p", bad).status().code() == StatusCode::kInvalidArgument);
  const Project& before = (*a)->Current().value()->at("p");
  CHECK(before.secrets.size() == 1);
  CHECK_FALSE(before.public_by_default);
  CHECK(before.cors_origins.empty());

  ProjectChange good;
  good.new_secrets = 1;
  good.public_by_default = true;
  good.cors_origins = std::vector<std::string>{"*", "http://127.0.0.1:5173"};
  auto fresh = (*b)->Change("p", good);
  REQUIRE(fresh.ok());
  REQUIRE(fresh->size() == 1);
  std::shared_ptr<const ProjectMap> now = (*a)->Current().value();
  const Project& after = now->at("p");
  CHECK(after.secrets.size() == 2);
  CHECK(after.secrets.back() == (*fresh)[0]);
  CHECK(after.public_by_default);
  CHECK(after.cors_origins.size() == 2);
  // Unchanged: the same view, not a new one.
  CHECK((*a)->Current().value() == now);

  // A prefix names one secret, at least 4 characters of it.
  CHECK_FALSE((*a)->RemoveSecret("p", "abc").ok());
  CHECK_FALSE((*a)->RemoveSecret("p", "zzzzzzzz-none").ok());
  REQUIRE((*a)->RemoveSecret("p", made->secrets[0].substr(0, 6)).ok());
  CHECK((*b)->Current().value()->at("p").secrets == std::vector<std::string>{(*fresh)[0]});
  CHECK((*a)->Change("nobody", good).status().code() == StatusCode::kNotFound);
  REQUIRE((*b)->Delete("p").ok());
  CHECK((*a)->Current().value()->empty());

  // Reopened, it holds what was committed.
  REQUIRE((*a)->Create("q").ok());
  a = ProjectStore::Open(dir.path());
  REQUIRE(a.ok());
  CHECK((*a)->Current().value()->count("q") == 1);
}

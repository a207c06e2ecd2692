// Unit tests of subscriptions.db (lib/subscriptions/subscription_store.h)
// over a real file in a temporary directory.
#include "subscriptions/subscription_store.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "support/temp_dir.h"

using namespace durablestreams::subscriptions;

TEST_CASE(
    "subscription store: a saved state is what the next open loads; deletion keeps the "
    "generation") {
  dstest::TempDir dir;
  std::string key;
  {
    auto store = SubscriptionStore::Open(dir.path());
    REQUIRE(store.ok());
    key = (*store)->token_key();
    CHECK(key.size() == 32);
    struct stat st;
    REQUIRE(stat((dir.path() + "/subscriptions.db").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);

    ParsedConfig p =
        ParseSubscriptionConfig(R"({"type":"webhook","pattern":"events/*","streams":["manual/a"],)"
                                R"("webhook":{"url":"http://localhost:9/h"},"lease_ttl_ms":1000})");
    REQUIRE(p.config);
    int n = 0;
    WakeMachine m(*p.config, [&n] { return "w_" + std::to_string(++n); });
    m.LinkStream("events/x", true, "0_1", "0_1");
    m.LinkStream("manual/a", false, "0_0", "0_0");
    REQUIRE(m.OnTail("events/x", "0_5", 100).kind == Effect::Kind::kDeliver);
    m.OnDelivered(1, "w_1", false, false, 200, 0);
    REQUIRE((*store)->Save(ToStored("_default", "s1", 42, m)).ok());
    REQUIRE((*store)->Save(ToStored("_default", "s2", 43, m)).ok());
    REQUIRE((*store)->Delete("_default", "s2").ok());
  }
  auto store = SubscriptionStore::Open(dir.path());
  REQUIRE(store.ok());
  CHECK((*store)->token_key() == key);
  auto all = (*store)->LoadAll();
  REQUIRE(all.ok());
  REQUIRE(all->size() == 2);
  const StoredSubscription& s1 = (*all)[0].id == "s1" ? (*all)[0] : (*all)[1];
  const StoredSubscription& s2 = (*all)[0].id == "s1" ? (*all)[1] : (*all)[0];
  CHECK_FALSE(s1.deleted);
  CHECK(s1.created_ms == 42);
  CHECK(s1.generation == 1);
  CHECK(s1.wake_id == "w_1");
  CHECK(s1.failed);
  CHECK(s1.attempts == 1);
  CHECK(s1.next_attempt_ms == 1200);
  CHECK(s1.snapshot ==
        std::map<std::string, std::string>{{"events/x", "0_5"}, {"manual/a", "0_0"}});
  REQUIRE(s1.links.size() == 2);
  CHECK(s1.links.at("events/x").glob);
  CHECK(s1.links.at("events/x").acked == "0_1");
  CHECK(s1.links.at("manual/a").explicit_link);
  CHECK(ParseSubscriptionConfig(s1.config).config.has_value());
  CHECK(s2.deleted);
  CHECK(s2.generation == 1);
  CHECK(s2.wake_id.empty());
  CHECK(s2.links.empty());
}

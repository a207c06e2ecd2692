// Unit tests of the control API and delivery bodies
// (lib/subscriptions/subscription_json.h): valid JSON with the fields the
// protocol names, whatever the strings in them.
#include "subscriptions/subscription_json.h"

#include <simdjson.h>

#include <catch2/catch.hpp>

using namespace durablestreams::subscriptions;

namespace {

simdjson::dom::element Parse(simdjson::dom::parser& p, const std::string& text) {
  simdjson::dom::element e;
  REQUIRE_FALSE(p.parse(text).get(e));
  return e;
}

}  // namespace

TEST_CASE("subscription JSON: the GET body, a wake, a wake event and a claim") {
  ParsedConfig pc = ParseSubscriptionConfig(
      R"({"type":"webhook","pattern":"events/*","webhook":{"url":"http://localhost:9/h"},)"
      R"("description":"quote \" and </script>","lease_ttl_ms":1000})");
  REQUIRE(pc.config);
  WakeMachine m(*pc.config, [] { return std::string("w_1"); });
  m.LinkStream("events/a\"b", true, "0_1", "0_1");
  m.LinkStream("manual/x", false, "0_0", "0_0");
  REQUIRE(m.OnTail("events/a\"b", "0_9", 0).kind == Effect::Kind::kDeliver);
  Endpoints at{"http://127.0.0.1:4437/v1/stream/", "ds_kid"};
  simdjson::dom::parser p;

  simdjson::dom::element sub = Parse(p, SubscriptionBody("sub-1", 1778284800000, m, at));
  CHECK(std::string_view(sub["id"]) == "sub-1");
  CHECK(std::string_view(sub["subscription_id"]) == "sub-1");
  CHECK(std::string_view(sub["type"]) == "webhook");
  CHECK(std::string_view(sub["created_at"]) == "2026-05-09T00:00:00.000Z");
  CHECK(std::string_view(sub["status"]) == "active");
  CHECK(std::string_view(sub["description"]) == "quote \" and </script>");
  CHECK(std::string_view(sub["webhook"]["signing"]["jwks_url"]) ==
        "http://127.0.0.1:4437/v1/stream/__ds/jwks.json");
  CHECK(sub["wake_stream"].is_null());
  CHECK(sub["webhook_secret"].error() == simdjson::NO_SUCH_FIELD);
  CHECK(simdjson::dom::array(sub["streams"]).size() == 2);

  simdjson::dom::element wake = Parse(p, WakeNotificationBody("sub-1", m, "tok", at));
  CHECK(int64_t(wake["generation"]) == 1);
  CHECK(std::string_view(wake["wake_id"]) == "w_1");
  CHECK(std::string_view(wake["callback_url"]) ==
        "http://127.0.0.1:4437/v1/stream/__ds/subscriptions/sub-1/callback");
  bool found = false;
  for (simdjson::dom::element s : simdjson::dom::array(wake["streams"])) {
    if (std::string_view(s["path"]) != "events/a\"b") continue;
    found = true;
    CHECK(std::string_view(s["tail_offset"]) == "0_9");
    CHECK(bool(s["has_pending"]));
    CHECK(std::string_view(s["link_type"]) == "glob");
  }
  CHECK(found);

  simdjson::dom::element ev = Parse(p, WakeEventBody("sub-1", "events/a", 3, 17));
  simdjson::dom::element first = simdjson::dom::array(ev).at(0);
  CHECK(std::string_view(first["type"]) == "wake");
  CHECK(int64_t(first["generation"]) == 3);
  CHECK(int64_t(first["ts"]) == 17);

  simdjson::dom::element claim = Parse(p, ClaimBody(m, "tok2"));
  CHECK(std::string_view(claim["token"]) == "tok2");
  CHECK(int64_t(claim["lease_ttl_ms"]) == 1000);
}

// Unit tests of subscription definitions
// (lib/subscriptions/subscription_config.h).
#include "subscriptions/subscription_config.h"

#include <catch2/catch.hpp>

using namespace durablestreams::subscriptions;

TEST_CASE("subscription config: the same definition in another form hashes the same") {
  ParsedConfig a = ParseSubscriptionConfig(
      R"({"type":"webhook","pattern":"events/*","webhook":{"url":"http://localhost:9/h"},)"
      R"("streams":["b","a","b"],"lease_ttl_ms":30000})");
  ParsedConfig b = ParseSubscriptionConfig(
      R"({"streams":["a","b"],"webhook":{"url":"http://localhost:9/h"},"pattern":"events/*",)"
      R"("type":"webhook","future_field":1})");
  REQUIRE(a.config);
  REQUIRE(b.config);
  CHECK(a.config->streams == std::vector<std::string>{"a", "b"});
  CHECK(ConfigHash(*a.config) == ConfigHash(*b.config));
  ParsedConfig c = ParseSubscriptionConfig(
      R"({"type":"webhook","pattern":"events/*","webhook":{"url":"http://localhost:9/h"},)"
      R"("streams":["a","b"],"description":"x"})");
  REQUIRE(c.config);
  CHECK(ConfigHash(*a.config) != ConfigHash(*c.config));
  ParsedConfig pull = ParseSubscriptionConfig(
      R"({"type":"pull-wake","streams":["x/y"],"wake_stream":"wake/pool"})");
  REQUIRE(pull.config);
  CHECK(pull.config->lease_ttl_ms == kDefaultLeaseTtlMs);
  CHECK(Canonical(*pull.config) ==
        R"({"type":"pull-wake","pattern":null,"streams":["x/y"],"webhook":null,)"
        R"("wake_stream":"wake/pool","lease_ttl_ms":30000,"description":null})");
}

TEST_CASE("subscription config: what is refused, and with which code") {
  auto row = GENERATE(table<const char*, const char*>({
      {R"(not json)", "INVALID_REQUEST"},
      {R"([])", "INVALID_REQUEST"},
      {R"({"pattern":"a/*","webhook":{"url":"http://localhost/h"}})", "INVALID_REQUEST"},
      {R"({"type":"push","pattern":"a/*"})", "INVALID_REQUEST"},
      {R"({"type":"webhook","webhook":{"url":"http://localhost/h"}})", "INVALID_REQUEST"},
      {R"({"type":"webhook","pattern":"a/*"})", "INVALID_REQUEST"},
      {R"({"type":"webhook","pattern":"a/*","webhook":{"url":"http://10.0.0.1/hook"}})",
       "WEBHOOK_URL_REJECTED"},
      {R"({"type":"webhook","pattern":"a/*","webhook":{"url":"https://192.168.0.1/"}})",
       "WEBHOOK_URL_REJECTED"},
      {R"({"type":"webhook","pattern":"a/*","webhook":{}})", "INVALID_REQUEST"},
      {R"({"type":"webhook","pattern":"a-*","webhook":{"url":"http://localhost/h"}})",
       "INVALID_REQUEST"},
      {R"({"type":"webhook","pattern":"__ds/*","webhook":{"url":"http://localhost/h"}})",
       "INVALID_REQUEST"},
      {R"({"type":"webhook","streams":["../x"],"webhook":{"url":"http://localhost/h"}})",
       "INVALID_REQUEST"},
      {R"({"type":"webhook","streams":[1],"webhook":{"url":"http://localhost/h"}})",
       "INVALID_REQUEST"},
      {R"({"type":"webhook","pattern":"a/*","webhook":{"url":"http://localhost/h"},"lease_ttl_ms":999})",
       "INVALID_REQUEST"},
      {R"({"type":"webhook","pattern":"a/*","webhook":{"url":"http://localhost/h"},"lease_ttl_ms":600001})",
       "INVALID_REQUEST"},
      {R"({"type":"webhook","pattern":"a/*","webhook":{"url":"http://localhost/h"},"lease_ttl_ms":1.5})",
       "INVALID_REQUEST"},
      {R"({"type":"pull-wake","pattern":"a/*"})", "INVALID_REQUEST"},
      {R"({"type":"pull-wake","pattern":"a/*","wake_stream":"w","webhook":{"url":"http://localhost/h"}})",
       "INVALID_REQUEST"},
      {R"({"type":"webhook","type":"webhook","pattern":"a/*","webhook":{"url":"http://localhost/h"}})",
       "INVALID_REQUEST"},
  }));
  CAPTURE(std::get<0>(row));
  ParsedConfig p = ParseSubscriptionConfig(std::get<0>(row));
  CHECK_FALSE(p.config);
  CHECK(p.error.code == std::get<1>(row));
  CHECK_FALSE(p.error.message.empty());
}

TEST_CASE("subscription config: a stream list to add") {
  ConfigError e;
  auto list = ParseStreamList(R"({"streams":["m/b","m/a","m/b"]})", &e);
  REQUIRE(list);
  CHECK(*list == std::vector<std::string>{"m/a", "m/b"});
  CHECK_FALSE(ParseStreamList(R"({"streams":"m/a"})", &e));
  CHECK_FALSE(ParseStreamList(R"({})", &e));
  CHECK(e.code == "INVALID_REQUEST");
}

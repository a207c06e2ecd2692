// Unit tests of the webhook URL and address policy
// (lib/subscriptions/url_policy.h).
#include "subscriptions/url_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <catch2/catch.hpp>

using namespace durablestreams::subscriptions;

TEST_CASE("webhook URLs: https to public hosts, http only to loopback") {
  auto row = GENERATE(table<const char*, bool>({
      {"https://worker.example/hooks", true},
      {"https://worker.example:8443/hooks?x=1", true},
      {"https://93.184.216.34/h", true},
      {"https://[2606:4700::1111]/h", true},
      {"http://localhost:9000/hook", true},
      {"http://127.0.0.1:5000/hook", true},
      {"http://127.0.0.5/hook", true},
      {"http://[::1]:80/", true},
      {"HTTP://LOCALHOST/x", true},
      // refused
      {"http://10.0.0.1/hook", false},
      {"http://worker.example/hooks", false},
      {"https://10.1.2.3/", false},
      {"https://172.16.0.1/", false},
      {"https://192.168.1.1/", false},
      {"https://169.254.169.254/latest/meta-data", false},
      {"https://127.0.0.1/", false},
      {"https://localhost/", false},
      {"https://a.localhost/", false},
      {"https://100.64.0.1/", false},
      {"https://0.0.0.0/", false},
      {"https://224.0.0.1/", false},
      {"https://[::1]/", false},
      {"https://[fe80::1]/", false},
      {"https://[fd00::1]/", false},
      {"https://[::ffff:10.0.0.1]/", false},
      {"https://[::ffff:127.0.0.1]/", false},
      {"https://[64:ff9b::a00:1]/", false},
      {"https://2130706433/", false},
      {"https://0x7f.1/", false},
      {"https://127.1/", false},
      {"https://user:pw@worker.example/", false},
      {"https://worker.example/#frag", false},
      {"ftp://worker.example/", false},
      {"file:///etc/passwd", false},
      {"https://", false},
      {"https://worker.example:0/", false},
      {"https://worker.example:65536/", false},
      {"https://worker.example:/", false},
      {"https://wor ker.example/", false},
      {"https://worker.example\\@evil/", false},
      {"https://[::1/", false},
      {"worker.example/hooks", false},
  }));
  CAPTURE(std::get<0>(row));
  CHECK(CheckWebhookUrl(std::get<0>(row)).ok() == std::get<1>(row));
}

TEST_CASE("webhook URLs: the parts of an allowed one") {
  auto t = CheckWebhookUrl("https://[2606:4700::1111]:8443/x");
  REQUIRE(t.ok());
  CHECK(t->https);
  CHECK(t->host == "2606:4700::1111");
  CHECK(t->port == 8443);
  auto u = CheckWebhookUrl("http://localhost/x");
  REQUIRE(u.ok());
  CHECK(u->port == 80);
}

TEST_CASE("webhook addresses: judged after resolution, the same way") {
  auto v4 = [](const char* text) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    inet_pton(AF_INET, text, &a.sin_addr);
    return a;
  };
  auto v6 = [](const char* text) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    inet_pton(AF_INET6, text, &a.sin6_addr);
    return a;
  };
  sockaddr_in pub = v4("93.184.216.34"), lo = v4("127.0.0.1"), meta = v4("169.254.169.254");
  sockaddr_in6 pub6 = v6("2606:4700::1111"), lo6 = v6("::1"), mapped = v6("::ffff:192.168.0.1");
  CHECK(AddressAllowed(reinterpret_cast<sockaddr*>(&pub), true));
  CHECK_FALSE(AddressAllowed(reinterpret_cast<sockaddr*>(&pub), false));
  CHECK(AddressAllowed(reinterpret_cast<sockaddr*>(&lo), false));
  CHECK_FALSE(AddressAllowed(reinterpret_cast<sockaddr*>(&lo), true));
  CHECK_FALSE(AddressAllowed(reinterpret_cast<sockaddr*>(&meta), true));
  CHECK(AddressAllowed(reinterpret_cast<sockaddr*>(&pub6), true));
  CHECK(AddressAllowed(reinterpret_cast<sockaddr*>(&lo6), false));
  CHECK_FALSE(AddressAllowed(reinterpret_cast<sockaddr*>(&lo6), true));
  CHECK_FALSE(AddressAllowed(reinterpret_cast<sockaddr*>(&mapped), true));
}

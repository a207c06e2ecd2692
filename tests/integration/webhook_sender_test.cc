// Integration tests of the webhook sender (lib/subscriptions/webhook_sender.h)
// against a real HTTP receiver on loopback: answers, failures, timeouts,
// redirects not followed, oversized answers, and refused targets.
#include "subscriptions/webhook_sender.h"

#include <httplib.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <thread>

using namespace durablestreams::subscriptions;
using namespace std::chrono_literals;

namespace {

struct Receiver {
  httplib::Server server;
  std::thread thread;
  int port = 0;
  std::string last_signature;
  std::mutex mu;

  Receiver() {
    server.Post("/done", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu);
      last_signature = req.get_header_value("Webhook-Signature");
      res.set_content(R"({"done":true})", "application/json");
    });
    server.Post("/ok", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("{}", "application/json");
    });
    server.Post("/fail", [](const httplib::Request&, httplib::Response& res) { res.status = 500; });
    server.Post("/slow", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(1500ms);
      res.set_content(R"({"done":true})", "application/json");
    });
    server.Post("/redirect", [](const httplib::Request&, httplib::Response& res) {
      res.set_redirect("/done", 307);
    });
    server.Post("/big", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"done":true,"pad":")" + std::string(200 * 1024, 'x') + "\"}",
                      "application/json");
    });
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(1ms);
  }
  ~Receiver() {
    server.stop();
    thread.join();
  }
  std::string Url(const char* path) const {
    return "http://127.0.0.1:" + std::to_string(port) + path;
  }
};

DeliveryResult SendAndWait(WebhookSender& sender, const std::string& url) {
  auto promise = std::make_shared<std::promise<DeliveryResult>>();
  auto future = promise->get_future();
  sender.Send({url, R"({"x":1})", "t=1,kid=ds_k,ed25519=abc",
               [promise](DeliveryResult r) { promise->set_value(std::move(r)); }});
  REQUIRE(future.wait_for(10s) == std::future_status::ready);
  return future.get();
}

}  // namespace

TEST_CASE("webhook sender: answers, failures and limits of a delivery") {
  Receiver receiver;
  WebhookSenderOptions o;
  o.connect_timeout = 500ms;
  o.total_timeout = 700ms;
  auto sender = WebhookSender::Start(o);
  REQUIRE(sender.ok());

  DeliveryResult done = SendAndWait(**sender, receiver.Url("/done"));
  CHECK(done.ok);
  CHECK(done.done);
  {
    std::lock_guard<std::mutex> lock(receiver.mu);
    CHECK(receiver.last_signature == "t=1,kid=ds_k,ed25519=abc");
  }
  DeliveryResult ok = SendAndWait(**sender, receiver.Url("/ok"));
  CHECK(ok.ok);
  CHECK_FALSE(ok.done);
  DeliveryResult fail = SendAndWait(**sender, receiver.Url("/fail"));
  CHECK_FALSE(fail.ok);
  CHECK(fail.status == 500);
  DeliveryResult slow = SendAndWait(**sender, receiver.Url("/slow"));
  CHECK_FALSE(slow.ok);
  CHECK(slow.status == 0);
  DeliveryResult redirect = SendAndWait(**sender, receiver.Url("/redirect"));
  CHECK_FALSE(redirect.ok);
  CHECK(redirect.status == 307);
  DeliveryResult big = SendAndWait(**sender, receiver.Url("/big"));
  CHECK(big.ok);
  CHECK_FALSE(big.done);  // the answer was past the cap: not read as done
  // Refused before any connection: a private target, https to loopback.
  CHECK_FALSE(SendAndWait(**sender, "http://10.0.0.1/hook").ok);
  DeliveryResult loop_https =
      SendAndWait(**sender, "https://127.0.0.1:" + std::to_string(receiver.port) + "/done");
  CHECK_FALSE(loop_https.ok);
  // localhost resolves to loopback: allowed for http.
  DeliveryResult by_name =
      SendAndWait(**sender, "http://localhost:" + std::to_string(receiver.port) + "/done");
  CHECK(by_name.ok);

  // Stopping ends what is in flight; later sends are answered at once.
  auto late = std::make_shared<std::promise<DeliveryResult>>();
  auto late_future = late->get_future();
  (*sender)->Send({receiver.Url("/slow"), "{}", "",
                   [late](DeliveryResult r) { late->set_value(std::move(r)); }});
  std::this_thread::sleep_for(100ms);
  (*sender)->Stop();
  REQUIRE(late_future.wait_for(1s) == std::future_status::ready);
  CHECK_FALSE(late_future.get().ok);
  CHECK_FALSE(SendAndWait(**sender, receiver.Url("/done")).ok);
}

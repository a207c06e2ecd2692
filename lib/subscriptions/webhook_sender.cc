// lib/subscriptions/webhook_sender.cc: webhook deliveries over libcurl's
// multi interface on one thread (webhook_sender.h).
#include "subscriptions/webhook_sender.h"

#include <curl/curl.h>
#include <simdjson.h>
#include <sys/socket.h>

#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "subscriptions/url_policy.h"

namespace durablestreams::subscriptions {

namespace {

struct Transfer {
  Delivery delivery;
  bool https = false;
  bool refused_address = false;
  bool answer_too_big = false;
  std::string answer;
  size_t max_answer = 0;
  curl_slist* headers = nullptr;
  CURL* easy = nullptr;
};

size_t OnAnswer(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t bytes = size * n;
  if (t->answer.size() + bytes > t->max_answer) {
    t->answer_too_big = true;  // keep reading, keep nothing more
  } else {
    t->answer.append(data, bytes);
  }
  return bytes;
}

curl_socket_t OnOpenSocket(void* user, curlsocktype purpose, curl_sockaddr* address) {
  auto* t = static_cast<Transfer*>(user);
  if (purpose != CURLSOCKTYPE_IPCXN || !AddressAllowed(&address->addr, t->https)) {
    t->refused_address = true;
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

bool AnswerIsDone(const std::string& answer) {
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(answer).get_object().get(obj)) return false;
  bool done = false;
  return !obj["done"].get_bool().get(done) && done;
}

class SenderImpl final : public WebhookSender {
 public:
  explicit SenderImpl(WebhookSenderOptions o) : o_(std::move(o)) {}
  ~SenderImpl() override {
    if (multi_) Stop();
  }

  Status Init() {
    static std::once_flag init;
    std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    multi_ = curl_multi_init();
    if (!multi_) return Status::IOError("curl_multi_init failed");
    thread_ = std::thread([this] { Run(); });
    return Status::OK();
  }

  void Send(Delivery d) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!stopping_) {
        queue_.push_back(std::move(d));
        curl_multi_wakeup(multi_);
        return;
      }
    }
    DeliveryResult r;
    r.error = "the sender has stopped";
    d.done(std::move(r));
  }

  void Stop() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
      stopping_ = true;
      curl_multi_wakeup(multi_);
    }
    thread_.join();
    curl_multi_cleanup(multi_);
  }

 private:
  void Run() {
    while (true) {
      std::deque<Delivery> incoming;
      bool stopping;
      {
        std::lock_guard<std::mutex> lock(mu_);
        stopping = stopping_;
        if (!stopping) {
          while (!queue_.empty() && active_.size() + incoming.size() < o_.max_concurrent) {
            incoming.push_back(std::move(queue_.front()));
            queue_.pop_front();
          }
        }
      }
      if (stopping) break;
      for (Delivery& d : incoming) Begin(std::move(d));
      int running = 0;
      curl_multi_perform(multi_, &running);
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
        if (msg->msg == CURLMSG_DONE) Finish(msg->easy_handle, msg->data.result);
      }
      bool waiting;
      {
        std::lock_guard<std::mutex> lock(mu_);
        waiting = !queue_.empty() && active_.size() < o_.max_concurrent;
      }
      // Slots came free for deliveries that wait: start them at once.
      if (!waiting) curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);
    }
    // Stopping: every transfer and every queued delivery ends unsent.
    std::vector<CURL*> easies;
    for (auto& [easy, t] : active_) easies.push_back(easy);
    for (CURL* easy : easies) Finish(easy, CURLE_ABORTED_BY_CALLBACK);
    std::deque<Delivery> rest;
    {
      std::lock_guard<std::mutex> lock(mu_);
      rest.swap(queue_);
    }
    for (Delivery& d : rest) {
      DeliveryResult r;
      r.error = "the sender has stopped";
      d.done(std::move(r));
    }
  }

  void Begin(Delivery d) {
    auto t = std::make_unique<Transfer>();
    auto target = CheckWebhookUrl(d.url);
    if (!target.ok()) {
      DeliveryResult r;
      r.error = target.status().message();
      return d.done(std::move(r));
    }
    t->https = target->https;
    t->max_answer = o_.max_answer_bytes;
    t->delivery = std::move(d);
    CURL* e = curl_easy_init();
    t->easy = e;
    t->headers = curl_slist_append(t->headers, "Content-Type: application/json");
    t->headers =
        curl_slist_append(t->headers, ("Webhook-Signature: " + t->delivery.signature).c_str());
    t->headers = curl_slist_append(t->headers, "Expect:");
    curl_easy_setopt(e, CURLOPT_URL, t->delivery.url.c_str());
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->delivery.body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(t->delivery.body.size()));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(e, CURLOPT_USERAGENT, o_.user_agent.c_str());
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o_.connect_timeout.count()));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(o_.total_timeout.count()));
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, OnOpenSocket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, t.get());
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, OnAnswer);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
    curl_multi_add_handle(multi_, e);
    active_[e] = std::move(t);
  }

  void Finish(CURL* easy, CURLcode code) {
    auto it = active_.find(easy);
    if (it == active_.end()) return;
    std::unique_ptr<Transfer> t = std::move(it->second);
    active_.erase(it);
    DeliveryResult r;
    if (code == CURLE_OK) {
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r.status);
      r.ok = r.status >= 200 && r.status < 300;
      if (!r.ok) r.error = "answered " + std::to_string(r.status);
      r.done = r.ok && !t->answer_too_big && AnswerIsDone(t->answer);
    } else {
      r.error = t->refused_address ? "the address is not allowed for a webhook"
                                   : curl_easy_strerror(code);
    }
    curl_multi_remove_handle(multi_, easy);
    curl_easy_cleanup(easy);
    curl_slist_free_all(t->headers);
    t->delivery.done(std::move(r));
  }

  const WebhookSenderOptions o_;
  CURLM* multi_ = nullptr;  // made in Init, freed after the thread ends
  std::thread thread_;
  std::mutex mu_;
  std::deque<Delivery> queue_;  // GUARDED_BY(mu_)
  bool stopping_ = false;       // GUARDED_BY(mu_)
  // The sender thread's own.
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> active_;
};

}  // namespace

Result<std::unique_ptr<WebhookSender>> WebhookSender::Start(WebhookSenderOptions options) {
  auto sender = std::make_unique<SenderImpl>(std::move(options));
  Status s = sender->Init();
  if (!s.ok()) return s;
  return std::unique_ptr<WebhookSender>(std::move(sender));
}

}  // namespace durablestreams::subscriptions

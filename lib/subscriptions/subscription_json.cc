// lib/subscriptions/subscription_json.cc: control API and delivery bodies
// (subscription_json.h).
#include "subscriptions/subscription_json.h"

#include <simdjson.h>

#include <ctime>

#include "protocol/errors.h"

namespace durablestreams::subscriptions {

namespace {

void Str(std::string_view s, std::string* out) {
  protocol::AppendJsonString(s, out);
}

const char* LinkType(const Link& l) {
  return l.explicit_link ? "explicit" : "glob";
}

// The streams of a wake or a claim: with their tails and whether they
// have pending work.
void WakeStreams(const WakeMachine& m, std::string* out) {
  *out += "\"streams\":[";
  bool first = true;
  for (const auto& [path, link] : m.links()) {
    if (!first) *out += ',';
    first = false;
    auto snap = m.snapshot().find(path);
    const std::string& tail = snap != m.snapshot().end() ? snap->second : link.tail;
    *out += "{\"path\":";
    Str(path, out);
    *out += ",\"link_type\":\"";
    *out += LinkType(link);
    *out += "\",\"acked_offset\":";
    Str(link.acked, out);
    *out += ",\"tail_offset\":";
    Str(tail, out);
    *out += ",\"has_pending\":";
    *out += tail > link.acked ? "true" : "false";
    *out += '}';
  }
  *out += ']';
}

}  // namespace

std::string Endpoints::action_url(const std::string& id, const char* action) const {
  return root + "__ds/subscriptions/" + id + "/" + action;
}

std::string IsoTime(int64_t unix_ms) {
  time_t secs = static_cast<time_t>(unix_ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[96];
  snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(unix_ms % 1000));
  return buf;
}

std::string SubscriptionBody(const std::string& id, int64_t created_ms, const WakeMachine& m,
                             const Endpoints& at) {
  const SubscriptionConfig& c = m.config();
  std::string out = "{\"id\":";
  Str(id, &out);
  out += ",\"subscription_id\":";
  Str(id, &out);
  out += ",\"type\":\"";
  out += DeliveryTypeName(c.type);
  out += "\",\"pattern\":";
  if (c.pattern) {
    Str(*c.pattern, &out);
  } else {
    out += "null";
  }
  out += ",\"streams\":[";
  bool first = true;
  for (const auto& [path, link] : m.links()) {
    if (!first) out += ',';
    first = false;
    out += "{\"path\":";
    Str(path, &out);
    out += ",\"link_type\":\"";
    out += LinkType(link);
    out += "\",\"acked_offset\":";
    Str(link.acked, &out);
    out += '}';
  }
  out += "],\"webhook\":";
  if (c.type == DeliveryType::kWebhook) {
    out += "{\"url\":";
    Str(c.webhook_url, &out);
    out += ",\"signing\":{\"alg\":\"ed25519\",\"kid\":";
    Str(at.kid, &out);
    out += ",\"jwks_url\":";
    Str(at.jwks_url(), &out);
    out += "}}";
  } else {
    out += "null";
  }
  out += ",\"wake_stream\":";
  if (c.type == DeliveryType::kPullWake) {
    Str(c.wake_stream, &out);
  } else {
    out += "null";
  }
  out += ",\"lease_ttl_ms\":" + std::to_string(c.lease_ttl_ms);
  out += ",\"created_at\":\"" + IsoTime(created_ms) + "\"";
  out += ",\"status\":\"";
  out += m.failed() ? "failed" : "active";
  out += "\",\"description\":";
  if (c.description) {
    Str(*c.description, &out);
  } else {
    out += "null";
  }
  out += '}';
  return out;
}

std::string WakeNotificationBody(const std::string& id, const WakeMachine& m,
                                 const std::string& callback_token, const Endpoints& at) {
  std::string out = "{\"subscription_id\":";
  Str(id, &out);
  out += ",\"wake_id\":";
  Str(m.wake_id(), &out);
  out += ",\"generation\":" + std::to_string(m.generation()) + ",";
  WakeStreams(m, &out);
  out += ",\"callback_url\":";
  Str(at.action_url(id, "callback"), &out);
  out += ",\"callback_token\":";
  Str(callback_token, &out);
  out += '}';
  return out;
}

std::string WakeEventBody(const std::string& id, const std::string& stream, int64_t generation,
                          int64_t now_ms) {
  std::string out = "[{\"type\":\"wake\",\"subscription_id\":";
  Str(id, &out);
  out += ",\"stream\":";
  Str(stream, &out);
  out += ",\"generation\":" + std::to_string(generation) + ",\"ts\":" + std::to_string(now_ms);
  out += "}]";
  return out;
}

std::string ClaimBody(const WakeMachine& m, const std::string& token) {
  std::string out = "{\"wake_id\":";
  Str(m.wake_id(), &out);
  out += ",\"generation\":" + std::to_string(m.generation()) + ",\"token\":";
  Str(token, &out);
  out += ',';
  WakeStreams(m, &out);
  out += ",\"lease_ttl_ms\":" + std::to_string(m.config().lease_ttl_ms) + "}";
  return out;
}

std::optional<WakeRequest> ParseWakeRequest(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(body).get_object().get(obj)) return std::nullopt;
  WakeRequest w;
  std::string_view text;
  if (obj["wake_id"].get_string().get(text)) return std::nullopt;
  w.wake_id = std::string(text);
  if (obj["generation"].get_int64().get(w.generation)) return std::nullopt;
  simdjson::dom::element acks;
  if (!obj["acks"].get(acks)) {
    simdjson::dom::array list;
    if (acks.get_array().get(list)) return std::nullopt;
    for (simdjson::dom::element a : list) {
      std::string_view stream, offset;
      if (a["stream"].get_string().get(stream) || a["offset"].get_string().get(offset)) {
        return std::nullopt;
      }
      w.acks.push_back({std::string(stream), std::string(offset)});
    }
  }
  simdjson::dom::element done;
  if (!obj["done"].get(done) && done.get_bool().get(w.done)) return std::nullopt;
  return w;
}

}  // namespace durablestreams::subscriptions

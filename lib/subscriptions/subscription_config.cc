// lib/subscriptions/subscription_config.cc: subscription definitions
// (subscription_config.h), parsed with simdjson.
#include "subscriptions/subscription_config.h"

#include <openssl/evp.h>
#include <simdjson.h>

#include <algorithm>

#include "protocol/errors.h"
#include "protocol/path.h"
#include "subscriptions/glob.h"
#include "subscriptions/url_policy.h"

namespace durablestreams::subscriptions {

namespace {

ConfigError Invalid(std::string message) {
  return {"INVALID_REQUEST", std::move(message)};
}

// A sorted, unique list of linked paths from a JSON array.
bool StreamArray(simdjson::dom::element value, std::vector<std::string>* out, ConfigError* error) {
  simdjson::dom::array array;
  if (value.get_array().get(array)) {
    *error = Invalid("streams must be an array of stream paths");
    return false;
  }
  for (simdjson::dom::element item : array) {
    std::string_view path;
    if (item.get_string().get(path)) {
      *error = Invalid("streams must be an array of stream paths");
      return false;
    }
    if (std::string why = CheckLinkedPath(path); !why.empty()) {
      *error = Invalid("streams: " + why);
      return false;
    }
    if (out->size() == kMaxExplicitStreams) {
      *error = Invalid("streams may list at most 1000 paths");
      return false;
    }
    out->emplace_back(path);
  }
  std::sort(out->begin(), out->end());
  out->erase(std::unique(out->begin(), out->end()), out->end());
  return true;
}

// The object of a body, or an error: a body is one JSON object whose keys
// appear once each.
bool BodyObject(simdjson::dom::parser& parser, std::string_view json, simdjson::dom::object* obj,
                ConfigError* error) {
  if (parser.parse(json.data(), json.size()).get_object().get(*obj)) {
    *error = Invalid("the body must be a JSON object");
    return false;
  }
  std::vector<std::string_view> keys;
  for (auto field : *obj) keys.push_back(field.key);
  std::sort(keys.begin(), keys.end());
  if (std::adjacent_find(keys.begin(), keys.end()) != keys.end()) {
    *error = Invalid("a field appears twice");
    return false;
  }
  return true;
}

}  // namespace

std::string CheckLinkedPath(std::string_view path) {
  protocol::PathCheck check = protocol::CheckStreamPath(path);
  if (check != protocol::PathCheck::kOk) return protocol::PathCheckMessage(check);
  if (path.front() == '/') return "a stream path is relative to the stream root (no leading /)";
  return std::string();
}

const char* DeliveryTypeName(DeliveryType type) {
  return type == DeliveryType::kWebhook ? "webhook" : "pull-wake";
}

ParsedConfig ParseSubscriptionConfig(std::string_view json) {
  ParsedConfig result;
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (!BodyObject(parser, json, &obj, &result.error)) return result;
  SubscriptionConfig c;
  bool have_type = false, have_webhook = false, have_wake = false;
  for (auto field : obj) {
    std::string_view key = field.key, text;
    if (key == "type") {
      if (field.value.get_string().get(text) || (text != "webhook" && text != "pull-wake")) {
        result.error = Invalid("type must be \"webhook\" or \"pull-wake\"");
        return result;
      }
      c.type = text == "webhook" ? DeliveryType::kWebhook : DeliveryType::kPullWake;
      have_type = true;
    } else if (key == "pattern") {
      if (field.value.is_null()) continue;
      if (field.value.get_string().get(text)) {
        result.error = Invalid("pattern must be a string");
        return result;
      }
      auto glob = Glob::Parse(text);
      if (!glob.ok()) {
        result.error = Invalid("pattern: " + glob.status().message());
        return result;
      }
      if (text == "__ds" || text.substr(0, 5) == "__ds/") {
        result.error = Invalid("pattern: __ds is reserved");
        return result;
      }
      c.pattern = std::string(text);
    } else if (key == "streams") {
      if (field.value.is_null()) continue;
      if (!StreamArray(field.value, &c.streams, &result.error)) return result;
    } else if (key == "webhook") {
      if (field.value.is_null()) continue;
      simdjson::dom::object hook;
      if (field.value.get_object().get(hook) || hook["url"].get_string().get(text)) {
        result.error = Invalid("webhook must be an object with a url");
        return result;
      }
      auto target = CheckWebhookUrl(text);
      if (!target.ok()) {
        result.error = {"WEBHOOK_URL_REJECTED", target.status().message()};
        return result;
      }
      c.webhook_url = std::string(text);
      have_webhook = true;
    } else if (key == "wake_stream") {
      if (field.value.is_null()) continue;
      if (field.value.get_string().get(text)) {
        result.error = Invalid("wake_stream must be a stream path");
        return result;
      }
      if (std::string why = CheckLinkedPath(text); !why.empty()) {
        result.error = Invalid("wake_stream: " + why);
        return result;
      }
      c.wake_stream = std::string(text);
      have_wake = true;
    } else if (key == "lease_ttl_ms") {
      int64_t ms;
      if (field.value.get_int64().get(ms) || ms < kMinLeaseTtlMs || ms > kMaxLeaseTtlMs) {
        result.error = Invalid("lease_ttl_ms must be an integer from 1000 to 600000");
        return result;
      }
      c.lease_ttl_ms = ms;
    } else if (key == "description") {
      if (field.value.is_null()) continue;
      if (field.value.get_string().get(text) || text.size() > kMaxDescriptionBytes) {
        result.error = Invalid("description must be a string of at most 1024 bytes");
        return result;
      }
      c.description = std::string(text);
    }
    // Other fields are ignored, as a newer client may send them.
  }
  if (!have_type) {
    result.error = Invalid("type is required");
  } else if (!c.pattern && c.streams.empty()) {
    result.error = Invalid("a subscription needs a pattern or streams");
  } else if (c.type == DeliveryType::kWebhook && !have_webhook) {
    result.error = Invalid("a webhook subscription needs webhook.url");
  } else if (c.type == DeliveryType::kPullWake && !have_wake) {
    result.error = Invalid("a pull-wake subscription needs wake_stream");
  } else if (c.type == DeliveryType::kWebhook && have_wake) {
    result.error = Invalid("wake_stream is for pull-wake subscriptions");
  } else if (c.type == DeliveryType::kPullWake && have_webhook) {
    result.error = Invalid("webhook is for webhook subscriptions");
  } else {
    result.config = std::move(c);
  }
  return result;
}

std::optional<std::vector<std::string>> ParseStreamList(std::string_view json, ConfigError* error) {
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (!BodyObject(parser, json, &obj, error)) return std::nullopt;
  simdjson::dom::element streams;
  if (obj["streams"].get(streams)) {
    *error = Invalid("streams is required");
    return std::nullopt;
  }
  std::vector<std::string> out;
  if (!StreamArray(streams, &out, error)) return std::nullopt;
  return out;
}

std::string Canonical(const SubscriptionConfig& c) {
  std::string out = "{\"type\":\"";
  out += DeliveryTypeName(c.type);
  out += "\",\"pattern\":";
  if (c.pattern) {
    protocol::AppendJsonString(*c.pattern, &out);
  } else {
    out += "null";
  }
  out += ",\"streams\":[";
  for (size_t i = 0; i < c.streams.size(); ++i) {
    if (i) out += ',';
    protocol::AppendJsonString(c.streams[i], &out);
  }
  out += "],\"webhook\":";
  if (c.type == DeliveryType::kWebhook) {
    out += "{\"url\":";
    protocol::AppendJsonString(c.webhook_url, &out);
    out += "}";
  } else {
    out += "null";
  }
  out += ",\"wake_stream\":";
  if (c.type == DeliveryType::kPullWake) {
    protocol::AppendJsonString(c.wake_stream, &out);
  } else {
    out += "null";
  }
  out += ",\"lease_ttl_ms\":" + std::to_string(c.lease_ttl_ms) + ",\"description\":";
  if (c.description) {
    protocol::AppendJsonString(*c.description, &out);
  } else {
    out += "null";
  }
  out += "}";
  return out;
}

std::string ConfigHash(const SubscriptionConfig& c) {
  std::string text = Canonical(c);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha256(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

}  // namespace durablestreams::subscriptions

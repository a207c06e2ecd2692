// lib/storage/s3_segment_store.cc
//
// SegmentStore over the S3 REST API (path-style URLs), with libcurl for HTTP
// and AWS Signature Version 4 (sigv4.cc) for authentication. Works with AWS
// S3, Cloudflare R2 (region "auto"), MinIO and Ceph RGW: it uses only
// PutObject, GetObject (with Range), DeleteObject and ListObjectsV2.
//
// Credentials are kept in memory and sent only inside signatures; no log line
// or Status message ever contains them.
#include <curl/curl.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "durablestreams/segment_store.h"
#include "storage/sigv4.h"

namespace durablestreams {

namespace {

using storage::AmzDate;
using storage::CanonicalQuery;
using storage::Sha256Hex;
using storage::SigV4Authorization;
using storage::SigV4Request;
using storage::UriEncode;

const char kEmptySha256[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

size_t Collect(char* p, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(p, size * n);
  return size * n;
}

// The text of <tag>...</tag> at or after `from`, XML entities decoded.
bool XmlElement(const std::string& xml, const std::string& tag, size_t* from, std::string* out) {
  std::string open = "<" + tag + ">", close = "</" + tag + ">";
  size_t a = xml.find(open, *from);
  if (a == std::string::npos) return false;
  a += open.size();
  size_t b = xml.find(close, a);
  if (b == std::string::npos) return false;
  *from = b + close.size();
  out->clear();
  for (size_t i = a; i < b; ++i) {
    if (xml[i] != '&') {
      out->push_back(xml[i]);
      continue;
    }
    size_t semi = xml.find(';', i);
    if (semi == std::string::npos || semi > b) {
      out->push_back('&');
      continue;
    }
    std::string ent = xml.substr(i + 1, semi - i - 1);
    if (ent == "amp") out->push_back('&');
    else if (ent == "lt") out->push_back('<');
    else if (ent == "gt") out->push_back('>');
    else if (ent == "quot") out->push_back('"');
    else if (ent == "apos") out->push_back('\'');
    else if (ent.size() > 1 && ent[0] == '#') {
      long c = ent[1] == 'x' ? std::strtol(ent.c_str() + 2, nullptr, 16)
                             : std::strtol(ent.c_str() + 1, nullptr, 10);
      if (c > 0 && c < 0x80) out->push_back(static_cast<char>(c));
      // Keys are ASCII (segment_format.cc); nothing else is expected here.
    }
    i = semi;
  }
  return true;
}

struct Reply {
  long status = 0;
  std::string body;
};

class S3SegmentStore final : public SegmentStore {
 public:
  explicit S3SegmentStore(S3Options o) : o_(std::move(o)) {
    while (!o_.endpoint.empty() && o_.endpoint.back() == '/') o_.endpoint.pop_back();
    size_t scheme = o_.endpoint.find("://");
    host_ = o_.endpoint.substr(scheme + 3);
  }

  ~S3SegmentStore() override {
    for (CURL* c : idle_) curl_easy_cleanup(c);
  }

  Status Put(const std::string& key, std::string_view data, Deadline deadline) override {
    Reply r;
    Status s = Call("PUT", ObjectUri(key), {}, data, "", deadline, &r);
    if (!s.ok()) return s;
    if (r.status / 100 == 2) return Status::OK();
    return HttpError("put " + key, r);
  }

  Status Get(const std::string& key, uint64_t offset, uint64_t length, std::string* out,
             Deadline deadline) override {
    out->clear();
    std::string range;
    if (offset != 0 || length != kToEnd) {
      range = "bytes=" + std::to_string(offset) + "-";
      if (length != kToEnd) {
        if (length == 0) return Status::OK();
        range += std::to_string(offset + length - 1);
      }
    }
    Reply r;
    Status s = Call("GET", ObjectUri(key), {}, {}, range, deadline, &r);
    if (!s.ok()) return s;
    if (r.status == 416) return Status::OK();  // the object ends before `offset`
    if (r.status == 200 && !range.empty()) {
      // A server that ignored Range sent the whole object.
      r.body = offset >= r.body.size() ? std::string() : r.body.substr(offset, length);
    }
    if (r.status == 200 || r.status == 206) {
      *out = std::move(r.body);
      if (out->size() > length) out->resize(length);
      return Status::OK();
    }
    if (r.status == 404) return Status::NotFound("no object " + key + " in " + Describe());
    return HttpError("get " + key, r);
  }

  Status Delete(const std::string& key, Deadline deadline) override {
    Reply r;
    Status s = Call("DELETE", ObjectUri(key), {}, {}, "", deadline, &r);
    if (!s.ok()) return s;
    if (r.status / 100 == 2 || r.status == 404) return Status::OK();
    return HttpError("delete " + key, r);
  }

  Status List(const std::string& prefix, std::vector<std::string>* keys,
              Deadline deadline) override {
    std::string token;
    for (;;) {
      std::vector<std::pair<std::string, std::string>> q = {{"list-type", "2"},
                                                             {"prefix", o_.prefix + prefix}};
      if (!token.empty()) q.emplace_back("continuation-token", token);
      Reply r;
      Status s = Call("GET", "/" + UriEncode(o_.bucket, false), q, {}, "", deadline, &r);
      if (!s.ok()) return s;
      if (r.status != 200) return HttpError("list " + prefix, r);
      std::string key;
      size_t at = 0;
      while (XmlElement(r.body, "Key", &at, &key)) {
        if (key.compare(0, o_.prefix.size(), o_.prefix) == 0) {
          keys->push_back(key.substr(o_.prefix.size()));
        }
      }
      std::string truncated;
      at = 0;
      if (!XmlElement(r.body, "IsTruncated", &at, &truncated) || truncated != "true") break;
      at = 0;
      if (!XmlElement(r.body, "NextContinuationToken", &at, &token) || token.empty()) {
        return Status::IOError("list " + prefix + ": truncated listing without a token");
      }
    }
    return Status::OK();
  }

  std::string Describe() const override {
    return "s3://" + o_.bucket + "/" + o_.prefix + " at " + o_.endpoint;
  }

 private:
  std::string ObjectUri(const std::string& key) const {
    return "/" + UriEncode(o_.bucket, false) + "/" + UriEncode(o_.prefix + key, true);
  }

  Status HttpError(const std::string& what, const Reply& r) const {
    std::string code, message;
    size_t at = 0;
    XmlElement(r.body, "Code", &at, &code);
    at = 0;
    XmlElement(r.body, "Message", &at, &message);
    std::string msg = what + " in " + Describe() + ": HTTP " + std::to_string(r.status);
    if (!code.empty()) msg += " " + code;
    if (!message.empty()) msg += " (" + message + ")";
    if (r.status == 429 || r.status >= 500 || code == "SlowDown" || code == "RequestTimeout") {
      return Status::Unavailable(msg);
    }
    if (r.status == 404) return Status::NotFound(msg);
    return Status::IOError(msg);
  }

  // One request with retries of transient failures while time remains.
  Status Call(const std::string& method, const std::string& uri,
              const std::vector<std::pair<std::string, std::string>>& query,
              std::string_view body, const std::string& range, Deadline deadline, Reply* reply) {
    Deadline cap = std::min(deadline, std::chrono::steady_clock::now() + o_.timeout);
    std::chrono::milliseconds backoff(50);
    for (int attempt = 0;; ++attempt) {
      Status s = Once(method, uri, query, body, range, cap, reply);
      bool transient = !s.ok() ? IsRetryable(s)
                               : (reply->status >= 500 || reply->status == 429);
      if (!transient || attempt == 2 || std::chrono::steady_clock::now() + backoff >= cap) {
        return s;
      }
      std::this_thread::sleep_for(backoff);
      backoff *= 4;
    }
  }

  Status Once(const std::string& method, const std::string& uri,
              const std::vector<std::pair<std::string, std::string>>& query,
              std::string_view body, const std::string& range, Deadline deadline, Reply* reply) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Status::Unavailable(method + " " + Describe() + ": deadline passed");

    SigV4Request sr;
    sr.method = method;
    sr.canonical_uri = uri;
    sr.query = query;
    sr.payload_sha256 = body.empty() ? kEmptySha256 : Sha256Hex(body);
    sr.amz_date = AmzDate(std::chrono::system_clock::now());
    sr.region = o_.region;
    sr.access_key_id = o_.access_key_id;
    sr.secret_access_key = o_.secret_access_key;
    sr.headers = {{"host", host_},
                  {"x-amz-content-sha256", sr.payload_sha256},
                  {"x-amz-date", sr.amz_date}};
    if (!o_.session_token.empty()) sr.headers.emplace_back("x-amz-security-token", o_.session_token);
    std::string auth = SigV4Authorization(sr);

    struct curl_slist* h = nullptr;
    for (const auto& [name, value] : sr.headers) h = curl_slist_append(h, (name + ": " + value).c_str());
    h = curl_slist_append(h, ("Authorization: " + auth).c_str());
    h = curl_slist_append(h, "Expect:");
    if (!range.empty()) h = curl_slist_append(h, ("Range: " + range).c_str());
    if (method == "PUT") h = curl_slist_append(h, "Content-Type: application/octet-stream");

    std::string url = o_.endpoint + uri;
    std::string q = CanonicalQuery(query);
    if (!q.empty()) url += "?" + q;

    CURL* c = Acquire();
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(left.count()));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min<int64_t>(left.count(), 10000)));
    reply->body.clear();
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply->body);
    if (method == "PUT") {
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    } else if (method == "DELETE") {
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
    } else {
      curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(h);
    Status s;
    if (rc != CURLE_OK) {
      s = Status::Unavailable(method + " " + Describe() + ": " + curl_easy_strerror(rc));
    } else {
      curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply->status);
    }
    Release(c);
    return s;
  }

  CURL* Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        CURL* c = idle_.back();
        idle_.pop_back();
        return c;
      }
    }
    return curl_easy_init();
  }

  void Release(CURL* c) {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < 16) {
      idle_.push_back(c);
    } else {
      curl_easy_cleanup(c);
    }
  }

  S3Options o_;
  std::string host_;  // host[:port] of the endpoint, as signed and sent
  std::mutex mu_;
  std::vector<CURL*> idle_;  // guarded by mu_: handles kept for connection reuse
};

}  // namespace

Status S3CredentialsFromEnvironment(S3Options* options) {
  const char* id = std::getenv("DS_S3_ACCESS_KEY_ID");
  const char* secret = std::getenv("DS_S3_SECRET_ACCESS_KEY");
  const char* token = std::getenv("DS_S3_SESSION_TOKEN");
  if (!id || !*id || !secret || !*secret) {
    return Status::InvalidArgument(
        "the S3 segment store needs DS_S3_ACCESS_KEY_ID and DS_S3_SECRET_ACCESS_KEY");
  }
  options->access_key_id = id;
  options->secret_access_key = secret;
  options->session_token = token ? token : "";
  return Status::OK();
}

Result<std::shared_ptr<SegmentStore>> OpenS3SegmentStore(const S3Options& options) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  size_t scheme = options.endpoint.find("://");
  if (scheme == std::string::npos ||
      (options.endpoint.compare(0, scheme, "http") != 0 &&
       options.endpoint.compare(0, scheme, "https") != 0) ||
      options.endpoint.size() == scheme + 3) {
    return Status::InvalidArgument("S3 endpoint must be an http:// or https:// URL, not \"" +
                                   options.endpoint + "\"");
  }
  if (options.endpoint.find('/', scheme + 3) != std::string::npos &&
      options.endpoint.find_first_not_of('/', options.endpoint.find('/', scheme + 3)) !=
          std::string::npos) {
    return Status::InvalidArgument("S3 endpoint must not have a path (buckets are addressed "
                                   "path-style): \"" + options.endpoint + "\"");
  }
  if (options.bucket.empty()) return Status::InvalidArgument("S3 bucket is empty");
  if (options.region.empty()) return Status::InvalidArgument("S3 region is empty");
  if (options.access_key_id.empty() || options.secret_access_key.empty()) {
    return Status::InvalidArgument("S3 credentials are missing");
  }
  return std::shared_ptr<SegmentStore>(std::make_shared<S3SegmentStore>(options));
}

}  // namespace durablestreams

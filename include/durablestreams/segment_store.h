// include/durablestreams/segment_store.h
//
// SegmentStore is the cold tier: a flat namespace of immutable objects
// (sealed stream segments) in a local directory or an S3-compatible bucket.
// The SQLite hot log moves sealed history there (see docs/format.md) and
// reads it back; appends never wait for it.
//
// Thread safety: every method may be called from many threads at once.
// Ownership: stores are shared (std::shared_ptr); the hot log keeps one for
// its whole life.
//
// Errors say whether a retry can help: kUnavailable (network failure,
// timeout, 5xx, throttling) may succeed later; kNotFound, kInvalidArgument
// and kIOError (refused credentials, a local file error) will not by
// themselves. Keys are made by the library: printable ASCII, '/'-separated,
// no empty, "." or ".." components.
#ifndef DURABLESTREAMS_SEGMENT_STORE_H_
#define DURABLESTREAMS_SEGMENT_STORE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "durablestreams/status.h"

namespace durablestreams {

// The latest time an operation may finish; a store gives up with
// kUnavailable after it.
using Deadline = std::chrono::steady_clock::time_point;

// One object of a PutMany().
struct SegmentObject {
  std::string key;
  std::string_view data;
};

class SegmentStore {
 public:
  virtual ~SegmentStore() = default;

  // Stores `data` under `key`, replacing any object there. When it returns
  // OK the object is durable and a Get of it returns exactly `data`.
  virtual Status Put(const std::string& key, std::string_view data, Deadline deadline) = 0;

  // Put() of each object; when it returns OK all are durable. On an error
  // some may be stored and others not. A store may do better than one Put
  // after another (the directory store syncs once for all of them); this
  // default does just that.
  virtual Status PutMany(const std::vector<SegmentObject>& objects, Deadline deadline) {
    for (const SegmentObject& o : objects) {
      Status s = Put(o.key, o.data, deadline);
      if (!s.ok()) return s;
    }
    return Status::OK();
  }

  // Reads `length` bytes of `key` from byte `offset` into *out (replacing
  // its contents). Fewer bytes come back when the object ends first;
  // kNotFound when there is no such object.
  static constexpr uint64_t kToEnd = UINT64_MAX;
  virtual Status Get(const std::string& key, uint64_t offset, uint64_t length, std::string* out,
                     Deadline deadline) = 0;

  // Removes `key`. Removing an absent object is OK.
  virtual Status Delete(const std::string& key, Deadline deadline) = 0;

  // Appends to *keys every key that starts with `prefix`, in no set order.
  virtual Status List(const std::string& prefix, std::vector<std::string>* keys,
                      Deadline deadline) = 0;

  // For logs and errors: "dir:/var/lib/ds/segments" or "s3://bucket/prefix".
  // Never contains credentials.
  virtual std::string Describe() const = 0;
};

// True for errors a later retry may cure.
inline bool IsRetryable(const Status& s) { return s.code() == StatusCode::kUnavailable; }

// A store in a local directory (created if missing). Objects are files
// written to a temporary name, fsynced and renamed, so a crash never leaves
// a partial object under its key.
Result<std::shared_ptr<SegmentStore>> OpenDirectorySegmentStore(const std::string& dir);

struct S3Options {
  // "https://<account>.r2.cloudflarestorage.com", "https://s3.us-east-1.amazonaws.com",
  // "http://127.0.0.1:9000" (MinIO). Requests use path-style addressing:
  // <endpoint>/<bucket>/<key>.
  std::string endpoint;
  std::string region = "us-east-1";  // R2 uses "auto"
  std::string bucket;
  std::string prefix;  // prepended to every key, e.g. "streams/" ("" for none)
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary credentials; "" for none
  // Per-operation cap, on top of the caller's deadline.
  std::chrono::milliseconds timeout{30000};
};

// Fills the credentials of *options from DS_S3_ACCESS_KEY_ID,
// DS_S3_SECRET_ACCESS_KEY and (optionally) DS_S3_SESSION_TOKEN. Fails with
// kInvalidArgument when the first two are not both set.
Status S3CredentialsFromEnvironment(S3Options* options);

// An S3-compatible store (AWS S3, Cloudflare R2, MinIO, Ceph RGW) over
// libcurl, with requests signed by AWS Signature Version 4. Opening checks
// the options but does not contact the endpoint.
Result<std::shared_ptr<SegmentStore>> OpenS3SegmentStore(const S3Options& options);

}  // namespace durablestreams

#endif  // DURABLESTREAMS_SEGMENT_STORE_H_

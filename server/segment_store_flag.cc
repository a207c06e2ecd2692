// server/segment_store_flag.cc: OpenSegmentStoreFlag (segment_store_flag.h).
#include "segment_store_flag.h"

namespace durablestreams::server {

Result<std::shared_ptr<SegmentStore>> OpenSegmentStoreFlag(const std::string& spec,
                                                            S3Options s3) {
  if (spec.rfind("dir:", 0) == 0 && spec.size() > 4) return OpenDirectorySegmentStore(spec.substr(4));
  if (spec.rfind("s3://", 0) != 0 || spec.size() <= 5) {
    return Status::InvalidArgument(
        "bad value for --segment-store: want dir:PATH, s3://BUCKET/PREFIX or none");
  }
  std::string rest = spec.substr(5);
  size_t slash = rest.find('/');
  s3.bucket = rest.substr(0, slash);
  if (slash != std::string::npos) {
    s3.prefix = rest.substr(slash + 1);
    if (!s3.prefix.empty() && s3.prefix.back() != '/') s3.prefix += '/';
  }
  if (s3.endpoint.empty()) {
    return Status::InvalidArgument("--segment-store s3://... needs --s3-endpoint");
  }
  Status st = S3CredentialsFromEnvironment(&s3);
  if (!st.ok()) return st;
  return OpenS3SegmentStore(s3);
}

}  // namespace durablestreams::server

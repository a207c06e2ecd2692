// server/segment_store_flag.h: the segment store a --segment-store value
// names, for the server and its `stream` subcommands.
//
// Thread safety: a plain function.
#ifndef DURABLESTREAMS_SERVER_SEGMENT_STORE_FLAG_H_
#define DURABLESTREAMS_SERVER_SEGMENT_STORE_FLAG_H_

#include <memory>
#include <string>

#include "durablestreams/segment_store.h"
#include "durablestreams/status.h"

namespace durablestreams::server {

// "dir:PATH" or "s3://BUCKET/PREFIX" (with s3.endpoint and s3.region set
// from --s3-endpoint and --s3-region; the credentials come from the
// environment). kInvalidArgument, with a message for the command line, for
// anything else, "none" included.
Result<std::shared_ptr<SegmentStore>> OpenSegmentStoreFlag(const std::string& spec,
                                                            S3Options s3);

}  // namespace durablestreams::server

#endif  // DURABLESTREAMS_SERVER_SEGMENT_STORE_FLAG_H_

// server/stream_cli.cc: the `stream` subcommands (cli.h), which move a stream
// between cluster nodes through their shared segment store
// (stream_transfer.h; docs/operations.md, "Moving a stream"):
//
//   durable-streams-server stream export PATH --data-dir DIR [--node NAME]
//                          --segment-store STORE [--s3-endpoint URL] [--s3-region R]
//   durable-streams-server stream adopt PATH ...the same options
//   durable-streams-server stream owner PATH --nodes NAME=ADDRESS,...
//                          the node that owns PATH in that ring (node_ring.h)
//
// PATH is the stream's path below the stream root (PROJECT/STREAM under
// project auth), as in the URL but percent-decoded. The node must be
// stopped. --node is the node's name (its segment keys carry it).
#include <cstdio>
#include <string>
#include <string_view>

#include "cli.h"
#include "durablestreams/node_ring.h"
#include "durablestreams/stream_transfer.h"
#include "segment_store_flag.h"

namespace durablestreams::cli {

int RunStream(int argc, char** argv) {
  auto usage = [](const std::string& why) {
    std::fprintf(stderr,
                 "durable-streams-server: %s\n"
                 "usage: durable-streams-server stream export|adopt PATH --data-dir DIR\n"
                 "         [--node NAME] [--segment-store STORE] [--s3-endpoint URL]"
                 " [--s3-region R]\n"
                 "       durable-streams-server stream owner PATH --nodes NAME=ADDRESS,...\n",
                 why.c_str());
    return 2;
  };
  std::string verb, path, data_dir = "./data", node, store_spec, nodes;
  S3Options s3;
  for (int i = 2; i < argc; ++i) {
    std::string_view a = argv[i];
    std::string* target = nullptr;
    if (a == "--data-dir") {
      target = &data_dir;
    } else if (a == "--node") {
      target = &node;
    } else if (a == "--nodes") {
      target = &nodes;
    } else if (a == "--segment-store") {
      target = &store_spec;
    } else if (a == "--s3-endpoint") {
      target = &s3.endpoint;
    } else if (a == "--s3-region") {
      target = &s3.region;
    } else if (a.size() > 1 && a[0] == '-') {
      return usage("unknown option " + std::string(a));
    } else if (verb.empty()) {
      verb = a;
      continue;
    } else if (path.empty()) {
      path = a;
      continue;
    } else {
      return usage("too many arguments");
    }
    if (i + 1 >= argc) return usage(std::string(a) + " needs a value");
    *target = argv[++i];
  }
  if (verb != "export" && verb != "adopt" && verb != "owner") {
    return usage("stream needs export, adopt or owner");
  }
  if (path.empty()) return usage("stream " + verb + " needs the stream's path");
  if (verb == "owner") {
    auto list = NodeRing::Parse(nodes);
    if (!list.ok() || list->empty()) return usage("stream owner needs --nodes NAME=ADDRESS,...");
    auto ring = NodeRing::Make(*list, (*list)[0].name);
    if (!ring.ok()) return usage(ring.status().message());
    std::printf("%s\n", ring->OwnerOf(path).name.c_str());
    return 0;
  }
  if (store_spec.empty()) store_spec = "dir:" + data_dir + "/segments";
  auto store = server::OpenSegmentStoreFlag(store_spec, s3);
  if (!store.ok()) return usage(store.status().message());
  TransferOptions options;
  options.db_path = data_dir + "/streams.db";
  options.store = *store;
  options.segment_key_tag = node;
  Result<TransferSummary> done =
      verb == "export" ? ExportStream(options, path) : AdoptStream(options, path);
  if (!done.ok()) {
    std::fprintf(stderr, "durable-streams-server: stream %s %s: %s\n", verb.c_str(), path.c_str(),
                 done.status().ToString().c_str());
    return 1;
  }
  std::printf("%s %s: next offset at position %llu, %zu segments, %zu producers; manifest %s\n",
              verb == "export" ? "exported" : "adopted", path.c_str(),
              static_cast<unsigned long long>(done->tail), done->segments, done->producers,
              done->manifest_key.c_str());
  return 0;
}

}  // namespace durablestreams::cli

// include/durablestreams/node_ring.h
//
// NodeRing: which node of a cluster owns a stream. Several servers behind
// nginx each own the streams that nginx's `hash $key consistent` sends them
// (docs/operations.md, "A cluster behind nginx"); a server that knows the
// ring refuses requests for streams it does not own, so a misrouted write
// can never start a second history of a stream on another node.
//
// The ring is the one nginx builds (ngx_http_upstream_hash_module,
// consistent mode, every server of weight 1): for each node, 160 points,
// the first CRC-32 (IEEE) of "HOST\0PORT" followed by four zero bytes, each
// next one of "HOST\0PORT" followed by the previous point (little-endian),
// where HOST and PORT split the node's address at its last ':' when only
// digits follow it. A key belongs to the node of the first point at or
// above CRC-32(key), wrapping past the last point to the first. Of two
// nodes' equal points the one listed first is kept (nginx leaves that case
// to its sort; for three nodes it arises in about one ring in 40,000). The key is a stream's path below
// the stream root, percent-decoded: `chat/42` for /v1/stream/chat/42, and
// `PROJECT/STREAM` under project auth, so a project's streams spread too.
//
// Thread safety: immutable after Make(); share it freely.
// Ownership: plain value.
#ifndef DURABLESTREAMS_NODE_RING_H_
#define DURABLESTREAMS_NODE_RING_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "durablestreams/status.h"

namespace durablestreams {

struct ClusterNode {
  std::string name;     // shown in 421 answers and logs: [A-Za-z0-9_-], 1 to 32 bytes
  std::string address;  // exactly as in nginx's `server` line, e.g. "10.0.0.5:4437"
};

class NodeRing {
 public:
  // `self` must be the name of one of `nodes`; names and addresses must be
  // distinct and there must be at least one node.
  static Result<NodeRing> Make(std::vector<ClusterNode> nodes, std::string_view self);

  // Parses "NAME=ADDRESS,NAME=ADDRESS,..." (the server's --nodes).
  static Result<std::vector<ClusterNode>> Parse(std::string_view list);

  // The node that owns `key`.
  const ClusterNode& OwnerOf(std::string_view key) const;
  bool Owns(std::string_view key) const { return &OwnerOf(key) == &nodes_[self_]; }

  const ClusterNode& self() const { return nodes_[self_]; }
  const std::vector<ClusterNode>& nodes() const { return nodes_; }

  // CRC-32 with the IEEE polynomial (as zlib and nginx compute it).
  static uint32_t Crc32(std::string_view data, uint32_t crc = 0);

 private:
  struct Point {
    uint32_t hash;
    size_t node;
  };
  NodeRing() = default;

  std::vector<ClusterNode> nodes_;
  std::vector<Point> points_;  // sorted by hash, no two equal
  size_t self_ = 0;
};

}  // namespace durablestreams

#endif  // DURABLESTREAMS_NODE_RING_H_

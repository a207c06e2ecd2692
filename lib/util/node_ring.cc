// lib/util/node_ring.cc: nginx's consistent-hash ring (node_ring.h).
#include "durablestreams/node_ring.h"

#include <algorithm>
#include <array>

namespace durablestreams {

namespace {

constexpr int kPointsPerNode = 160;  // nginx: weight * 160, weight 1

std::array<uint32_t, 256> MakeTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}

// The running (not yet inverted) CRC over `data`, as ngx_crc32_update.
uint32_t Update(uint32_t running, std::string_view data) {
  static const std::array<uint32_t, 256> table = MakeTable();
  for (unsigned char ch : data) running = table[(running ^ ch) & 0xFF] ^ (running >> 8);
  return running;
}

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
  });
}

// The base hash nginx starts a node's points from: CRC of HOST "\0" PORT,
// still running.
uint32_t BaseHash(std::string_view address) {
  std::string_view host = address, port;
  size_t colon = address.rfind(':');
  if (address.substr(0, 5) == "unix:") {
    host = address.substr(5);
  } else if (colon != std::string_view::npos &&
             std::all_of(address.begin() + colon + 1, address.end(),
                         [](char c) { return c >= '0' && c <= '9'; })) {
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
  }
  uint32_t running = Update(0xFFFFFFFFu, host);
  running = Update(running, std::string_view("\0", 1));
  return Update(running, port);
}

}  // namespace

uint32_t NodeRing::Crc32(std::string_view data, uint32_t crc) {
  return Update(crc ^ 0xFFFFFFFFu, data) ^ 0xFFFFFFFFu;
}

Result<std::vector<ClusterNode>> NodeRing::Parse(std::string_view list) {
  std::vector<ClusterNode> nodes;
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == item.size()) {
      return Status::InvalidArgument("a node is NAME=ADDRESS, not \"" + std::string(item) + "\"");
    }
    nodes.push_back({std::string(item.substr(0, eq)), std::string(item.substr(eq + 1))});
  }
  return nodes;
}

Result<NodeRing> NodeRing::Make(std::vector<ClusterNode> nodes, std::string_view self) {
  if (nodes.empty()) return Status::InvalidArgument("a ring needs at least one node");
  NodeRing ring;
  bool found = false;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!ValidName(nodes[i].name)) {
      return Status::InvalidArgument("node name \"" + nodes[i].name +
                                     "\": 1 to 32 of A-Z a-z 0-9 - _");
    }
    if (nodes[i].address.empty()) {
      return Status::InvalidArgument("node " + nodes[i].name + " has no address");
    }
    for (size_t j = 0; j < i; ++j) {
      if (nodes[j].name == nodes[i].name || nodes[j].address == nodes[i].address) {
        return Status::InvalidArgument("nodes " + nodes[j].name + " and " + nodes[i].name +
                                       " repeat a name or an address");
      }
    }
    if (nodes[i].name == self) {
      ring.self_ = i;
      found = true;
    }
  }
  if (!found) return Status::InvalidArgument("node \"" + std::string(self) + "\" is not in the list");
  for (size_t i = 0; i < nodes.size(); ++i) {
    uint32_t base = BaseHash(nodes[i].address);
    uint32_t prev = 0;
    for (int k = 0; k < kPointsPerNode; ++k) {
      char bytes[4] = {static_cast<char>(prev & 0xFF), static_cast<char>((prev >> 8) & 0xFF),
                       static_cast<char>((prev >> 16) & 0xFF),
                       static_cast<char>((prev >> 24) & 0xFF)};
      uint32_t hash = Update(base, std::string_view(bytes, 4)) ^ 0xFFFFFFFFu;
      ring.points_.push_back({hash, i});
      prev = hash;
    }
  }
  std::stable_sort(ring.points_.begin(), ring.points_.end(),
                   [](const Point& a, const Point& b) { return a.hash < b.hash; });
  ring.points_.erase(std::unique(ring.points_.begin(), ring.points_.end(),
                                 [](const Point& a, const Point& b) { return a.hash == b.hash; }),
                     ring.points_.end());
  ring.nodes_ = std::move(nodes);
  return ring;
}

const ClusterNode& NodeRing::OwnerOf(std::string_view key) const {
  uint32_t hash = Crc32(key);
  auto it = std::lower_bound(points_.begin(), points_.end(), hash,
                             [](const Point& p, uint32_t h) { return p.hash < h; });
  if (it == points_.end()) it = points_.begin();
  return nodes_[it->node];
}

}  // namespace durablestreams

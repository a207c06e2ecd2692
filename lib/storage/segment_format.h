// lib/storage/segment_format.h
//
// The byte format of a sealed segment and the keys segments are stored
// under. docs/format.md describes both for readers outside this library;
// keep the two in step.
//
// A segment holds consecutive messages of one stream, [start, end):
//
//   header   24 B  "DSSEG01\n" | start u64 | flags u32 (0) | crc u32
//   frames         per message: length u32 | flags u8 | crc u32 | data
//   index          (position u64 | object offset u64) per entry
//   trailer  40 B  end u64 | frame count u64 | index offset u64 |
//                  index crc u32 | trailer crc u32 | "DSSEGEND"
//
// Integers are little-endian. Checksums are CRC-32C: the header's over its
// first 20 bytes, a frame's over its flags byte and data, the index's over
// all its entries, the trailer's over its first 28 bytes. Frame flags bit 0
// marks the last message of an append. The index has an entry for the first
// frame and for the first frame starting at least kIndexSpacing object bytes
// after the previous entry, so a reader can fetch a byte range of a large
// segment instead of all of it.
#ifndef DURABLESTREAMS_STORAGE_SEGMENT_FORMAT_H_
#define DURABLESTREAMS_STORAGE_SEGMENT_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "durablestreams/status.h"
#include "durablestreams/storage.h"

namespace durablestreams::storage {

constexpr size_t kSegmentHeaderSize = 24;
constexpr size_t kFrameHeaderSize = 9;
constexpr size_t kSegmentTrailerSize = 40;
constexpr size_t kIndexEntrySize = 16;
constexpr uint64_t kIndexSpacing = 64 * 1024;

// Encodes `messages` (consecutive, non-empty, starting at messages[0].start)
// as one segment.
std::string EncodeSegment(const std::vector<StoredMessage>& messages);

struct SegmentIndexEntry {
  uint64_t position = 0;  // stream position of the frame's first byte
  uint64_t offset = 0;    // object offset of the frame header
};

struct SegmentLayout {
  uint64_t start = 0;
  uint64_t end = 0;
  uint64_t frames = 0;
  uint64_t index_offset = 0;  // where frames stop
  std::vector<SegmentIndexEntry> index;
};

// Decodes and checks a whole segment object: header, every frame, index and
// trailer, and that it covers exactly [start, end). Appends its messages to
// *out. Any mismatch (truncation, a flipped bit, another object) is
// kCorruption.
Status DecodeSegment(std::string_view object, uint64_t start, uint64_t end,
                     std::vector<StoredMessage>* out);

// Reads the index and trailer from `tail`, the last tail.size() bytes of an
// object of `object_size` bytes. When `tail` does not reach back to the
// index, sets *need to the number of trailing bytes required and returns OK
// with layout->index empty.
Status DecodeSegmentLayout(std::string_view tail, uint64_t object_size, uint64_t start,
                           uint64_t end, SegmentLayout* layout, uint64_t* need);

// Decodes the frames in `bytes`, which must start at a frame boundary whose
// stream position is `position` and hold whole frames only. Appends them to
// *out and returns kCorruption on any damage.
Status DecodeFrames(std::string_view bytes, uint64_t position, std::vector<StoredMessage>* out);

// The key of the segment of stream `stream_id` (path `path`) that starts at
// `start`, under `SegmentKeyPrefix`. The path is percent-encoded (every byte
// outside [A-Za-z0-9._~-], '/' included) and cut to 180 bytes; the id keeps
// keys of streams that share a path (deleted and re-created) apart. A
// `tag` (SqliteStorageOptions::segment_key_tag, a cluster node's name) is
// added to the id, "<id>.<tag>", so nodes sharing a store never write under
// one prefix.
std::string SegmentKeyPrefix(std::string_view path, int64_t stream_id, std::string_view tag = {});
std::string SegmentKey(std::string_view path, int64_t stream_id, uint64_t start,
                       std::string_view tag = {});

}  // namespace durablestreams::storage

#endif  // DURABLESTREAMS_STORAGE_SEGMENT_FORMAT_H_

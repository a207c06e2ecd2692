// lib/storage/segment_format.cc
#include "storage/segment_format.h"

#include <cstdio>
#include <cstring>

#include "storage/crc32c.h"

namespace durablestreams::storage {

namespace {

constexpr char kHeaderMagic[8] = {'D', 'S', 'S', 'E', 'G', '0', '1', '\n'};
constexpr char kTrailerMagic[8] = {'D', 'S', 'S', 'E', 'G', 'E', 'N', 'D'};

void Put32(std::string* out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 4);
}
void Put64(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 8);
}
uint32_t Get32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
uint64_t Get64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

Status Bad(const std::string& what) { return Status::Corruption("segment: " + what); }

}  // namespace

std::string EncodeSegment(const std::vector<StoredMessage>& messages) {
  size_t total = kSegmentHeaderSize + kSegmentTrailerSize;
  for (const StoredMessage& m : messages) total += kFrameHeaderSize + m.data.size();
  std::string out;
  out.reserve(total + kIndexEntrySize * (total / kIndexSpacing + 1));
  uint64_t start = messages.empty() ? 0 : messages.front().start;
  out.append(kHeaderMagic, 8);
  Put64(&out, start);
  Put32(&out, 0);
  Put32(&out, Crc32c(0, out.data(), 20));

  std::vector<SegmentIndexEntry> index;
  uint64_t position = start;
  for (const StoredMessage& m : messages) {
    if (index.empty() || out.size() - index.back().offset >= kIndexSpacing) {
      index.push_back({position, out.size()});
    }
    char flags = m.last_in_append ? 1 : 0;
    Put32(&out, static_cast<uint32_t>(m.data.size()));
    out.push_back(flags);
    uint32_t crc = Crc32c(0, &flags, 1);
    Put32(&out, Crc32c(crc, m.data.data(), m.data.size()));
    out.append(m.data);
    position += m.data.size();
  }
  uint64_t index_offset = out.size();
  for (const SegmentIndexEntry& e : index) {
    Put64(&out, e.position);
    Put64(&out, e.offset);
  }
  uint32_t index_crc = Crc32c(0, out.data() + index_offset, out.size() - index_offset);
  size_t trailer = out.size();
  Put64(&out, position);
  Put64(&out, messages.size());
  Put64(&out, index_offset);
  Put32(&out, index_crc);
  Put32(&out, Crc32c(0, out.data() + trailer, 28));
  out.append(kTrailerMagic, 8);
  return out;
}

Status DecodeFrames(std::string_view bytes, uint64_t position, std::vector<StoredMessage>* out) {
  size_t at = 0;
  while (at < bytes.size()) {
    if (bytes.size() - at < kFrameHeaderSize) return Bad("frame header cut short");
    const char* p = bytes.data() + at;
    uint32_t len = Get32(p);
    char flags = p[4];
    uint32_t crc = Get32(p + 5);
    if (len == 0) return Bad("empty frame");
    if (bytes.size() - at - kFrameHeaderSize < len) return Bad("frame data cut short");
    if ((flags & ~1) != 0) return Bad("unknown frame flags");
    const char* data = p + kFrameHeaderSize;
    if (Crc32c(Crc32c(0, &flags, 1), data, len) != crc) return Bad("frame checksum mismatch");
    StoredMessage m;
    m.start = position;
    m.end = position + len;
    m.data.assign(data, len);
    m.last_in_append = (flags & 1) != 0;
    out->push_back(std::move(m));
    position += len;
    at += kFrameHeaderSize + len;
  }
  return Status::OK();
}

Status DecodeSegmentLayout(std::string_view tail, uint64_t object_size, uint64_t start,
                           uint64_t end, SegmentLayout* layout, uint64_t* need) {
  *need = 0;
  layout->index.clear();
  if (object_size < kSegmentHeaderSize + kSegmentTrailerSize || tail.size() > object_size ||
      tail.size() < kSegmentTrailerSize) {
    return Bad("object too small");
  }
  const char* t = tail.data() + tail.size() - kSegmentTrailerSize;
  if (std::memcmp(t + 32, kTrailerMagic, 8) != 0) return Bad("no trailer");
  if (Crc32c(0, t, 28) != Get32(t + 28)) return Bad("trailer checksum mismatch");
  layout->start = start;
  layout->end = Get64(t);
  layout->frames = Get64(t + 8);
  layout->index_offset = Get64(t + 16);
  if (layout->end != end) return Bad("segment covers another range");
  uint64_t index_end = object_size - kSegmentTrailerSize;
  if (layout->index_offset < kSegmentHeaderSize || layout->index_offset > index_end ||
      (index_end - layout->index_offset) % kIndexEntrySize != 0) {
    return Bad("index out of bounds");
  }
  uint64_t needed = object_size - layout->index_offset;
  if (tail.size() < needed) {
    *need = needed;
    return Status::OK();
  }
  const char* idx = tail.data() + (tail.size() - needed);
  size_t idx_len = index_end - layout->index_offset;
  if (Crc32c(0, idx, idx_len) != Get32(t + 24)) return Bad("index checksum mismatch");
  uint64_t prev_pos = start, prev_off = 0;
  for (size_t i = 0; i < idx_len; i += kIndexEntrySize) {
    SegmentIndexEntry e{Get64(idx + i), Get64(idx + i + 8)};
    bool first = i == 0;
    if ((first && (e.position != start || e.offset != kSegmentHeaderSize)) ||
        (!first && (e.position <= prev_pos || e.offset <= prev_off)) || e.position >= end ||
        e.offset >= layout->index_offset) {
      return Bad("index entries out of order");
    }
    prev_pos = e.position;
    prev_off = e.offset;
    layout->index.push_back(e);
  }
  if (layout->index.empty() && start != end) return Bad("empty index");
  return Status::OK();
}

Status DecodeSegment(std::string_view object, uint64_t start, uint64_t end,
                     std::vector<StoredMessage>* out) {
  if (object.size() < kSegmentHeaderSize + kSegmentTrailerSize) return Bad("object too small");
  const char* h = object.data();
  if (std::memcmp(h, kHeaderMagic, 8) != 0) return Bad("no header");
  if (Crc32c(0, h, 20) != Get32(h + 20)) return Bad("header checksum mismatch");
  if (Get64(h + 8) != start) return Bad("segment starts elsewhere");
  if (Get32(h + 16) != 0) return Bad("unknown header flags");
  SegmentLayout layout;
  uint64_t need = 0;
  Status s = DecodeSegmentLayout(object, object.size(), start, end, &layout, &need);
  if (!s.ok()) return s;
  size_t before = out->size();
  s = DecodeFrames(object.substr(kSegmentHeaderSize, layout.index_offset - kSegmentHeaderSize),
                   start, out);
  if (!s.ok()) {
    out->resize(before);
    return s;
  }
  uint64_t got_end = out->size() > before ? out->back().end : start;
  if (got_end != end || out->size() - before != layout.frames) {
    out->resize(before);
    return Bad("frames do not cover the segment");
  }
  return Status::OK();
}

std::string SegmentKeyPrefix(std::string_view path, int64_t stream_id, std::string_view tag) {
  static const char* const kHex = "0123456789ABCDEF";
  std::string enc;
  for (unsigned char c : path) {
    bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '_' || c == '~' || (c == '.' && !enc.empty());
    size_t add = plain ? 1 : 3;
    if (enc.size() + add > 180) break;
    if (plain) {
      enc.push_back(static_cast<char>(c));
    } else {
      enc.push_back('%');
      enc.push_back(kHex[c >> 4]);
      enc.push_back(kHex[c & 15]);
    }
  }
  if (enc.empty()) enc = "%";  // unreachable for valid paths; keeps the key well-formed
  std::string id = std::to_string(stream_id);
  if (!tag.empty()) id += "." + std::string(tag);
  return "streams/" + enc + "/" + id + "/";
}

std::string SegmentKey(std::string_view path, int64_t stream_id, uint64_t start,
                       std::string_view tag) {
  char name[40];
  std::snprintf(name, sizeof name, "%020llu.dsseg", static_cast<unsigned long long>(start));
  return SegmentKeyPrefix(path, stream_id, tag) + name;
}

}  // namespace durablestreams::storage

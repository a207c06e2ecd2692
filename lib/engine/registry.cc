// lib/engine/registry.cc: the registry (Options::registry_path,
// docs/registry.md). Each create and delete of a stream appends one JSON
// message to its registry stream in the same batch, so the registry and
// the streams commit together: a reader of the registry never misses a
// stream nor sees one that is not there.
//
//   {"type":"stream","key":"chat/1","value":{"path":"chat/1",
//    "contentType":"text/plain","createdAt":1796635115090},
//    "headers":{"operation":"insert"}}
//   {"type":"stream","key":"chat/1","headers":{"operation":"delete"}}
#include "engine/engine_impl.h"
#include "protocol/errors.h"

namespace durablestreams::engine {

namespace {

constexpr const char* kRegistryContentType = "application/json";

std::string Event(const StreamRecord& rec, bool created) {
  std::string e = "{\"type\":\"stream\",\"key\":";
  protocol::AppendJsonString(rec.path, &e);
  if (created) {
    e += ",\"value\":{\"path\":";
    protocol::AppendJsonString(rec.path, &e);
    e += ",\"contentType\":";
    protocol::AppendJsonString(rec.content_type, &e);
    e += ",\"createdAt\":" + std::to_string(rec.created_at_ms) + "}";
  }
  e += ",\"headers\":{\"operation\":\"";
  e += created ? "insert" : "delete";
  e += "\"}}";
  return e;
}

}  // namespace

// Appends the event of `rec`'s creation (or deletion) to its registry
// stream, making that stream if there is none.
void EngineImpl::Announce(Batch& batch, const StreamRecord& rec, bool created) {
  if (!options_.registry_path) return;
  std::string path = options_.registry_path(rec.path);
  if (path.empty() || path == rec.path) return;
  StagedStream& reg = StreamInBatch(batch, path);
  if (reg.stream && (reg.rec.soft_deleted || reg.rec.closed || reg.rec.estuary ||
                     protocol::MediaType(reg.rec.content_type) != kRegistryContentType)) {
    return;  // not a registry any more: an embedder's own stream is left alone
  }
  if (!reg.stream) {
    StageNewStream(batch, reg, path, kRegistryContentType);
    reg.rec.reader_key = NewReaderKey();
  }
  protocol::MessageList event = protocol::MessageList::One(Event(rec, created));
  AppendMessages(batch, reg, event);
}

}  // namespace durablestreams::engine

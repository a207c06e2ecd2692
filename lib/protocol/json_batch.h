// lib/protocol/json_batch.h
//
// JSON mode (PROTOCOL.md §9.1): a request body is validated (simdjson) and,
// when it is an array, flattened one level into messages. Each message keeps
// the exact bytes the client sent for it, trimmed of surrounding whitespace.
#ifndef DURABLESTREAMS_LIB_PROTOCOL_JSON_BATCH_H_
#define DURABLESTREAMS_LIB_PROTOCOL_JSON_BATCH_H_

#include <string>
#include <string_view>
#include <vector>

#include "durablestreams/status.h"
#include "protocol/message_list.h"

namespace durablestreams::protocol {

enum class JsonBatchError { kNone, kInvalidJson, kEmptyArray };

struct JsonBatch {
  JsonBatchError error = JsonBatchError::kNone;
  std::string message;                 // why, when error != kNone
  MessageList messages;                // in order
};

// Splits `body` into messages. An empty top-level array yields no messages
// and error kEmptyArray (the caller decides: PUT accepts it, POST does not).
JsonBatch SplitJsonBatch(std::string_view body);

// The body of a JSON read: "[" + messages joined by "," + "]".
void AppendJsonArray(const std::vector<std::string_view>& messages, std::string* out);

}  // namespace durablestreams::protocol

#endif  // DURABLESTREAMS_LIB_PROTOCOL_JSON_BATCH_H_

// lib/protocol/request_decoder.h
//
// The HTTP side of every command: which method, header and query parameter
// means what (PROTOCOL.md §4-§5), decoded from a transport-neutral Request
// into the typed commands of commands.h. Only syntax is judged here (a
// header given twice, a number that does not parse); what a command means
// for a stream is the engine's to judge, for HTTP and embedded callers
// alike.
//
// Thread safety: pure functions.
#ifndef DURABLESTREAMS_LIB_PROTOCOL_REQUEST_DECODER_H_
#define DURABLESTREAMS_LIB_PROTOCOL_REQUEST_DECODER_H_

#include <optional>
#include <variant>

#include "durablestreams/commands.h"
#include "durablestreams/outcomes.h"
#include "durablestreams/request.h"

namespace durablestreams::protocol {

using Command = std::variant<CreateCommand, AppendCommand, ReadCommand, InfoCommand, DeleteCommand>;

// Why `path` is not a stream path the protocol accepts (path.h), if it is
// not: kInvalidPath, or kNotImplemented for the reserved "__ds" paths (the
// subscription APIs, served before this by Options::intercept when they
// are on). For the engine's commands as for requests.
std::optional<StreamError> CheckPath(std::string_view path);

// What every request must pass before it is authorized: a method of the
// protocol and a well-formed stream path. (OPTIONS is the transport's.)
std::optional<StreamError> CheckTarget(const Request& request);

// The path (relative to the stream root, percent-decoded like Request::path)
// of the stream a create request names in Stream-Forked-From, as
// DecodeCommand reads it; none without the header, when it names no stream
// under the root, or when a '%' is not followed by two hex digits.
std::optional<std::string> ForkSourceOf(const Request& request);

// Decodes `request` (which passed CheckTarget) into *command, or says why
// it cannot be.
std::optional<StreamError> DecodeCommand(Request request, Command* command);

}  // namespace durablestreams::protocol

#endif  // DURABLESTREAMS_LIB_PROTOCOL_REQUEST_DECODER_H_

// lib/protocol/errors.h
//
// The one table from a protocol error (ErrorCode, error_code.h) to its HTTP
// status and machine name, and the JSON error body.
#ifndef DURABLESTREAMS_LIB_PROTOCOL_ERRORS_H_
#define DURABLESTREAMS_LIB_PROTOCOL_ERRORS_H_

#include <string>
#include <string_view>

#include "durablestreams/error_code.h"

namespace durablestreams::protocol {

// The enum is public (error_code.h); this file holds its HTTP side.
using ErrorCode = ::durablestreams::ErrorCode;

int HttpStatus(ErrorCode code);
std::string_view CodeName(ErrorCode code);

// {"code":"<name>","error":"<message>"} with the message JSON-escaped.
std::string ErrorJson(std::string_view code_name, std::string_view message);

// Appends `s` as a JSON string literal (with quotes).
void AppendJsonString(std::string_view s, std::string* out);

}  // namespace durablestreams::protocol

#endif  // DURABLESTREAMS_LIB_PROTOCOL_ERRORS_H_

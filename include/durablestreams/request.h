// include/durablestreams/request.h
//
// Transport-neutral request and response values exchanged with StreamEngine.
// A transport (the cpp-httplib adapter, an event loop, a test) fills a Request
// from whatever it received and writes the Response back the way it likes.
//
// Thread safety: plain values. A Response's `live` member is shared with the
// engine and is itself thread-safe (see live_stream.h).
//
// Ownership: everything is owned by value, except `live`, which is shared
// between the engine and the transport until the transport drops it.
#ifndef DURABLESTREAMS_REQUEST_H_
#define DURABLESTREAMS_REQUEST_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace durablestreams {

class LiveStream;

enum class Method { kGet, kHead, kPut, kPost, kDelete, kOptions, kOther };

// An ordered list of header fields. Lookups ignore ASCII case of the name;
// values are kept as received.
class Headers {
 public:
  using Field = std::pair<std::string, std::string>;

  void Add(std::string name, std::string value) {
    fields_.emplace_back(std::move(name), std::move(value));
  }
  // Replaces every field called `name` with one field.
  void Set(std::string_view name, std::string value);
  // The first value of `name`, or nullptr.
  const std::string* Get(std::string_view name) const;
  // How many fields are called `name`.
  size_t Count(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name) != nullptr; }
  void Remove(std::string_view name);

  const std::vector<Field>& fields() const { return fields_; }
  bool empty() const { return fields_.empty(); }

 private:
  std::vector<Field> fields_;
};

struct Request {
  Method method = Method::kGet;
  // The stream's path relative to the stream root, without a leading '/':
  // for `/v1/stream/chat/42` the adapter passes `chat/42`. Percent-decoded.
  std::string path;
  // The URL path of the stream root, e.g. "/v1/stream/": a Stream-Forked-From
  // header naming "/v1/stream/a/b" means stream "a/b". A value that does not
  // start with it is taken as a path relative to the root.
  std::string root;
  // The absolute URL the client used (scheme://host/target), for the
  // Location header of 201 responses. May be empty.
  std::string url;
  // Query parameters in order, percent-decoded; repeated keys stay repeated.
  std::vector<std::pair<std::string, std::string>> query;
  Headers headers;
  std::string body;
  // The body was cut off by the transport because it passed the engine's
  // max_body_bytes: the engine answers 413 without looking at it.
  bool body_too_large = false;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // Set for a Server-Sent Events response: after the status and headers the
  // transport sends `body` (if any) and then whatever `live` yields until it
  // ends. Null for every other response.
  std::shared_ptr<LiveStream> live;
};

// An error answer in the protocol's one shape: `status`, the JSON body
// {"code":"<code>","error":"<message>"} (both escaped), and the security and
// CORS headers every response carries. For transports' own errors and
// authorization hooks' refusals.
Response ErrorResponse(int status, std::string_view code, std::string_view message);

}  // namespace durablestreams

#endif  // DURABLESTREAMS_REQUEST_H_

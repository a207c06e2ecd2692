// lib/engine/http_entry.cc: StreamEngine's transport entry (Handle), which
// decodes a request into a command (lib/protocol/request_decoder.cc), asks
// the authorization hook, runs the command and encodes its outcome
// (lib/protocol/response_encoder.cc); and the conveniences built on the core.
#include <future>
#include <variant>

#include "durablestreams/stream_engine.h"
#include "protocol/request_decoder.h"
#include "protocol/response_encoder.h"

namespace durablestreams {

namespace {

std::string_view DataCacheControl(CacheVisibility visibility) {
  switch (visibility) {
    case CacheVisibility::kPublic: return "public, max-age=60, stale-while-revalidate=300";
    case CacheVisibility::kPrivate: return "private, max-age=60, stale-while-revalidate=300";
    case CacheVisibility::kNoStore: break;
  }
  return protocol::kNoStore;
}

}  // namespace

void StreamEngine::Handle(Request request, ResponseCallback done) {
  if (request.method == Method::kOptions) return done(protocol::EncodePreflight());
  if (auto bad = protocol::CheckTarget(request)) return done(protocol::EncodeError(*bad));
  bool is_read = request.method == Method::kGet || request.method == Method::kHead;
  const AuthorizeFn& auth = is_read ? options().authorize_read : options().authorize_mutation;
  if (auth) {
    if (std::optional<Response> denied = auth(request)) {
      protocol::AddCommonHeaders(&*denied);
      return done(std::move(*denied));
    }
  }
  protocol::Command command;
  if (auto bad = protocol::DecodeCommand(std::move(request), &command)) {
    return done(protocol::EncodeError(*bad));
  }
  std::visit(
      [&](auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, CreateCommand>) {
          Create(std::move(c), [done](CreateOutcome o) { done(protocol::Encode(o)); });
        } else if constexpr (std::is_same_v<T, AppendCommand>) {
          Append(std::move(c), [done](AppendOutcome o) { done(protocol::Encode(o)); });
        } else if constexpr (std::is_same_v<T, ReadCommand>) {
          Read(std::move(c), [done, cache = DataCacheControl(options().cache_visibility)](
                                 ReadOutcome o) { done(protocol::Encode(std::move(o), cache)); });
        } else if constexpr (std::is_same_v<T, InfoCommand>) {
          Info(std::move(c), [done](InfoOutcome o) { done(protocol::Encode(o)); });
        } else {
          Delete(std::move(c), [done](DeleteOutcome o) { done(protocol::Encode(o)); });
        }
      },
      command);
}

Response StreamEngine::HandleAndWait(Request request) {
  auto promise = std::make_shared<std::promise<Response>>();
  auto future = promise->get_future();
  Handle(std::move(request), [promise](Response r) { promise->set_value(std::move(r)); });
  return future.get();
}

void StreamEngine::Close(CloseCommand command, AppendCallback done) {
  AppendCommand append;
  append.path = std::move(command.path);
  append.close = true;
  append.producer = std::move(command.producer);
  Append(std::move(append), std::move(done));
}

}  // namespace durablestreams

// lib/engine/http_entry.cc: StreamEngine's transport entry (Handle), which
// decodes a request into a command (lib/protocol/request_decoder.cc), asks
// the authorization hook, runs the command and encodes its outcome
// (lib/protocol/response_encoder.cc); and the conveniences built on the core.
#include <future>
#include <variant>

#include "durablestreams/stream_engine.h"
#include "engine/cors.h"
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

constexpr std::string_view kPrivateData = "private, no-store";

// Whether an outcome says only that there is no such (public) stream.
bool NoPublicStream(const std::optional<StreamError>& e) {
  return e && (e->code == ErrorCode::kNotFound || e->code == ErrorCode::kGone);
}

// A read without a credential: answered only from a public stream; for any
// other, or none, the authorization hook's denial goes out.
void HandlePublicRead(StreamEngine& engine, protocol::Command command, Response denial,
                      const ResponseCallback& done) {
  auto deny = std::make_shared<Response>(std::move(denial));
  if (auto* info = std::get_if<InfoCommand>(&command)) {
    info->public_only = true;
    return engine.Info(std::move(*info), [done, deny](InfoOutcome o) {
      done(NoPublicStream(o.error) ? *deny : protocol::Encode(o));
    });
  }
  auto& read = std::get<ReadCommand>(command);
  read.public_only = true;
  engine.Read(
      std::move(read),
      [done, deny, cache = DataCacheControl(engine.options().cache_visibility)](ReadOutcome o) {
        done(NoPublicStream(o.error) ? *deny : protocol::Encode(std::move(o), cache));
      });
}

}  // namespace

namespace engine {

ResponseCallback WithCorsOrigin(ResponseCallback done, std::string origin) {
  return [done = std::move(done), origin = std::move(origin)](Response r) {
    if (origin.empty()) {
      r.headers.Remove("Access-Control-Allow-Origin");
    } else {
      r.headers.Set("Access-Control-Allow-Origin", origin);
      if (origin != "*") r.headers.Add("Vary", "Origin");
    }
    done(std::move(r));
  };
}

ResponseCallback WithCors(const Options& options, const Request& request, ResponseCallback done) {
  if (options.cors_origin && request.headers.Has("Origin")) {
    if (std::optional<std::string> origin = options.cors_origin(request)) {
      return WithCorsOrigin(std::move(done), std::move(*origin));
    }
  }
  return done;
}

}  // namespace engine

void StreamEngine::Handle(Request request, ResponseCallback done) {
  done = engine::WithCors(options(), request, std::move(done));
  if (request.method == Method::kOptions) return done(protocol::EncodePreflight());
  if (options().intercept && options().intercept(request, done)) return;
  if (auto bad = protocol::CheckTarget(request)) return done(protocol::EncodeError(*bad));
  bool is_read = request.method == Method::kGet || request.method == Method::kHead;
  if (!is_read && options().registry_path && options().registry_path(request.path) == request.path) {
    StreamError e;
    e.code = ErrorCode::kMethodNotAllowed;
    e.message = "the registry stream is written by the server only";
    Response r = protocol::EncodeError(e);
    r.headers.Set("Allow", "GET, HEAD");
    return done(std::move(r));
  }
  const AuthorizeFn& auth = is_read ? options().authorize_read : options().authorize_mutation;
  AuthDecision decision;
  if (auth) {
    decision = auth(request);
    if (decision.denial) {
      protocol::AddCommonHeaders(&*decision.denial);
      if (!decision.unless_public || !is_read) return done(std::move(*decision.denial));
    }
  }
  protocol::Command command;
  if (auto bad = protocol::DecodeCommand(std::move(request), &command)) {
    return done(protocol::EncodeError(*bad));
  }
  if (decision.denial) {
    return HandlePublicRead(*this, std::move(command), std::move(*decision.denial), done);
  }
  if (auto* read = std::get_if<ReadCommand>(&command)) {
    read->live_limit = decision.live_limit;
  } else if (auto* create = std::get_if<CreateCommand>(&command)) {
    if (!create->public_read && decision.public_by_default) create->public_read = true;
  }
  bool private_data = decision.private_data;
  std::visit(
      [&](auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, CreateCommand>) {
          Create(std::move(c), [done](CreateOutcome o) { done(protocol::Encode(o)); });
        } else if constexpr (std::is_same_v<T, AppendCommand>) {
          Append(std::move(c), [done](AppendOutcome o) { done(protocol::Encode(o)); });
        } else if constexpr (std::is_same_v<T, ReadCommand>) {
          Read(std::move(c), [done, private_data,
                              cache = DataCacheControl(options().cache_visibility)](ReadOutcome o) {
            bool shared = !private_data || o.shareable;
            done(protocol::Encode(std::move(o), shared ? cache : kPrivateData));
          });
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

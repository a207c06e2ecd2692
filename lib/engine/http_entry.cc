// lib/engine/http_entry.cc: StreamEngine's transport entry (Handle), which
// decodes a request into a command (lib/protocol/request_decoder.cc), asks
// the authorization hook, runs the command and encodes its outcome
// (lib/protocol/response_encoder.cc); and the conveniences built on the core.
#include <future>
#include <variant>

#include "durablestreams/stream_engine.h"
#include "engine/cors.h"
#include "engine/server_timing.h"
#include "protocol/request_decoder.h"
#include "protocol/response_encoder.h"

namespace durablestreams {

namespace {

// Who may keep a read's data (protocol::Encode(ReadOutcome, ...)).
std::string_view DataCacheControl(CacheVisibility visibility) {
  switch (visibility) {
    case CacheVisibility::kPublic: return "public";
    case CacheVisibility::kPrivate: return "private";
    case CacheVisibility::kNoStore: break;
  }
  return protocol::kNoStore;
}

constexpr std::string_view kPrivateData = "private, no-store";

// The answer to a request for a stream that `owner` owns (Options::node_ring).
Response Misdirected(const ClusterNode& owner) {
  Response r = ErrorResponse(421, "MISDIRECTED",
                             "this stream belongs to node " + owner.name + ", not this one");
  r.headers.Set("X-Owner-Node", owner.name);
  return r;
}

// Whether an outcome says only that there is no such (public) stream.
bool NoPublicStream(const std::optional<StreamError>& e) {
  return e && (e->code == ErrorCode::kNotFound || e->code == ErrorCode::kGone);
}

// Counts a refusal into durable_streams_auth_failures_total{reason}.
void CountAuthFailure(const Options& options, const char* reason) {
  if (!options.metrics) return;
  options.metrics
      ->AddCounter("durable_streams_auth_failures_total",
                   "Requests refused by the authorization hooks, by reason.",
                   Label("reason", reason ? reason : "denied"))
      .Add();
}

// A read without a credential: answered only from a public stream; for any
// other, or none, the authorization hook's denial goes out.
void HandlePublicRead(StreamEngine& engine, protocol::Command command, AuthDecision denial,
                      const ResponseCallback& done) {
  auto deny = std::make_shared<Response>(std::move(*denial.denial));
  const char* reason = denial.reason;
  if (auto* info = std::get_if<InfoCommand>(&command)) {
    info->public_only = true;
    return engine.Info(std::move(*info), [done, deny, &engine, reason](InfoOutcome o) {
      if (!NoPublicStream(o.error)) return done(protocol::Encode(o));
      CountAuthFailure(engine.options(), reason);
      done(*deny);
    });
  }
  auto& read = std::get<ReadCommand>(command);
  read.public_only = true;
  engine.Read(
      std::move(read),
      [done, deny, &engine, reason,
       cache = DataCacheControl(engine.options().cache_visibility)](ReadOutcome o) {
        if (!NoPublicStream(o.error)) return done(protocol::Encode(std::move(o), cache));
        CountAuthFailure(engine.options(), reason);
        done(*deny);
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
  bool registry =
      options().registry_path && options().registry_path(request.path) == request.path;
  if (options().node_ring && !(is_read && registry) && !options().node_ring->Owns(request.path)) {
    return done(Misdirected(options().node_ring->OwnerOf(request.path)));
  }
  if (!is_read && registry) {
    return done(protocol::EncodeReadOnly("the registry stream is written by the server only"));
  }
  const std::string* ask = request.headers.Get("X-Debug-Timing");
  std::shared_ptr<engine::ServerTiming> timing;
  if (options().server_timing || (ask && *ask == "1")) {
    timing = std::make_shared<engine::ServerTiming>();
  }
  using TimingClock = engine::ServerTiming::Clock;
  TimingClock::time_point phase = timing ? TimingClock::now() : TimingClock::time_point();
  const AuthorizeFn& auth = is_read ? options().authorize_read : options().authorize_mutation;
  AuthDecision decision;
  if (auth) {
    decision = auth(request);
    if (decision.denial) {
      protocol::AddCommonHeaders(&*decision.denial);
      if (!decision.unless_public || !is_read) {
        CountAuthFailure(options(), decision.reason);
        return done(std::move(*decision.denial));
      }
    }
  }
  if (timing) {
    timing->auth_ms = engine::ServerTiming::Since(phase);
    phase = TimingClock::now();
  }
  protocol::Command command;
  if (auto bad = protocol::DecodeCommand(std::move(request), &command)) {
    return done(protocol::EncodeError(*bad));
  }
  if (timing) {
    timing->parse_ms = engine::ServerTiming::Since(phase);
    timing->dispatched = TimingClock::now();
  }
  if (decision.denial) {  // a read without a credential (no Server-Timing)
    return HandlePublicRead(*this, std::move(command), std::move(decision), done);
  }
  if (auto* read = std::get_if<ReadCommand>(&command)) {
    read->live_limit = decision.live_limit;
  } else if (auto* create = std::get_if<CreateCommand>(&command)) {
    if (!create->public_read && decision.public_by_default) create->public_read = true;
    if (create->fork && options().node_ring && !options().node_ring->Owns(create->fork->source)) {
      return done(ErrorResponse(409, "FORK_SOURCE_ELSEWHERE",
                                "the fork's source is on node " +
                                    options().node_ring->OwnerOf(create->fork->source).name +
                                    "; a fork must live on the node of its source"));
    }
  }
  bool private_data = decision.private_data;
  // Encodes an outcome, with the Server-Timing header when asked for.
  auto finish = [timing](const CommitTiming* commit, auto&& encode) {
    return timing ? timing->Finish(commit, encode) : encode();
  };
  std::visit(
      [&](auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, CreateCommand>) {
          Create(std::move(c), [done, finish](CreateOutcome o) {
            done(finish(&o.timing, [&] { return protocol::Encode(o); }));
          });
        } else if constexpr (std::is_same_v<T, AppendCommand>) {
          Append(std::move(c), [done, finish](AppendOutcome o) {
            done(finish(&o.timing, [&] { return protocol::Encode(o); }));
          });
        } else if constexpr (std::is_same_v<T, ReadCommand>) {
          Read(std::move(c), [done, finish, private_data,
                              cache = DataCacheControl(options().cache_visibility)](ReadOutcome o) {
            bool shared = !private_data || o.shareable;
            done(finish(nullptr, [&] {
              return protocol::Encode(std::move(o), shared ? cache : kPrivateData);
            }));
          });
        } else if constexpr (std::is_same_v<T, InfoCommand>) {
          Info(std::move(c), [done, finish](InfoOutcome o) {
            done(finish(nullptr, [&] { return protocol::Encode(o); }));
          });
        } else {
          Delete(std::move(c), [done, finish](DeleteOutcome o) {
            done(finish(&o.timing, [&] { return protocol::Encode(o); }));
          });
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

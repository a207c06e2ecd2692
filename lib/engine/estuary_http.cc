// lib/engine/estuary_http.cc: the HTTP API of estuaries (estuary_api.h):
// decode (lib/protocol/estuary_request.cc), authorize with the engine's
// hooks as for the streams concerned, run the typed command, encode.
#include <memory>

#include "durablestreams/estuary_api.h"
#include "engine/cors.h"
#include "protocol/errors.h"
#include "protocol/estuary_request.h"
#include "protocol/response_encoder.h"

namespace durablestreams {

namespace {

Response JsonResponse(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  r.headers.Set("Content-Type", "application/json");
  r.headers.Set("Cache-Control", std::string(protocol::kNoStore));
  protocol::AddCommonHeaders(&r);
  return r;
}

// The request the hooks judge: `method` on the stream `path`, with the
// caller's headers and query (its credentials).
Request AsStreamRequest(const Request& in, Method method, const std::string& path,
                        const std::string& stream_root) {
  Request r;
  r.method = method;
  r.root = stream_root;
  r.path = path;
  r.url = in.url;
  r.query = in.query;
  r.headers = in.headers;
  return r;
}

// The project segment of a path under the estuary root, for a preflight.
std::string PreflightPath(std::string_view path) {
  constexpr std::string_view kSubscribe = "subscribe/";
  if (path.substr(0, kSubscribe.size()) == kSubscribe) path.remove_prefix(kSubscribe.size());
  return std::string(path);
}

}  // namespace

AsyncHandler EstuaryApi(StreamEngine& engine, EstuaryApiOptions options) {
  auto root = std::make_shared<const std::string>(std::move(options.stream_root));
  return [&engine, root](Request request, std::function<void(Response)> done) {
    const Options& o = engine.options();
    if (request.method == Method::kOptions) {
      Request cors = AsStreamRequest(request, Method::kOptions, PreflightPath(request.path), *root);
      return engine::WithCors(o, cors, std::move(done))(protocol::EncodePreflight());
    }
    protocol::EstuaryRequest er;
    if (auto bad = protocol::DecodeEstuaryRequest(request, &er)) {
      return done(protocol::EncodeError(*bad));
    }
    bool read = er.kind == protocol::EstuaryRequest::Kind::kInfo;
    bool on_source = er.kind == protocol::EstuaryRequest::Kind::kSubscribe ||
                     er.kind == protocol::EstuaryRequest::Kind::kUnsubscribe;
    Method as = read ? Method::kGet : on_source ? Method::kPost : Method::kDelete;
    Request judged = AsStreamRequest(request, as, on_source ? er.source : er.estuary, *root);
    done = engine::WithCors(o, judged, std::move(done));
    const AuthorizeFn& auth = read ? o.authorize_read : o.authorize_mutation;
    if (auth) {
      AuthDecision decision = auth(judged);
      if (decision.denial) {
        // A session stream is never public: unless_public does not apply.
        protocol::AddCommonHeaders(&*decision.denial);
        return done(std::move(*decision.denial));
      }
    }
    auto r = std::make_shared<protocol::EstuaryRequest>(std::move(er));
    switch (r->kind) {
      case protocol::EstuaryRequest::Kind::kSubscribe:
        return engine.Subscribe({r->source, r->estuary},
                                [r, root, done](EstuarySubscribeOutcome out) {
                                  if (out.error) return done(protocol::EncodeError(*out.error));
                                  done(JsonResponse(200, protocol::SubscribeJson(*r, out, *root)));
                                });
      case protocol::EstuaryRequest::Kind::kUnsubscribe:
        return engine.Unsubscribe(
            {r->source, r->estuary}, [r, done](EstuaryUnsubscribeOutcome out) {
              if (out.error) return done(protocol::EncodeError(*out.error));
              std::string body = "{\"success\":true,\"estuaryId\":";
              protocol::AppendJsonString(r->estuary_id, &body);
              body += ",\"streamId\":";
              protocol::AppendJsonString(r->source_id, &body);
              body += ",\"removed\":";
              body += out.removed ? "true}" : "false}";
              done(JsonResponse(200, std::move(body)));
            });
      case protocol::EstuaryRequest::Kind::kInfo:
        return engine.GetEstuary({r->estuary}, [r, root, done](EstuaryInfoOutcome out) {
          if (out.error) return done(protocol::EncodeError(*out.error));
          done(JsonResponse(200, protocol::EstuaryInfoJson(*r, out, *root)));
        });
      case protocol::EstuaryRequest::Kind::kDelete:
        return engine.DeleteEstuary({r->estuary}, [r, done](DeleteOutcome out) {
          if (out.error) return done(protocol::EncodeError(*out.error));
          std::string body = "{\"estuaryId\":";
          protocol::AppendJsonString(r->estuary_id, &body);
          body += ",\"deleted\":true}";
          done(JsonResponse(200, std::move(body)));
        });
    }
  };
}

}  // namespace durablestreams

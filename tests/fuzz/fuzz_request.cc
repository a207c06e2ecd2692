// Fuzz target: whole requests into a StreamEngine over a real SQLite file.
// Input: first line "<method letter><path>[?query]", then "Name: value"
// header lines, an empty line, then the body. A path that starts with '~'
// goes to the estuary routes (estuary_api.h) with the rest as its path, so
// subscribes, publishes and reads of session streams mix. The engine must
// answer every request without crashing, and every 4xx/5xx must carry a
// JSON error body.
#include <future>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "durablestreams/durablestreams.h"
#include "durablestreams/estuary_api.h"

using namespace durablestreams;

namespace {

StreamEngine* Engine() {
  static std::unique_ptr<StreamEngine> engine = [] {
    Options o;
    o.default_storage.data_dir = (std::filesystem::temp_directory_path() /
                  ("ds-fuzz-" + std::to_string(getpid()))).string();
    o.default_storage.sqlite.sync = SyncMode::kOff;
    o.long_poll_timeout = std::chrono::milliseconds(1);
    o.max_body_bytes = 1 << 16;
    auto r = StreamEngine::Open(o);
    if (!r.ok()) std::abort();
    return std::move(r).value();
  }();
  return engine.get();
}

std::string_view NextLine(std::string_view* in) {
  size_t eol = in->find('\n');
  std::string_view line = in->substr(0, eol);
  in->remove_prefix(eol == std::string_view::npos ? in->size() : eol + 1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view first = NextLine(&in);
  if (first.empty()) return 0;
  static const Method kMethods[] = {Method::kGet, Method::kHead,    Method::kPut,
                                    Method::kPost, Method::kDelete, Method::kOptions};
  Request req;
  req.method = kMethods[static_cast<unsigned char>(first[0]) % 6];
  first.remove_prefix(1);
  size_t q = first.find('?');
  req.path = std::string(first.substr(0, q));
  if (q != std::string_view::npos) {
    std::string_view query = first.substr(q + 1);
    while (!query.empty()) {
      size_t amp = query.find('&');
      std::string_view kv = query.substr(0, amp);
      size_t eq = kv.find('=');
      req.query.emplace_back(std::string(kv.substr(0, eq)),
                             eq == std::string_view::npos ? "" : std::string(kv.substr(eq + 1)));
      query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
    }
  }
  for (std::string_view line = NextLine(&in); !line.empty(); line = NextLine(&in)) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    req.headers.Add(std::string(line.substr(0, colon)), std::string(value));
  }
  req.body = std::string(in);
  Response r;
  if (!req.path.empty() && req.path[0] == '~') {
    static AsyncHandler estuaries = EstuaryApi(*Engine());
    req.path.erase(0, 1);
    std::promise<Response> answer;
    auto got = answer.get_future();
    estuaries(std::move(req), [&answer](Response out) { answer.set_value(std::move(out)); });
    r = got.get();
  } else {
    r = Engine()->HandleAndWait(std::move(req));
  }
  if (r.status < 200 || r.status > 599) std::abort();
  if (r.status >= 400 && r.body.rfind("{\"code\":\"", 0) != 0) std::abort();
  if (r.live) r.live->Cancel();
  return 0;
}

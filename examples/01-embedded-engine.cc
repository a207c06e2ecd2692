// examples/01-embedded-engine.cc
//
// What it shows: the engine embedded without any HTTP, through its typed
// commands (commands.h) and outcomes (outcomes.h). Create a JSON stream,
// append a batch, read it back from the start, close it, and see a refusal.
//
// Run:  ./build/examples/01-embedded-engine
#include <cstdio>
#include <future>

#include "durablestreams/durablestreams.h"

using namespace durablestreams;

// The engine answers through a callback, possibly on one of its threads.
// This example simply waits for each answer in turn.
template <typename Outcome>
class Answer {
 public:
  std::function<void(Outcome)> callback() {
    return [this](Outcome o) { promise_.set_value(std::move(o)); };
  }
  Outcome get() { return promise_.get_future().get(); }

 private:
  std::promise<Outcome> promise_;
};

const char* Describe(const std::optional<StreamError>& error) {
  return error ? ErrorCodeName(error->code).data() : "ok";
}

int main() {
  Options options;
  options.default_storage.data_dir = "./example-data";
  auto opened = StreamEngine::Open(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
    return 1;
  }
  StreamEngine& engine = **opened;
  const std::string path = "examples/chat-1";  // as after /v1/stream/ over HTTP

  Answer<DeleteOutcome> deleted;  // start afresh (STREAM_NOT_FOUND the first time)
  engine.Delete(DeleteCommand{path}, deleted.callback());
  std::printf("delete -> %s\n", Describe(deleted.get().error));

  CreateCommand create;
  create.path = path;
  create.content_type = "application/json";
  Answer<CreateOutcome> created;
  engine.Create(create, created.callback());
  CreateOutcome c = created.get();
  std::printf("create -> %s, created %d\n", Describe(c.error), c.created);

  // One append of an array stores each element as its own message.
  AppendCommand append;
  append.path = path;
  append.content_type = "application/json";
  append.body = R"([{"role":"user","text":"hi"}, {"role":"bot","text":"hello"}])";
  Answer<AppendOutcome> appended;
  engine.Append(append, appended.callback());
  AppendOutcome a = appended.get();
  std::printf("append -> %s, next offset %llu\n", Describe(a.error),
              static_cast<unsigned long long>(a.next_offset));

  ReadCommand read;
  read.path = path;  // from the beginning
  Answer<ReadOutcome> got;
  engine.Read(read, got.callback());
  ReadOutcome r = got.get();
  std::printf("read   -> %s %s (up to date %d)\n", Describe(r.error), r.body.c_str(),
              r.up_to_date);

  Answer<AppendOutcome> closed;
  engine.Close(CloseCommand{path, std::nullopt}, closed.callback());
  AppendOutcome done = closed.get();
  std::printf("close  -> %s, closed %d\n", Describe(done.error), done.closed);

  // A refused command changes nothing and says why.
  Answer<AppendOutcome> refused;
  engine.Append(append, refused.callback());
  std::printf("append -> %s\n", Describe(refused.get().error));
  return 0;
}

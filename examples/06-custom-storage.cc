// examples/06-custom-storage.cc
//
// What it shows: storage is pluggable. This wraps the SQLite hot log in a
// Storage of our own that counts group commits and the appends they carried
// (the same shape works for metrics, fault injection in tests, or a wholly
// different store), and hands it to the engine through Options::storage.
//
// Run:  ./build/examples/06-custom-storage
#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include "durablestreams/durablestreams.h"

using namespace durablestreams;

class CountingStorage : public Storage {
 public:
  explicit CountingStorage(std::shared_ptr<Storage> base) : base_(std::move(base)) {}
  Status Load(LoadedState* out) override { return base_->Load(out); }
  Status Apply(const WriteBatch& batch) override {
    ++commits;
    appends += batch.appends.size();
    return base_->Apply(batch);  // atomic and durable, as the contract asks
  }
  Status ReadMessages(int64_t id, uint64_t from, uint64_t to, size_t max,
                      std::vector<StoredMessage>* out) override {
    return base_->ReadMessages(id, from, to, max, out);
  }
  // Optional (the default reads through ReadMessages above); passing it on
  // keeps the SQLite store's copy-saving reads of byte streams.
  Status ReadBytes(int64_t id, uint64_t from, uint64_t to, size_t max, std::string* body,
                   uint64_t* next) override {
    return base_->ReadBytes(id, from, to, max, body, next);
  }
  std::atomic<long> commits{0}, appends{0};

 private:
  std::shared_ptr<Storage> base_;
};

int main() {
  mkdir("./example-data-06", 0755);
  auto sqlite = OpenSqliteStorage("./example-data-06/streams.db", SqliteStorageOptions());
  if (!sqlite.ok()) return 1;
  auto counting = std::make_shared<CountingStorage>(*sqlite);
  Options options;
  options.storage = counting;
  auto engine = StreamEngine::Open(options);
  if (!engine.ok()) return 1;

  Request create{Method::kPut, "examples/counted"};
  create.headers.Add("Content-Type", "text/plain");
  (*engine)->HandleAndWait(create);
  std::vector<std::thread> writers;  // 8 writers at once share commits
  for (int w = 0; w < 8; ++w) {
    writers.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        Request append{Method::kPost, "examples/counted"};
        append.headers.Add("Content-Type", "text/plain");
        append.body = "x";
        (*engine)->HandleAndWait(std::move(append));
      }
    });
  }
  for (auto& t : writers) t.join();
  std::printf("%ld appends in %ld commits (group commit)\n", counting->appends.load(),
              counting->commits.load());
  return 0;
}

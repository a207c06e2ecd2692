// lib/storage/default_storage.cc: OpenDefaultStorage() (storage.h), the data
// directory's set-up: the directory, the hot log in it, and the cold tier.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "durablestreams/storage.h"

namespace durablestreams {

Result<std::shared_ptr<Storage>> OpenDefaultStorage(const DefaultStorageOptions& options) {
  std::string dir = options.data_dir.empty() ? "." : options.data_dir;
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return Status::IOError("cannot create data directory " + dir + ": " + std::strerror(errno));
  }
  SqliteStorageOptions sqlite = options.sqlite;
  if (!options.cold_tier) {
    sqlite.segment_store = nullptr;
  } else if (!sqlite.segment_store) {
    auto store = OpenDirectorySegmentStore(dir + "/segments");
    if (!store.ok()) return store.status();
    sqlite.segment_store = *store;
  }
  return OpenSqliteStorage(dir + "/streams.db", sqlite);
}

}  // namespace durablestreams

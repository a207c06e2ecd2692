// lib/storage/directory_segment_store.cc
//
// SegmentStore in a local directory: key "a/b/c" is the file <dir>/a/b/c.
// Put writes <file>.tmp.<n>, fsyncs it, renames it over <file> and fsyncs the
// directory, so a key names either nothing or a whole object. PutMany does
// the same for several objects with one sync of their data. A temporary
// file left by a crash starts with its key, so List(prefix) finds it and the
// cleanup of a stream removes it too.
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>

#include "durablestreams/segment_store.h"

namespace durablestreams {

namespace {

Status Errno(const std::string& what) {
  int e = errno;
  std::string msg = what + ": " + std::strerror(e);
  if (e == ENOENT) return Status::NotFound(msg);
  if (e == ENOSPC || e == EDQUOT) return Status::NoSpace(msg);
  // EIO and friends may pass (a remounted disk); the caller retries later.
  if (e == EIO || e == EAGAIN || e == EINTR || e == ENFILE || e == EMFILE) {
    return Status::Unavailable(msg);
  }
  return Status::IOError(msg);
}

bool ValidKey(const std::string& key) {
  if (key.empty() || key.front() == '/' || key.back() == '/') return false;
  size_t start = 0;
  while (start <= key.size()) {
    size_t slash = key.find('/', start);
    if (slash == std::string::npos) slash = key.size();
    std::string_view part(key.data() + start, slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = slash + 1;
  }
  for (char c : key) {
    if (static_cast<unsigned char>(c) < 0x21 || c == 0x7f) return false;
  }
  return true;
}

class DirectorySegmentStore final : public SegmentStore {
 public:
  explicit DirectorySegmentStore(std::string dir) : dir_(std::move(dir)) {}

  Status Put(const std::string& key, std::string_view data, Deadline deadline) override {
    return PutMany({{key, data}}, deadline);
  }

  // Each object goes to a temporary file; one sync makes them all durable
  // (fsync for one, syncfs(2) for several: one device flush, not one per
  // file); then the renames, and one fsync per directory they touched, and
  // of the parents of any directory made for them.
  Status PutMany(const std::vector<SegmentObject>& objects, Deadline) override {
    struct Pending {
      std::string tmp, path;
    };
    std::vector<Pending> pending;
    std::vector<std::string> dirs;  // to fsync once all are renamed
    Status s;
    for (const SegmentObject& o : objects) {
      if (!ValidKey(o.key)) {
        s = Status::InvalidArgument("bad segment key: " + o.key);
        break;
      }
      std::string path = dir_ + "/" + o.key;
      s = MakeParents(path, &dirs);
      if (!s.ok()) break;
      dirs.push_back(path.substr(0, path.rfind('/')));
      std::string tmp = path + ".tmp." + std::to_string(getpid()) + "." +
                        std::to_string(counter_.fetch_add(1));
      int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0) {
        s = Errno("create " + tmp);
        break;
      }
      pending.push_back({tmp, path});
      s = WriteAll(fd, o.data, tmp);
      if (s.ok() && objects.size() == 1 && ::fsync(fd) != 0) s = Errno("fsync " + tmp);
      ::close(fd);
      if (!s.ok()) break;
    }
    if (s.ok() && objects.size() > 1) {
      int fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0) {
        s = Errno("open " + dir_);
      } else {
        if (::syncfs(fd) != 0) s = Errno("syncfs " + dir_);
        ::close(fd);
      }
    }
    size_t renamed = 0;
    for (; s.ok() && renamed < pending.size(); ++renamed) {
      const Pending& p = pending[renamed];
      if (::rename(p.tmp.c_str(), p.path.c_str()) != 0) s = Errno("rename " + p.tmp);
    }
    if (!s.ok()) {
      for (size_t i = renamed; i < pending.size(); ++i) ::unlink(pending[i].tmp.c_str());
      return s;
    }
    std::sort(dirs.begin(), dirs.end());
    dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
    for (const std::string& d : dirs) {
      s = SyncDir(d);
      if (!s.ok()) return s;
    }
    return Status::OK();
  }

  Status Get(const std::string& key, uint64_t offset, uint64_t length, std::string* out,
             Deadline) override {
    out->clear();
    if (!ValidKey(key)) return Status::InvalidArgument("bad segment key: " + key);
    std::string path = dir_ + "/" + key;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Errno("open " + path);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      Status s = Errno("stat " + path);
      ::close(fd);
      return s;
    }
    uint64_t size = static_cast<uint64_t>(st.st_size);
    uint64_t n = offset >= size ? 0 : std::min<uint64_t>(length, size - offset);
    out->resize(n);
    size_t done = 0;
    Status s;
    while (done < n) {
      ssize_t r = ::pread(fd, out->data() + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        s = Errno("read " + path);
        break;
      }
      if (r == 0) break;  // shrank under us: report what there is
      done += static_cast<size_t>(r);
    }
    ::close(fd);
    out->resize(done);
    return s;
  }

  Status Delete(const std::string& key, Deadline) override {
    if (!ValidKey(key)) return Status::InvalidArgument("bad segment key: " + key);
    std::string path = dir_ + "/" + key;
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Errno("unlink " + path);
    // Remove directories left empty, up to the store's root (best effort).
    for (size_t slash = path.rfind('/'); slash != std::string::npos && slash > dir_.size();
         slash = path.rfind('/', slash - 1)) {
      if (::rmdir(path.substr(0, slash).c_str()) != 0) break;
    }
    return Status::OK();
  }

  Status List(const std::string& prefix, std::vector<std::string>* keys, Deadline) override {
    // Walk from the deepest directory the prefix names completely.
    size_t slash = prefix.rfind('/');
    std::string rel = slash == std::string::npos ? "" : prefix.substr(0, slash);
    return Walk(rel, prefix, keys);
  }

  std::string Describe() const override { return "dir:" + dir_; }

 private:
  Status Walk(const std::string& rel, const std::string& prefix, std::vector<std::string>* keys) {
    std::string path = rel.empty() ? dir_ : dir_ + "/" + rel;
    DIR* d = ::opendir(path.c_str());
    if (!d) {
      if (errno == ENOENT || errno == ENOTDIR) return Status::OK();
      return Errno("opendir " + path);
    }
    Status s;
    while (struct dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      std::string key = rel.empty() ? name : rel + "/" + name;
      bool is_dir = e->d_type == DT_DIR;
      if (e->d_type == DT_UNKNOWN) {
        struct stat st;
        is_dir = ::stat((dir_ + "/" + key).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
      }
      if (is_dir) {
        // Descend only where keys with the prefix can be.
        std::string as_dir = key + "/";
        if (as_dir.compare(0, std::min(as_dir.size(), prefix.size()), prefix, 0,
                           std::min(as_dir.size(), prefix.size())) == 0) {
          s = Walk(key, prefix, keys);
          if (!s.ok()) break;
        }
      } else if (key.compare(0, prefix.size(), prefix) == 0) {
        keys->push_back(key);
      }
    }
    ::closedir(d);
    return s;
  }

  // Makes the directories above `path`; adds to *dirs the parent of each
  // one made, whose entry for it must be synced.
  Status MakeParents(const std::string& path, std::vector<std::string>* dirs) {
    for (size_t slash = path.find('/', dir_.size() + 1); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      std::string d = path.substr(0, slash);
      if (::mkdir(d.c_str(), 0755) == 0) {
        dirs->push_back(path.substr(0, path.rfind('/', slash - 1)));
      } else if (errno != EEXIST) {
        return Errno("mkdir " + d);
      }
    }
    return Status::OK();
  }

  static Status WriteAll(int fd, std::string_view data, const std::string& name) {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(fd, data.data() + done, data.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno("write " + name);
      }
      done += static_cast<size_t>(n);
    }
    return Status::OK();
  }

  static Status SyncDir(const std::string& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Errno("open " + dir);
    Status s;
    if (::fsync(fd) != 0) s = Errno("fsync " + dir);
    ::close(fd);
    return s;
  }

  const std::string dir_;
  std::atomic<uint64_t> counter_{0};
};

}  // namespace

Result<std::shared_ptr<SegmentStore>> OpenDirectorySegmentStore(const std::string& dir) {
  if (dir.empty()) return Status::InvalidArgument("segment directory is empty");
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  // mkdir -p
  for (size_t slash = d.find('/', 1); ; slash = d.find('/', slash + 1)) {
    std::string part = slash == std::string::npos ? d : d.substr(0, slash);
    if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) {
      return Errno("cannot create segment directory " + part);
    }
    if (slash == std::string::npos) break;
  }
  return std::shared_ptr<SegmentStore>(std::make_shared<DirectorySegmentStore>(d));
}

}  // namespace durablestreams

// server/access_log.cc: AccessLog (access_log.h).
#include "durablestreams/server/access_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace durablestreams {

namespace {

// `s` as a JSON string literal: quotes, backslashes and every control
// character escaped, so a line stays one line.
void AppendJson(std::string_view s, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  *out += '"';
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      *out += '\\';
      *out += ch;
    } else if (c < 0x20 || c == 0x7f) {
      *out += "\\u00";
      *out += kHex[c >> 4];
      *out += kHex[c & 15];
    } else {
      *out += ch;
    }
  }
  *out += '"';
}

std::string IsoTime(int64_t ms) {
  time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace

Result<std::shared_ptr<AccessLog>> AccessLog::Open(AccessLogOptions options) {
  if (options.target.empty() || options.target == "stderr") {
    return std::shared_ptr<AccessLog>(new AccessLog(std::move(options), stderr, false));
  }
  int fd = open(options.target.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    return Status::IOError("cannot open the access log " + options.target + ": " +
                           std::strerror(errno));
  }
  std::FILE* f = fdopen(fd, "a");
  if (!f) {
    close(fd);
    return Status::IOError("cannot open the access log " + options.target);
  }
  return std::shared_ptr<AccessLog>(new AccessLog(std::move(options), f, true));
}

AccessLog::~AccessLog() {
  if (owned_) std::fclose(file_);
}

void AccessLog::Write(const AccessLogEntry& e) {
  std::string line = "{\"time\":\"" + IsoTime(e.time_ms) + "\",\"method\":";
  AppendJson(e.method, &line);
  line += ",\"path\":";
  AppendJson(e.path, &line);
  line += ",\"status\":" + std::to_string(e.status) + ",\"bytes\":" + std::to_string(e.bytes);
  char duration[32];
  std::snprintf(duration, sizeof duration, "%.3f", e.duration_ms);
  line += ",\"duration_ms\":";
  line += duration;
  line += ",\"project\":";
  AppendJson(options_.project_of ? options_.project_of(e.path) : std::string(), &line);
  line += e.live ? ",\"live\":true}\n" : ",\"live\":false}\n";
  std::lock_guard<std::mutex> lock(mu_);
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
}

}  // namespace durablestreams

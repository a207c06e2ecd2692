// tests/s3/sigv4_tool.cc: prints our SigV4 result for requests read from
// stdin, for tests/s3/sigv4_check.py to compare with botocore.
//
// Each input line has tab-separated, hex-encoded fields:
//   method, raw path (bucket/key, not yet encoded), query, headers,
//   payload hash, amz date, region, access key id, secret
// where query and headers are "name\x1fvalue" pairs joined by "\x1e".
// Each output line: canonical URI, a tab, the Authorization value.
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "storage/sigv4.h"

namespace {

std::string Unhex(const std::string& h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) out.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return out;
}

std::vector<std::pair<std::string, std::string>> Pairs(const std::string& s) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t at = 0;
  while (at < s.size()) {
    size_t end = s.find('\x1e', at);
    if (end == std::string::npos) end = s.size();
    std::string item = s.substr(at, end - at);
    size_t sep = item.find('\x1f');
    out.emplace_back(item.substr(0, sep), sep == std::string::npos ? "" : item.substr(sep + 1));
    at = end + 1;
  }
  return out;
}

}  // namespace

int main() {
  std::string line;
  while (std::getline(std::cin, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string field;
    while (std::getline(ss, field, '\t')) f.push_back(Unhex(field));
    if (f.size() != 9) {
      std::cerr << "bad input line\n";
      return 2;
    }
    durablestreams::storage::SigV4Request r;
    r.method = f[0];
    r.canonical_uri = "/" + durablestreams::storage::UriEncode(f[1], true);
    r.query = Pairs(f[2]);
    r.headers = Pairs(f[3]);
    r.payload_sha256 = f[4];
    r.amz_date = f[5];
    r.region = f[6];
    r.access_key_id = f[7];
    r.secret_access_key = f[8];
    std::cout << r.canonical_uri << '\t' << durablestreams::storage::SigV4Authorization(r) << '\n';
  }
  return 0;
}

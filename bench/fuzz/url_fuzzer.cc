// libFuzzer target: ParseCacheUrl() and ParseDbUrl() on arbitrary bytes
// (tools/fuzz builds and runs it). Both must return a Status for any input;
// an accepted URL must round-trip through ToString(); messages are one line;
// a URL carrying a password is refused without quoting the password.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/config/endpoints.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view url(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<cabench::CacheEndpoint> cache = cabench::ParseCacheUrl(url);
  if (cache.ok()) {
    Check(cache->port >= 1 && cache->port <= 65535);
    Check(cache->db >= 0 && cache->db <= 15);
    Check(!cache->host.empty());
    absl::StatusOr<cabench::CacheEndpoint> again =
        cabench::ParseCacheUrl(cache->ToString());
    Check(again.ok() && again->host == cache->host &&
          again->port == cache->port && again->db == cache->db &&
          again->cluster == cache->cluster &&
          again->seeds.size() == cache->seeds.size());
    Check(!cache->cluster || (cache->db == 0 && !cache->seeds.empty()));
    cabench::IsLoopbackHost(cache->host);
  } else {
    Check(std::string(cache.status().message()).find('\n') ==
          std::string::npos);
  }

  absl::StatusOr<cabench::DbEndpoint> db = cabench::ParseDbUrl(url);
  if (db.ok()) {
    Check(db->password.empty());
    Check(!db->user.empty() && !db->schema.empty() && !db->host.empty());
    Check(db->user.find(':') == std::string::npos);
    absl::StatusOr<cabench::DbEndpoint> again =
        cabench::ParseDbUrl(db->ToString());
    Check(again.ok() && again->user == db->user && again->host == db->host &&
          again->port == db->port && again->schema == db->schema);
  } else {
    const std::string message(db.status().message());
    Check(message.find('\n') == std::string::npos);
  }

  // A password in a URL is refused without being quoted back: splice a
  // known secret into the input as USER:SECRET@REST (and :SECRET@ for the
  // cache URL); whatever the rest, the message must not contain it.
  constexpr std::string_view kSecret = "S3cr3tFuzzPw";
  if (url.find(kSecret) == std::string_view::npos) {
    const size_t at = url.find('@');
    const std::string_view user = url.substr(0, at);
    const std::string_view rest =
        at == std::string_view::npos ? "" : url.substr(at + 1);
    const std::string with_secret =
        std::string("mysql://") + std::string(user) + ":" +
        std::string(kSecret) + "@" + std::string(rest);
    absl::StatusOr<cabench::DbEndpoint> refused =
        cabench::ParseDbUrl(with_secret);
    Check(!refused.ok());
    Check(std::string(refused.status().message()).find(kSecret) ==
          std::string::npos);
    absl::StatusOr<cabench::CacheEndpoint> cache_refused =
        cabench::ParseCacheUrl(std::string("redis://:") + std::string(kSecret) +
                               "@" + std::string(rest));
    Check(!cache_refused.ok());
    Check(std::string(cache_refused.status().message()).find(kSecret) ==
          std::string::npos);
  }
  return 0;
}

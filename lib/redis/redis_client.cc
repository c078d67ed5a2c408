#include "lib/redis/redis_client.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "lib/redis/redis_cluster_client.h"
#include "lib/redis/redis_connection.h"

namespace cabench {
namespace {

using internal::RedisConnection;
using internal::ReplyPtr;

// One connection; every command goes to it.
class RedisClient final : public internal::KeyCommandClient {
 public:
  explicit RedisClient(const CacheEndpoint& endpoint)
      : conn_(endpoint.host, endpoint.port, endpoint.db, endpoint.timeouts) {}

  absl::Status Connect() { return conn_.Connect(); }

  absl::StatusOr<int64_t> DeletePrefix(std::string_view prefix) override {
    return conn_.DeletePrefix(prefix, /*one_slot_per_command=*/false);
  }
  absl::Status Ping() override { return conn_.Ping(); }
  absl::Status Reconnect() override { return conn_.Connect(); }
  absl::StatusOr<std::string> ServerInfo() override { return conn_.ServerInfo(); }
  absl::StatusOr<std::string> Info(std::string_view section) override {
    return conn_.Info(section);
  }
  absl::StatusOr<int64_t> DbSize() override { return conn_.DbSize(); }
  absl::StatusOr<std::string> ClientList() override { return conn_.ClientList(); }
  absl::StatusOr<KvCommands> Commands() const override { return conn_.commands(); }
  absl::StatusOr<int64_t> CountPrefix(std::string_view prefix) override {
    return conn_.CountPrefix(prefix);
  }
  absl::StatusOr<std::string> ConfigGet(std::string_view name) override {
    return conn_.ConfigGet(name);
  }
  absl::Status ConfigSet(std::string_view name, std::string_view value) override {
    return conn_.ConfigSet(name, value);
  }

 private:
  absl::StatusOr<RedisConnection*> RunForKey(std::string_view, int argc, const char** argv,
                                             const size_t* lens, ReplyPtr* reply) override {
    if (absl::Status s = conn_.Run(argc, argv, lens, reply); !s.ok()) return s;
    return &conn_;
  }

  RedisConnection conn_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<KvClient>> NewKvClient(const CacheEndpoint& endpoint) {
  if (endpoint.cluster) return NewRedisClusterClient(endpoint);
  return NewRedisClient(endpoint);
}

absl::StatusOr<std::unique_ptr<KvClient>> NewRedisClient(const CacheEndpoint& endpoint) {
  if (absl::Status s = internal::ValidateCacheEndpoint(endpoint); !s.ok()) return s;
  internal::IgnoreSigpipeOnce();
  auto client = std::make_unique<RedisClient>(endpoint);
  if (absl::Status s = client->Connect(); !s.ok()) return s;
  return std::unique_ptr<KvClient>(std::move(client));
}

namespace internal {

std::string EscapeRedisGlob(std::string_view prefix) {
  std::string escaped;
  escaped.reserve(prefix.size() + 8);
  for (char c : prefix) {
    switch (c) {
      case '*':
      case '?':
      case '[':
      case ']':
      case '\\':
        escaped.push_back('\\');
        break;
      default:
        break;
    }
    escaped.push_back(c);
  }
  return escaped;
}

absl::StatusOr<std::string> DescribeServer(std::string_view info) {
  std::string_view redis_version;
  std::string_view valkey_version;
  bool valkey_name = false;
  while (!info.empty()) {
    size_t eol = info.find('\n');
    std::string_view line = info.substr(0, eol);
    info = eol == std::string_view::npos ? std::string_view() : info.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    if (name == "redis_version") {
      redis_version = value;
    } else if (name == "valkey_version") {
      valkey_version = value;
    } else if (name == "server_name" && value == "valkey") {
      valkey_name = true;
    }
  }
  if (!valkey_version.empty()) {
    return absl::StrCat("valkey ", absl::string_view(valkey_version.data(), valkey_version.size()));
  }
  if (redis_version.empty()) {
    return absl::InternalError("INFO server has neither redis_version nor valkey_version");
  }
  return absl::StrCat(valkey_name ? "valkey " : "redis ",
                      absl::string_view(redis_version.data(), redis_version.size()));
}

}  // namespace internal
}  // namespace cabench

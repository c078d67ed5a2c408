#include "lib/redis/redis_client.h"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <sys/time.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace cabench {
namespace {

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

// absl 20220623 on Debian has its own string_view type.
absl::string_view Sv(std::string_view s) { return {s.data(), s.size()}; }

// hiredis may be handed an empty view whose data() is null; it only reads
// `len` bytes, but give it a valid pointer anyway.
const char* DataOf(std::string_view s) { return s.empty() ? "" : s.data(); }

timeval ToTimeval(int64_t ms) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(ms / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
  return tv;
}

const char* ReplyTypeName(int type) {
  switch (type) {
    case REDIS_REPLY_STRING:
      return "string";
    case REDIS_REPLY_ARRAY:
      return "array";
    case REDIS_REPLY_INTEGER:
      return "integer";
    case REDIS_REPLY_NIL:
      return "nil";
    case REDIS_REPLY_STATUS:
      return "status";
    case REDIS_REPLY_ERROR:
      return "error";
    default:
      return "unknown";
  }
}

// See the header: a reset connection must give EPIPE, not kill the process.
void IgnoreSigpipeOnce() {
  static const bool ignored = [] {
    struct sigaction current;
    if (sigaction(SIGPIPE, nullptr, &current) != 0) return false;
    if ((current.sa_flags & SA_SIGINFO) != 0 || current.sa_handler != SIG_DFL) {
      return false;
    }
    struct sigaction ignore = {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    return sigaction(SIGPIPE, &ignore, nullptr) == 0;
  }();
  static_cast<void>(ignored);
}

template <size_t N>
constexpr size_t Len(const char (&)[N]) {
  return N - 1;
}

constexpr char kGet[] = "GET";
constexpr char kSet[] = "SET";
constexpr char kPx[] = "PX";
constexpr char kNx[] = "NX";
constexpr char kDel[] = "DEL";
constexpr char kPing[] = "PING";
constexpr char kSelect[] = "SELECT";
constexpr char kScan[] = "SCAN";
constexpr char kMatch[] = "MATCH";
constexpr char kCount[] = "COUNT";
constexpr char kScanCount[] = "1000";
constexpr char kUnlink[] = "UNLINK";
constexpr char kInfo[] = "INFO";
constexpr char kServer[] = "server";
constexpr char kDbSize[] = "DBSIZE";
constexpr char kConfig[] = "CONFIG";

class RedisClient final : public KvClient {
 public:
  explicit RedisClient(const CacheEndpoint& endpoint)
      : endpoint_(endpoint),
        address_(endpoint.host.find(':') != std::string::npos
                     ? absl::StrCat("[", endpoint.host, "]:", endpoint.port)
                     : absl::StrCat(endpoint.host, ":", endpoint.port)) {}

  // Connects, sets the command timeout and selects the database. On failure
  // the client is left broken with the reason.
  absl::Status Connect();

  absl::StatusOr<bool> Get(std::string_view key, std::string* value) override;
  absl::Status Set(std::string_view key, std::string_view value, int64_t ttl_ms) override;
  absl::StatusOr<bool> SetIfAbsent(std::string_view key, std::string_view value,
                                   int64_t ttl_ms) override;
  absl::Status Del(std::string_view key) override;
  absl::StatusOr<int64_t> DeletePrefix(std::string_view prefix) override;
  absl::Status Ping() override;
  absl::Status Reconnect() override { return Connect(); }
  absl::StatusOr<std::string> ServerInfo() override;
  absl::StatusOr<std::string> Info(std::string_view section) override;
  absl::StatusOr<int64_t> DbSize() override;
  absl::StatusOr<int64_t> CountPrefix(std::string_view prefix) override;
  absl::StatusOr<std::string> ConfigGet(std::string_view name) override;
  absl::Status ConfigSet(std::string_view name, std::string_view value) override;

 private:
  // Sends one command and reads its reply into *reply (never null on OK).
  // Fails fast with Unavailable when broken. A null reply from hiredis leaves
  // the context dead: the client becomes broken and this returns Unavailable
  // (I/O error, EOF, timeout) or Internal (protocol error).
  absl::Status Run(int argc, const char** argv, const size_t* lens, ReplyPtr* reply);
  absl::Status Broken(absl::string_view reason);
  absl::Status ServerError(const char* command, const redisReply& reply) const;
  absl::Status Unexpected(const char* command, const redisReply& reply) const;
  // SCAN MATCH prefix* COUNT 1000 to the end, handing each non-empty batch of
  // keys to `batch_fn` (which may send commands of its own); stops at the
  // first error.
  absl::Status ScanPrefix(std::string_view prefix,
                          const std::function<absl::Status(std::vector<std::string>&)>& batch_fn);

  const CacheEndpoint endpoint_;
  const std::string address_;  // "host:port", for messages
  ContextPtr context_;         // null while broken
  std::string broken_reason_;  // why context_ is null
};

absl::Status RedisClient::Broken(absl::string_view reason) {
  context_.reset();
  broken_reason_ = std::string(reason);
  return absl::UnavailableError(reason);
}

absl::Status RedisClient::Connect() {
  context_.reset();
  ContextPtr context(redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port,
                                             ToTimeval(endpoint_.timeouts.connect_ms)));
  if (context == nullptr) {
    return Broken(absl::StrCat("redis ", address_, ": cannot allocate a hiredis context"));
  }
  if (context->err != 0) {
    return Broken(absl::StrCat("redis ", address_, ": connect: ", context->errstr,
                               " (connect timeout ", endpoint_.timeouts.connect_ms, " ms)"));
  }
  if (redisSetTimeout(context.get(), ToTimeval(endpoint_.timeouts.io_ms)) != REDIS_OK) {
    return Broken(absl::StrCat("redis ", address_, ": setting the timeout: ", context->errstr));
  }
  context_ = std::move(context);
  broken_reason_.clear();

  char db[16];
  auto [end, ec] = std::to_chars(db, db + sizeof(db), endpoint_.db);
  static_cast<void>(ec);
  const char* argv[] = {kSelect, db};
  const size_t lens[] = {Len(kSelect), static_cast<size_t>(end - db)};
  ReplyPtr reply;
  if (absl::Status s = Run(2, argv, lens, &reply); !s.ok()) return s;
  absl::Status status;
  if (reply->type == REDIS_REPLY_ERROR) {
    status = ServerError(kSelect, *reply);
  } else if (reply->type != REDIS_REPLY_STATUS) {
    status = Unexpected(kSelect, *reply);
  }
  if (!status.ok()) {
    // Not an I/O error, but a connection on the wrong database is no use.
    context_.reset();
    broken_reason_ = std::string(status.message());
  }
  return status;
}

absl::Status RedisClient::Run(int argc, const char** argv, const size_t* lens, ReplyPtr* reply) {
  if (context_ == nullptr) {
    return absl::UnavailableError(absl::StrCat("redis ", address_,
                                               ": connection broken by an earlier "
                                               "error; call Reconnect() (",
                                               broken_reason_, ")"));
  }
  errno = 0;
  void* raw = redisCommandArgv(context_.get(), argc, argv, lens);
  const int saved_errno = errno;
  if (raw != nullptr) {
    reply->reset(static_cast<redisReply*>(raw));
    return absl::OkStatus();
  }
  const int err = context_->err;
  std::string message = absl::StrCat("redis ", address_, ": ", absl::string_view(argv[0], lens[0]),
                                     ": ", context_->errstr);
  if (err == REDIS_ERR_IO && (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK)) {
    absl::StrAppend(&message, " (timed out after ", endpoint_.timeouts.io_ms, " ms)");
  }
  absl::Status status = Broken(message);
  if (err == REDIS_ERR_PROTOCOL || err == REDIS_ERR_OOM || err == REDIS_ERR_OTHER) {
    return absl::InternalError(message);
  }
  return status;
}

absl::Status RedisClient::ServerError(const char* command, const redisReply& reply) const {
  return absl::InternalError(
      absl::StrCat("redis ", address_, ": ", command, ": ",
                   absl::string_view(reply.str, static_cast<size_t>(reply.len))));
}

absl::Status RedisClient::Unexpected(const char* command, const redisReply& reply) const {
  return absl::InternalError(absl::StrCat(
      "redis ", address_, ": ", command, ": unexpected reply of type ", ReplyTypeName(reply.type)));
}

absl::StatusOr<bool> RedisClient::Get(std::string_view key, std::string* value) {
  const char* argv[] = {kGet, DataOf(key)};
  const size_t lens[] = {Len(kGet), key.size()};
  ReplyPtr reply;
  if (absl::Status s = Run(2, argv, lens, &reply); !s.ok()) return s;
  switch (reply->type) {
    case REDIS_REPLY_STRING:
      value->assign(reply->str, reply->len);
      return true;
    case REDIS_REPLY_NIL:
      value->clear();
      return false;
    case REDIS_REPLY_ERROR:
      return ServerError(kGet, *reply);
    default:
      return Unexpected(kGet, *reply);
  }
}

absl::Status RedisClient::Set(std::string_view key, std::string_view value, int64_t ttl_ms) {
  if (ttl_ms <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("redis SET: ttl_ms must be > 0, got ", ttl_ms));
  }
  char ttl[24];
  auto [end, ec] = std::to_chars(ttl, ttl + sizeof(ttl), ttl_ms);
  static_cast<void>(ec);  // 24 bytes hold any int64_t
  const char* argv[] = {kSet, DataOf(key), DataOf(value), kPx, ttl};
  const size_t lens[] = {Len(kSet), key.size(), value.size(), Len(kPx),
                         static_cast<size_t>(end - ttl)};
  ReplyPtr reply;
  if (absl::Status s = Run(5, argv, lens, &reply); !s.ok()) return s;
  if (reply->type == REDIS_REPLY_STATUS) return absl::OkStatus();
  if (reply->type == REDIS_REPLY_ERROR) return ServerError(kSet, *reply);
  return Unexpected(kSet, *reply);
}

absl::StatusOr<bool> RedisClient::SetIfAbsent(std::string_view key, std::string_view value,
                                              int64_t ttl_ms) {
  if (ttl_ms <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("redis SET NX: ttl_ms must be > 0, got ", ttl_ms));
  }
  char ttl[24];
  auto [end, ec] = std::to_chars(ttl, ttl + sizeof(ttl), ttl_ms);
  static_cast<void>(ec);  // 24 bytes hold any int64_t
  const char* argv[] = {kSet, DataOf(key), DataOf(value), kNx, kPx, ttl};
  const size_t lens[] = {Len(kSet), key.size(), value.size(),
                         Len(kNx),  Len(kPx),   static_cast<size_t>(end - ttl)};
  ReplyPtr reply;
  if (absl::Status s = Run(6, argv, lens, &reply); !s.ok()) return s;
  // NX answers +OK when it set the key and a nil bulk when the key existed.
  switch (reply->type) {
    case REDIS_REPLY_STATUS:
      if (absl::string_view(reply->str, reply->len) == "OK") return true;
      return Unexpected(kSet, *reply);
    case REDIS_REPLY_NIL:
      return false;
    case REDIS_REPLY_ERROR:
      return ServerError(kSet, *reply);
    default:
      return Unexpected(kSet, *reply);
  }
}

absl::Status RedisClient::Del(std::string_view key) {
  const char* argv[] = {kDel, DataOf(key)};
  const size_t lens[] = {Len(kDel), key.size()};
  ReplyPtr reply;
  if (absl::Status s = Run(2, argv, lens, &reply); !s.ok()) return s;
  if (reply->type == REDIS_REPLY_INTEGER) return absl::OkStatus();
  if (reply->type == REDIS_REPLY_ERROR) return ServerError(kDel, *reply);
  return Unexpected(kDel, *reply);
}

absl::Status RedisClient::ScanPrefix(
    std::string_view prefix,
    const std::function<absl::Status(std::vector<std::string>&)>& batch_fn) {
  if (prefix.empty()) {
    return absl::InvalidArgumentError("redis: an empty prefix would match every key");
  }
  const std::string pattern = internal::EscapeRedisGlob(prefix) + "*";
  std::string cursor = "0";
  std::vector<std::string> keys;
  do {
    {
      const char* scan_argv[] = {kScan,           cursor.c_str(), kMatch,
                                 pattern.c_str(), kCount,         kScanCount};
      const size_t scan_lens[] = {Len(kScan),     cursor.size(), Len(kMatch),
                                  pattern.size(), Len(kCount),   Len(kScanCount)};
      ReplyPtr reply;
      if (absl::Status s = Run(6, scan_argv, scan_lens, &reply); !s.ok()) {
        return s;
      }
      if (reply->type == REDIS_REPLY_ERROR) return ServerError(kScan, *reply);
      if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
          reply->element[0]->type != REDIS_REPLY_STRING ||
          reply->element[1]->type != REDIS_REPLY_ARRAY) {
        return Unexpected(kScan, *reply);
      }
      cursor.assign(reply->element[0]->str, reply->element[0]->len);
      // The keys are copied out: the reply is freed before the next command.
      const redisReply& batch = *reply->element[1];
      keys.clear();
      for (size_t i = 0; i < batch.elements; ++i) {
        if (batch.element[i]->type != REDIS_REPLY_STRING) {
          return Unexpected(kScan, *batch.element[i]);
        }
        keys.emplace_back(batch.element[i]->str, batch.element[i]->len);
      }
    }
    if (keys.empty()) continue;
    if (absl::Status s = batch_fn(keys); !s.ok()) return s;
  } while (cursor != "0");
  return absl::OkStatus();
}

absl::StatusOr<int64_t> RedisClient::DeletePrefix(std::string_view prefix) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  int64_t deleted = 0;
  absl::Status s = ScanPrefix(prefix, [&](std::vector<std::string>& keys) -> absl::Status {
    argv.assign(1, kUnlink);
    lens.assign(1, Len(kUnlink));
    for (const std::string& key : keys) {
      argv.push_back(key.data());
      lens.push_back(key.size());
    }
    ReplyPtr reply;
    if (absl::Status r = Run(static_cast<int>(argv.size()), argv.data(), lens.data(), &reply);
        !r.ok()) {
      return r;
    }
    if (reply->type == REDIS_REPLY_ERROR) return ServerError(kUnlink, *reply);
    if (reply->type != REDIS_REPLY_INTEGER) return Unexpected(kUnlink, *reply);
    deleted += reply->integer;
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return deleted;
}

absl::StatusOr<int64_t> RedisClient::CountPrefix(std::string_view prefix) {
  int64_t count = 0;
  absl::Status s = ScanPrefix(prefix, [&](std::vector<std::string>& keys) {
    count += static_cast<int64_t>(keys.size());
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return count;
}

absl::StatusOr<std::string> RedisClient::ConfigGet(std::string_view name) {
  const char* argv[] = {kConfig, kGet, DataOf(name)};
  const size_t lens[] = {Len(kConfig), Len(kGet), name.size()};
  ReplyPtr reply;
  if (absl::Status s = Run(3, argv, lens, &reply); !s.ok()) return s;
  if (reply->type == REDIS_REPLY_ERROR) return ServerError(kConfig, *reply);
  if (reply->type != REDIS_REPLY_ARRAY) return Unexpected(kConfig, *reply);
  if (reply->elements == 0) {
    return absl::NotFoundError(absl::StrCat("redis CONFIG GET: no parameter '",
                                            absl::string_view(name.data(), name.size()), "'"));
  }
  if (reply->elements != 2 || reply->element[1]->type != REDIS_REPLY_STRING) {
    return Unexpected(kConfig, *reply);
  }
  return std::string(reply->element[1]->str, reply->element[1]->len);
}

absl::Status RedisClient::ConfigSet(std::string_view name, std::string_view value) {
  const char* argv[] = {kConfig, kSet, DataOf(name), DataOf(value)};
  const size_t lens[] = {Len(kConfig), Len(kSet), name.size(), value.size()};
  ReplyPtr reply;
  if (absl::Status s = Run(4, argv, lens, &reply); !s.ok()) return s;
  if (reply->type == REDIS_REPLY_ERROR) return ServerError(kConfig, *reply);
  if (reply->type != REDIS_REPLY_STATUS) return Unexpected(kConfig, *reply);
  return absl::OkStatus();
}

absl::Status RedisClient::Ping() {
  const char* argv[] = {kPing};
  const size_t lens[] = {Len(kPing)};
  ReplyPtr reply;
  if (absl::Status s = Run(1, argv, lens, &reply); !s.ok()) return s;
  if (reply->type == REDIS_REPLY_STATUS && absl::string_view(reply->str, reply->len) == "PONG") {
    return absl::OkStatus();
  }
  if (reply->type == REDIS_REPLY_ERROR) return ServerError(kPing, *reply);
  return Unexpected(kPing, *reply);
}

absl::StatusOr<std::string> RedisClient::ServerInfo() {
  const char* argv[] = {kInfo, kServer};
  const size_t lens[] = {Len(kInfo), Len(kServer)};
  ReplyPtr reply;
  if (absl::Status s = Run(2, argv, lens, &reply); !s.ok()) return s;
  if (reply->type == REDIS_REPLY_ERROR) return ServerError(kInfo, *reply);
  if (reply->type != REDIS_REPLY_STRING) return Unexpected(kInfo, *reply);
  absl::StatusOr<std::string> description =
      internal::DescribeServer(std::string_view(reply->str, reply->len));
  if (!description.ok()) {
    return absl::InternalError(
        absl::StrCat("redis ", address_, ": ", description.status().message()));
  }
  return description;
}

absl::StatusOr<std::string> RedisClient::Info(std::string_view section) {
  const char* argv[] = {kInfo, DataOf(section)};
  const size_t lens[] = {Len(kInfo), section.size()};
  ReplyPtr reply;
  if (absl::Status s = Run(section.empty() ? 1 : 2, argv, lens, &reply); !s.ok()) return s;
  if (reply->type == REDIS_REPLY_ERROR) return ServerError(kInfo, *reply);
  if (reply->type != REDIS_REPLY_STRING) return Unexpected(kInfo, *reply);
  return std::string(reply->str, reply->len);
}

absl::StatusOr<int64_t> RedisClient::DbSize() {
  const char* argv[] = {kDbSize};
  const size_t lens[] = {Len(kDbSize)};
  ReplyPtr reply;
  if (absl::Status s = Run(1, argv, lens, &reply); !s.ok()) return s;
  if (reply->type == REDIS_REPLY_ERROR) return ServerError(kDbSize, *reply);
  if (reply->type != REDIS_REPLY_INTEGER) return Unexpected(kDbSize, *reply);
  return static_cast<int64_t>(reply->integer);
}

}  // namespace

absl::StatusOr<std::unique_ptr<KvClient>> NewRedisClient(const CacheEndpoint& endpoint) {
  if (endpoint.host.empty()) {
    return absl::InvalidArgumentError("redis endpoint: empty host");
  }
  if (endpoint.port < 1 || endpoint.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("redis endpoint: port ", endpoint.port, " is out of range 1..65535"));
  }
  if (endpoint.db < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("redis endpoint: negative database ", endpoint.db));
  }
  if (endpoint.timeouts.connect_ms <= 0 || endpoint.timeouts.io_ms <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("redis endpoint: timeouts must be > 0 (connect ",
                                                   endpoint.timeouts.connect_ms, " ms, io ",
                                                   endpoint.timeouts.io_ms, " ms)"));
  }
  IgnoreSigpipeOnce();
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
    return absl::StrCat("valkey ", Sv(valkey_version));
  }
  if (redis_version.empty()) {
    return absl::InternalError("INFO server has neither redis_version nor valkey_version");
  }
  return absl::StrCat(valkey_name ? "valkey " : "redis ", Sv(redis_version));
}

}  // namespace internal
}  // namespace cabench

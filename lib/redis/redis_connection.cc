#include "lib/redis/redis_connection.h"

#include <hiredis/hiredis.h>
#include <signal.h>
#include <sys/time.h>

#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "lib/clients/own_sessions.h"
#include "lib/redis/redis_client.h"

namespace cabench {
namespace internal {
namespace {

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

template <size_t N>
constexpr size_t Len(const char (&)[N]) {
  return N - 1;
}

constexpr char kGet[] = "GET";
constexpr char kSet[] = "SET";
constexpr char kPx[] = "PX";
constexpr char kNx[] = "NX";
constexpr char kDel[] = "DEL";
constexpr char kEval[] = "EVAL";
constexpr char kOneKey[] = "1";
// Compare-and-delete, atomic because Redis runs a script as one command.
constexpr char kDelIfEqualsScript[] =
    "if redis.call('get',KEYS[1])==ARGV[1] then return redis.call('del',KEYS[1]) else return 0 "
    "end";
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
constexpr char kClient[] = "CLIENT";
constexpr char kSetName[] = "SETNAME";
constexpr char kList[] = "LIST";

// Error replies the server sends instead of running the command, without
// counting it in total_commands_processed: a cluster's redirects and
// refusals.
bool RefusedUncounted(const redisReply& reply) {
  const absl::string_view text(reply.str == nullptr ? "" : reply.str, reply.len);
  for (absl::string_view prefix : {"MOVED ", "ASK ", "TRYAGAIN", "CLUSTERDOWN"}) {
    if (absl::StartsWith(text, prefix)) return true;
  }
  return false;
}

// Formats ttl_ms into `buf`; returns its length. 24 bytes hold any int64_t.
size_t FormatInt(int64_t value, char (&buf)[24]) {
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  static_cast<void>(ec);
  return static_cast<size_t>(end - buf);
}

}  // namespace

absl::Status ValidateCacheEndpoint(const CacheEndpoint& endpoint) {
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
  return absl::OkStatus();
}

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

std::string_view ReplyText(const redisReply& reply) {
  if (reply.str == nullptr) return {};
  return std::string_view(reply.str, static_cast<size_t>(reply.len));
}

RedisConnection::RedisConnection(std::string host, int port, int db, Timeouts timeouts)
    : host_(std::move(host)),
      port_(port),
      db_(db),
      timeouts_(timeouts),
      address_(host_.find(':') != std::string::npos ? absl::StrCat("[", host_, "]:", port_)
                                                    : absl::StrCat(host_, ":", port_)) {}

absl::Status RedisConnection::Broken(std::string_view reason) {
  context_.reset();
  broken_reason_ = std::string(reason);
  return absl::UnavailableError(Sv(reason));
}

absl::Status RedisConnection::Connect() {
  context_.reset();
  std::unique_ptr<redisContext, ContextDeleter> context(
      redisConnectWithTimeout(host_.c_str(), port_, ToTimeval(timeouts_.connect_ms)));
  if (context == nullptr) {
    return Broken(absl::StrCat("redis ", address_, ": cannot allocate a hiredis context"));
  }
  if (context->err != 0) {
    return Broken(absl::StrCat("redis ", address_, ": connect: ", context->errstr,
                               " (connect timeout ", timeouts_.connect_ms, " ms)"));
  }
  if (redisSetTimeout(context.get(), ToTimeval(timeouts_.io_ms)) != REDIS_OK) {
    return Broken(absl::StrCat("redis ", address_, ": setting the timeout: ", context->errstr));
  }
  context_ = std::move(context);
  broken_reason_.clear();

  char db[24];
  const char* argv[] = {kSelect, db};
  const size_t lens[] = {Len(kSelect), FormatInt(db_, db)};
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
    return status;
  }
  // The name tells the server's CLIENT LIST that this connection is this
  // process's (own_sessions.h). A server that refuses it (an ACL without
  // CLIENT) still serves the connection, which then looks like another
  // client's there.
  const std::string& name = OwnCacheClientName();
  const char* name_argv[] = {kClient, kSetName, name.c_str()};
  const size_t name_lens[] = {Len(kClient), Len(kSetName), name.size()};
  return Run(3, name_argv, name_lens, &reply);
}

void RedisConnection::Count(const redisReply* reply) {
  ++commands_.sent;
  if (reply == nullptr) {
    ++commands_.unsure;
  } else if (reply->type == REDIS_REPLY_ERROR) {
    ++(RefusedUncounted(*reply) ? commands_.refused : commands_.unsure);
  }
}

absl::Status RedisConnection::Run(int argc, const char** argv, const size_t* lens,
                                  ReplyPtr* reply) {
  if (context_ == nullptr) {
    return absl::UnavailableError(absl::StrCat("redis ", address_,
                                               ": connection broken by an earlier "
                                               "error; call Reconnect() (",
                                               broken_reason_, ")"));
  }
  errno = 0;
  void* raw = redisCommandArgv(context_.get(), argc, argv, lens);
  const int saved_errno = errno;
  Count(static_cast<const redisReply*>(raw));
  if (raw != nullptr) {
    reply->reset(static_cast<redisReply*>(raw));
    return absl::OkStatus();
  }
  const int err = context_->err;
  std::string message = absl::StrCat("redis ", address_, ": ", absl::string_view(argv[0], lens[0]),
                                     ": ", context_->errstr);
  if (err == REDIS_ERR_IO && (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK)) {
    absl::StrAppend(&message, " (timed out after ", timeouts_.io_ms, " ms)");
  }
  absl::Status status = Broken(message);
  if (err == REDIS_ERR_PROTOCOL || err == REDIS_ERR_OOM || err == REDIS_ERR_OTHER) {
    return absl::InternalError(message);
  }
  return status;
}

absl::Status RedisConnection::ServerError(std::string_view command, const redisReply& reply) const {
  return absl::InternalError(
      absl::StrCat("redis ", address_, ": ", Sv(command), ": ", Sv(ReplyText(reply))));
}

absl::Status RedisConnection::Unexpected(std::string_view command, const redisReply& reply) const {
  return absl::InternalError(absl::StrCat("redis ", address_, ": ", Sv(command),
                                          ": unexpected reply of type ",
                                          ReplyTypeName(reply.type)));
}

absl::Status RedisConnection::Expect(std::string_view command, const redisReply& reply,
                                     int type) const {
  if (reply.type == type) return absl::OkStatus();
  if (reply.type == REDIS_REPLY_ERROR) return ServerError(command, reply);
  return Unexpected(command, reply);
}

template <typename BatchFn>
absl::Status RedisConnection::ScanPrefix(std::string_view prefix, BatchFn batch_fn) {
  if (prefix.empty()) {
    return absl::InvalidArgumentError("redis: an empty prefix would match every key");
  }
  const std::string pattern = EscapeRedisGlob(prefix) + "*";
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

absl::Status RedisConnection::PipelineKeys(const char* command, const std::string* keys,
                                           size_t count, int64_t* sum) {
  const size_t command_len = std::string_view(command).size();
  for (size_t i = 0; i < count; ++i) {
    const char* argv[] = {command, keys[i].data()};
    const size_t lens[] = {command_len, keys[i].size()};
    if (redisAppendCommandArgv(context_.get(), 2, argv, lens) != REDIS_OK) {
      return Broken(absl::StrCat("redis ", address_, ": ", command, ": ", context_->errstr));
    }
  }
  absl::Status first_error;
  for (size_t i = 0; i < count; ++i) {
    void* raw = nullptr;
    if (redisGetReply(context_.get(), &raw) != REDIS_OK || raw == nullptr) {
      // This one and the rest were (perhaps) written, and not answered.
      commands_.sent += static_cast<int64_t>(count - i);
      commands_.unsure += static_cast<int64_t>(count - i);
      return Broken(absl::StrCat("redis ", address_, ": ", command, ": ", context_->errstr));
    }
    ReplyPtr reply(static_cast<redisReply*>(raw));
    Count(reply.get());
    if (reply->type == REDIS_REPLY_INTEGER) {
      *sum += reply->integer;
    } else if (first_error.ok()) {
      // Read every reply before reporting, so the connection stays in step.
      first_error = reply->type == REDIS_REPLY_ERROR ? ServerError(command, *reply)
                                                     : Unexpected(command, *reply);
    }
  }
  return first_error;
}

absl::StatusOr<int64_t> RedisConnection::DeletePrefix(std::string_view prefix,
                                                      bool one_slot_per_command) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  int64_t deleted = 0;
  absl::Status s = ScanPrefix(prefix, [&](std::vector<std::string>& keys) -> absl::Status {
    if (one_slot_per_command) return PipelineKeys(kUnlink, keys.data(), keys.size(), &deleted);
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

absl::StatusOr<int64_t> RedisConnection::CountPrefix(std::string_view prefix) {
  int64_t count = 0;
  absl::Status s = ScanPrefix(prefix, [&](std::vector<std::string>& keys) {
    count += static_cast<int64_t>(keys.size());
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return count;
}

absl::StatusOr<std::string> RedisConnection::ConfigGet(std::string_view name) {
  const char* argv[] = {kConfig, kGet, DataOf(name)};
  const size_t lens[] = {Len(kConfig), Len(kGet), name.size()};
  ReplyPtr reply;
  if (absl::Status s = Run(3, argv, lens, &reply); !s.ok()) return s;
  if (reply->type == REDIS_REPLY_ERROR) return ServerError(kConfig, *reply);
  if (reply->type != REDIS_REPLY_ARRAY) return Unexpected(kConfig, *reply);
  if (reply->elements == 0) {
    return absl::NotFoundError(absl::StrCat("redis CONFIG GET: no parameter '", Sv(name), "'"));
  }
  if (reply->elements != 2 || reply->element[1]->type != REDIS_REPLY_STRING) {
    return Unexpected(kConfig, *reply);
  }
  return std::string(reply->element[1]->str, reply->element[1]->len);
}

absl::Status RedisConnection::ConfigSet(std::string_view name, std::string_view value) {
  const char* argv[] = {kConfig, kSet, DataOf(name), DataOf(value)};
  const size_t lens[] = {Len(kConfig), Len(kSet), name.size(), value.size()};
  ReplyPtr reply;
  if (absl::Status s = Run(4, argv, lens, &reply); !s.ok()) return s;
  return Expect(kConfig, *reply, REDIS_REPLY_STATUS);
}

absl::Status RedisConnection::Ping() {
  const char* argv[] = {kPing};
  const size_t lens[] = {Len(kPing)};
  ReplyPtr reply;
  if (absl::Status s = Run(1, argv, lens, &reply); !s.ok()) return s;
  if (reply->type == REDIS_REPLY_STATUS && ReplyText(*reply) == "PONG") {
    return absl::OkStatus();
  }
  if (reply->type == REDIS_REPLY_ERROR) return ServerError(kPing, *reply);
  return Unexpected(kPing, *reply);
}

absl::StatusOr<std::string> RedisConnection::ServerInfo() {
  absl::StatusOr<std::string> info = Info(kServer);
  if (!info.ok()) return info.status();
  absl::StatusOr<std::string> description = DescribeServer(*info);
  if (!description.ok()) {
    return absl::InternalError(
        absl::StrCat("redis ", address_, ": ", description.status().message()));
  }
  return description;
}

absl::StatusOr<std::string> RedisConnection::Info(std::string_view section) {
  const char* argv[] = {kInfo, DataOf(section)};
  const size_t lens[] = {Len(kInfo), section.size()};
  ReplyPtr reply;
  if (absl::Status s = Run(section.empty() ? 1 : 2, argv, lens, &reply); !s.ok()) return s;
  if (absl::Status s = Expect(kInfo, *reply, REDIS_REPLY_STRING); !s.ok()) return s;
  return std::string(reply->str, reply->len);
}

absl::StatusOr<std::string> RedisConnection::ClientList() {
  const char* argv[] = {kClient, kList};
  const size_t lens[] = {Len(kClient), Len(kList)};
  ReplyPtr reply;
  if (absl::Status s = Run(2, argv, lens, &reply); !s.ok()) return s;
  if (absl::Status s = Expect("CLIENT LIST", *reply, REDIS_REPLY_STRING); !s.ok()) return s;
  return std::string(reply->str, reply->len);
}

absl::StatusOr<int64_t> RedisConnection::DbSize() {
  const char* argv[] = {kDbSize};
  const size_t lens[] = {Len(kDbSize)};
  ReplyPtr reply;
  if (absl::Status s = Run(1, argv, lens, &reply); !s.ok()) return s;
  if (absl::Status s = Expect(kDbSize, *reply, REDIS_REPLY_INTEGER); !s.ok()) return s;
  return static_cast<int64_t>(reply->integer);
}

absl::StatusOr<bool> KeyCommandClient::Get(std::string_view key, std::string* value) {
  const char* argv[] = {kGet, DataOf(key)};
  const size_t lens[] = {Len(kGet), key.size()};
  ReplyPtr reply;
  absl::StatusOr<RedisConnection*> conn = RunForKey(key, 2, argv, lens, &reply);
  if (!conn.ok()) return conn.status();
  switch (reply->type) {
    case REDIS_REPLY_STRING:
      value->assign(reply->str, reply->len);
      return true;
    case REDIS_REPLY_NIL:
      value->clear();
      return false;
    case REDIS_REPLY_ERROR:
      return (*conn)->ServerError(kGet, *reply);
    default:
      return (*conn)->Unexpected(kGet, *reply);
  }
}

absl::Status KeyCommandClient::Set(std::string_view key, std::string_view value, int64_t ttl_ms) {
  if (ttl_ms <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("redis SET: ttl_ms must be > 0, got ", ttl_ms));
  }
  char ttl[24];
  const char* argv[] = {kSet, DataOf(key), DataOf(value), kPx, ttl};
  const size_t lens[] = {Len(kSet), key.size(), value.size(), Len(kPx), FormatInt(ttl_ms, ttl)};
  ReplyPtr reply;
  absl::StatusOr<RedisConnection*> conn = RunForKey(key, 5, argv, lens, &reply);
  if (!conn.ok()) return conn.status();
  return (*conn)->Expect(kSet, *reply, REDIS_REPLY_STATUS);
}

absl::StatusOr<bool> KeyCommandClient::SetIfAbsent(std::string_view key, std::string_view value,
                                                   int64_t ttl_ms) {
  if (ttl_ms <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("redis SET NX: ttl_ms must be > 0, got ", ttl_ms));
  }
  char ttl[24];
  const char* argv[] = {kSet, DataOf(key), DataOf(value), kNx, kPx, ttl};
  const size_t lens[] = {Len(kSet), key.size(), value.size(),
                         Len(kNx),  Len(kPx),   FormatInt(ttl_ms, ttl)};
  ReplyPtr reply;
  absl::StatusOr<RedisConnection*> conn = RunForKey(key, 6, argv, lens, &reply);
  if (!conn.ok()) return conn.status();
  // NX answers +OK when it set the key and a nil bulk when the key existed.
  switch (reply->type) {
    case REDIS_REPLY_STATUS:
      if (ReplyText(*reply) == "OK") return true;
      return (*conn)->Unexpected(kSet, *reply);
    case REDIS_REPLY_NIL:
      return false;
    case REDIS_REPLY_ERROR:
      return (*conn)->ServerError(kSet, *reply);
    default:
      return (*conn)->Unexpected(kSet, *reply);
  }
}

absl::Status KeyCommandClient::Del(std::string_view key) {
  const char* argv[] = {kDel, DataOf(key)};
  const size_t lens[] = {Len(kDel), key.size()};
  ReplyPtr reply;
  absl::StatusOr<RedisConnection*> conn = RunForKey(key, 2, argv, lens, &reply);
  if (!conn.ok()) return conn.status();
  return (*conn)->Expect(kDel, *reply, REDIS_REPLY_INTEGER);
}

absl::StatusOr<bool> KeyCommandClient::DelIfEquals(std::string_view key, std::string_view value) {
  const char* argv[] = {kEval, kDelIfEqualsScript, kOneKey, DataOf(key), DataOf(value)};
  const size_t lens[] = {Len(kEval), Len(kDelIfEqualsScript), Len(kOneKey), key.size(),
                         value.size()};
  ReplyPtr reply;
  absl::StatusOr<RedisConnection*> conn = RunForKey(key, 5, argv, lens, &reply);
  if (!conn.ok()) return conn.status();
  // The script answers DEL's count (1) when it deleted, else 0.
  if (absl::Status s = (*conn)->Expect(kEval, *reply, REDIS_REPLY_INTEGER); !s.ok()) return s;
  // The server counts the script's own commands too: its GET, and its DEL
  // when the value matched.
  (*conn)->CountScripted(reply->integer == 1 ? 2 : 1);
  return reply->integer == 1;
}

}  // namespace internal
}  // namespace cabench

// File: lib/redis/redis_connection.h
//
// What the single-node client (redis_client.cc) and the cluster client
// (redis_cluster_client.cc) share: one blocking hiredis connection with
// cabench's error mapping (RedisConnection), the commands one server answers
// for itself (PING, INFO, DBSIZE, CLIENT LIST, SCAN + UNLINK, CONFIG), and the
// key commands of KvClient (GET, SET PX, SET NX PX, DEL, and compare-and-delete
// as EVAL of a one-line Lua script) written once over a hook that sends one
// command for a key (KeyCommandClient). Internal to lib/redis: the only other
// code that may include hiredis.
//
// A connection names itself on the server (CLIENT SETNAME, so that
// lib/servers can tell it from other clients' connections) and counts every
// command it writes, by how the server answered (KvClient::Commands).
//
// Errors follow kv_client.h and redis_client.h: an I/O error, EOF or timeout
// leaves the connection broken (Unavailable, and every later command fails
// fast until Connect() succeeds); an error reply is Internal with the
// server's text; a reply of an unexpected type is Internal.
//
// Thread safety: none; one connection belongs to one client, one thread.
#ifndef CABENCH_LIB_REDIS_REDIS_CONNECTION_H_
#define CABENCH_LIB_REDIS_REDIS_CONNECTION_H_

#include <hiredis/hiredis.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/clients/kv_client.h"
#include "lib/config/endpoints.h"

namespace cabench {
namespace internal {

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};

// The checks of NewRedisClient and NewRedisClusterClient on one endpoint:
// InvalidArgument naming what is wrong, else OK.
absl::Status ValidateCacheEndpoint(const CacheEndpoint& endpoint);

// Sets SIGPIPE to SIG_IGN once, if its disposition is still SIG_DFL (see
// redis_client.h). Thread-safe.
void IgnoreSigpipeOnce();

// The text of an error or status reply.
std::string_view ReplyText(const redisReply& reply);

class RedisConnection {
 public:
  // A connection to host:port that selects `db` and waits at most
  // timeouts.connect_ms to connect, timeouts.io_ms for each reply. Not
  // connected until Connect().
  RedisConnection(std::string host, int port, int db, Timeouts timeouts);
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Connects (again), sets the command timeout, selects the database and
  // names the connection (CLIENT SETNAME OwnCacheClientName(), see
  // lib/clients/own_sessions.h). On failure the connection is broken with
  // the reason; a refused name is not a failure.
  absl::Status Connect();

  // The commands sent on this connection since it was made, over every
  // Connect() (KvClient::Commands).
  const KvCommands& commands() const { return commands_; }
  // Adds `n` commands the server ran inside a script this connection sent.
  void CountScripted(int64_t n) { commands_.scripted += n; }

  bool broken() const { return context_ == nullptr; }
  const std::string& host() const { return host_; }
  int port() const { return port_; }
  // "host:port" ("[v6]:port"), for messages and statistics.
  const std::string& address() const { return address_; }

  // Sends one command and reads its reply into *reply (never null on OK).
  // Fails fast with Unavailable when broken; a null reply from hiredis breaks
  // the connection: Unavailable (I/O error, EOF, timeout) or Internal
  // (protocol error).
  absl::Status Run(int argc, const char** argv, const size_t* lens, ReplyPtr* reply);

  // Internal errors naming this server: an error reply, an unexpected type.
  absl::Status ServerError(std::string_view command, const redisReply& reply) const;
  absl::Status Unexpected(std::string_view command, const redisReply& reply) const;
  // OK when `reply` is of `type` (REDIS_REPLY_*), else ServerError for an
  // error reply and Unexpected for any other.
  absl::Status Expect(std::string_view command, const redisReply& reply, int type) const;

  // The commands of KvClient that one server answers for itself.
  absl::Status Ping();
  absl::StatusOr<std::string> ServerInfo();
  absl::StatusOr<std::string> Info(std::string_view section);
  absl::StatusOr<int64_t> DbSize();
  absl::StatusOr<std::string> ClientList();
  absl::StatusOr<int64_t> CountPrefix(std::string_view prefix);
  absl::StatusOr<std::string> ConfigGet(std::string_view name);
  absl::Status ConfigSet(std::string_view name, std::string_view value);
  // Deletes this server's keys under `prefix`. `one_slot_per_command`: a
  // cluster node refuses UNLINK of keys in different slots (CROSSSLOT), so
  // each key gets its own UNLINK, pipelined per SCAN batch; otherwise one
  // UNLINK per batch.
  absl::StatusOr<int64_t> DeletePrefix(std::string_view prefix, bool one_slot_per_command);

 private:
  absl::Status Broken(std::string_view reason);
  // Counts one command sent, by its reply (null: none came).
  void Count(const redisReply* reply);
  // SCAN MATCH prefix* COUNT 1000 to the end, handing each non-empty batch
  // of keys to `batch_fn` (which may send commands of its own).
  template <typename BatchFn>
  absl::Status ScanPrefix(std::string_view prefix, BatchFn batch_fn);
  // Sends `count` single-key commands `command key` at once, then reads
  // their integer replies and adds them to *sum.
  absl::Status PipelineKeys(const char* command, const std::string* keys, size_t count,
                            int64_t* sum);

  const std::string host_;
  const int port_;
  const int db_;
  const Timeouts timeouts_;
  const std::string address_;
  std::unique_ptr<redisContext, ContextDeleter> context_;  // null while broken
  std::string broken_reason_;                              // why context_ is null
  KvCommands commands_;
};

// KvClient's key commands written once: Get, Set, SetIfAbsent, Del and
// DelIfEquals build their command and read its reply; RunForKey() sends it
// (to the one server, or to the node that serves the key's slot).
class KeyCommandClient : public KvClient {
 public:
  absl::StatusOr<bool> Get(std::string_view key, std::string* value) final;
  absl::Status Set(std::string_view key, std::string_view value, int64_t ttl_ms) final;
  absl::StatusOr<bool> SetIfAbsent(std::string_view key, std::string_view value,
                                   int64_t ttl_ms) final;
  absl::Status Del(std::string_view key) final;
  // EVAL of a script that GETs the key and DELs it when it holds `value`
  // (Redis runs a script atomically; the key is the script's one KEYS
  // argument, so a cluster routes it by the key's slot).
  absl::StatusOr<bool> DelIfEquals(std::string_view key, std::string_view value) final;

 protected:
  // Sends argv (one of whose arguments is `key`) and reads its final reply
  // into *reply. Returns the connection that answered, for messages. Fails
  // like RedisConnection::Run.
  virtual absl::StatusOr<RedisConnection*> RunForKey(std::string_view key, int argc,
                                                     const char** argv, const size_t* lens,
                                                     ReplyPtr* reply) = 0;
};

}  // namespace internal
}  // namespace cabench

#endif  // CABENCH_LIB_REDIS_REDIS_CONNECTION_H_

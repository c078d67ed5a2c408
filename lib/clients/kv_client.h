// File: lib/clients/kv_client.h
//
// KvClient is the small interface cabench uses to talk to a key-value cache
// (Valkey or Redis). The pattern logic in lib/cache_aside sees only this
// interface, so it can be unit-tested against the in-memory fake in
// lib/testing; the real implementations over hiredis live in lib/redis and
// are built by NewKvClient() (lib/redis/redis_client.h): one server, or a
// Valkey/Redis Cluster.
//
// Ownership: a KvClient owns exactly one connection (a cluster client: one
// per node, lib/redis/redis_cluster_client.h). The caller owns the KvClient
// (a std::unique_ptr from the factory).
//
// Thread safety: a KvClient is NOT safe for concurrent use. cabench gives every
// benchmark thread its own client; never share one between threads.
//
// Errors: every call returns absl::Status with canonical codes:
//   Unavailable        connection refused, reset, EOF or timeout. The client is
//                      then broken: every later call fails fast with
//                      Unavailable until Reconnect() succeeds. Reconnecting is
//                      always explicit, never hidden inside a timed call.
//   Internal           a protocol error or an unexpected reply type.
//   InvalidArgument    a bad argument (for example a TTL <= 0, an empty prefix).
//   Unimplemented      a statistics call (Info, DbSize, ClientList, Commands)
//                      this client does not offer.
// Messages carry the server's own error text.
#ifndef CABENCH_LIB_CLIENTS_KV_CLIENT_H_
#define CABENCH_LIB_CLIENTS_KV_CLIENT_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cabench {

// How a client routed its commands over a cluster's nodes (KvClient::Routing).
struct KvRouting {
  int64_t moved_redirects = 0;  // MOVED replies followed (the slot map updated)
  int64_t ask_redirects = 0;    // ASK replies followed (ASKING, then the command)
  int64_t retries = 0;          // TRYAGAIN / CLUSTERDOWN replies retried
  int64_t primaries = 0;        // primaries in the client's current slot map
  // Those primaries, "host:port", in the map's order.
  std::vector<std::string> primary_nodes;
  // Commands sent to each node, by "host:port" (redirected ones count on
  // every node they were sent to).
  std::map<std::string, int64_t> node_ops;
};

// What a client has sent its cache server(s) so far (KvClient::Commands):
// lib/servers tells this process's commands from other clients' in the
// server's own count (INFO total_commands_processed) with it.
struct KvCommands {
  // Commands written to a server: each of a pipeline, each attempt of a
  // redirected or retried one, and the connection set-up's (SELECT, CLIENT
  // SETNAME).
  int64_t sent = 0;
  // Of them, those answered with a refusal that the server does not count
  // as processed (it refuses them before running them): MOVED, ASK,
  // TRYAGAIN, CLUSTERDOWN.
  int64_t refused = 0;
  // Of them, those whose count on the server is not known: answered with
  // any other error reply (the server counts some, such as WRONGTYPE, and
  // not others, such as an unknown command or OOM), or not answered at all
  // (an I/O error or a timeout after the write).
  int64_t unsure = 0;
  // Commands the server ran inside the scripts this client sent (each
  // redis.call of an EVAL, which the server counts as processed too).
  int64_t scripted = 0;
};

class KvClient {
 public:
  KvClient() = default;
  KvClient(const KvClient&) = delete;
  KvClient& operator=(const KvClient&) = delete;
  virtual ~KvClient() = default;

  // GET key. On a hit returns true and stores the value in *value, reusing its
  // buffer (no allocation once the buffer is large enough: this is the hot
  // path). On a miss returns false and leaves *value empty.
  // Fails with Unavailable or Internal.
  virtual absl::StatusOr<bool> Get(std::string_view key, std::string* value) = 0;

  // SET key value PX ttl_ms. ttl_ms must be > 0 (InvalidArgument otherwise).
  // Fails with Unavailable or Internal.
  virtual absl::Status Set(std::string_view key, std::string_view value, int64_t ttl_ms) = 0;

  // SET key value NX PX ttl_ms: stores `value` with a TTL only if `key` holds
  // no live value, atomically on the server (the lock of a single-flight
  // fill). Returns true when this call set the key, false when the key
  // already existed (its value and TTL are left as they were). ttl_ms must be
  // > 0 (InvalidArgument otherwise, and nothing is written).
  // Fails with Unavailable or Internal.
  virtual absl::StatusOr<bool> SetIfAbsent(std::string_view key, std::string_view value,
                                           int64_t ttl_ms) = 0;

  // DEL key. Returns OK whether or not the key existed.
  // Fails with Unavailable or Internal.
  virtual absl::Status Del(std::string_view key) = 0;

  // Deletes `key` only if it holds exactly `value`, atomically on the server
  // (a compare-and-delete: the release of a single-flight fill lock, which
  // must not delete a lock another reader took after ours expired). Returns
  // true when this call deleted the key, false when the key was absent or
  // held another value (left as it was). Fails with Unavailable or Internal.
  virtual absl::StatusOr<bool> DelIfEquals(std::string_view key, std::string_view value) = 0;

  // Deletes every key whose name starts with `prefix`, by SCAN MATCH + UNLINK
  // in batches; never FLUSHALL or FLUSHDB. Keys outside the prefix are never
  // touched. Glob metacharacters in `prefix` are escaped. Returns the number of
  // keys deleted. An empty prefix is InvalidArgument (it would match every
  // key). Fails with Unavailable or Internal.
  virtual absl::StatusOr<int64_t> DeletePrefix(std::string_view prefix) = 0;

  // PING. OK when the server answers PONG.
  virtual absl::Status Ping() = 0;

  // Drops the current connection (if any) and connects again with the same
  // endpoint and timeouts. Fails with Unavailable.
  virtual absl::Status Reconnect() = 0;

  // A one-line description of the server from INFO server, such as
  // "redis 7.0.15" or "valkey 8.0.1". Fails with Unavailable or Internal.
  virtual absl::StatusOr<std::string> ServerInfo() = 0;

  // Server statistics, for lib/servers. They are optional capabilities: an
  // implementation without them keeps these defaults, which fail with
  // Unimplemented, and the statistics are then reported as absent (as
  // leveldb's Env::NewAppendableFile defaults to NotSupported). Neither call
  // touches the keyspace: INFO and DBSIZE count no hits or misses.

  // INFO `section` ("stats", "memory", "server", ...; empty: the default
  // sections). Returns the server's text as is: "# Section" headers and
  // "name:value" lines ending in "\r\n". Fails with Unavailable, Internal or
  // Unimplemented.
  virtual absl::StatusOr<std::string> Info(std::string_view section);

  // DBSIZE: the number of keys in the connection's database, expired keys not
  // yet collected included. Fails with Unavailable, Internal or Unimplemented.
  virtual absl::StatusOr<int64_t> DbSize();

  // The number of keys whose name starts with `prefix` (SCAN MATCH, in
  // batches; never KEYS), for the keys a memory-bounded cache holds. Fails
  // like DeletePrefix, or with Unimplemented.
  virtual absl::StatusOr<int64_t> CountPrefix(std::string_view prefix);

  // CONFIG GET `name` (one parameter, e.g. "maxmemory") and CONFIG SET
  // `name` `value`, for a memory-bounded cache. Only the benchmark's set-up
  // calls them, and only on a cache cabench may reconfigure
  // (CheckCacheIsOurs, lib/connect/connectors.h). Fail with Unavailable, Internal (the server refused: the
  // message carries its error), NotFound (no such parameter) or
  // Unimplemented.
  virtual absl::StatusOr<std::string> ConfigGet(std::string_view name);
  virtual absl::Status ConfigSet(std::string_view name, std::string_view value);

  // What this client did so far to route commands over a cluster's nodes
  // (cumulative since it was made). A client of one server keeps this
  // default, which fails with Unimplemented.
  virtual absl::StatusOr<KvRouting> Routing() const;

  // The commands this client has sent so far, over every connection it has
  // had (cumulative since it was made; reconnects included). Sends nothing.
  // Optional: the default fails with Unimplemented.
  virtual absl::StatusOr<KvCommands> Commands() const;

  // CLIENT LIST: one line per connection of the server, "id=.. addr=..
  // name=.. idle=.. flags=.. cmd=..", for lib/servers (which of them belong
  // to other clients). A cluster client returns every primary's lines.
  // Optional: the default fails with Unimplemented. Fails with Unavailable
  // or Internal.
  virtual absl::StatusOr<std::string> ClientList();
};

inline absl::StatusOr<KvCommands> KvClient::Commands() const {
  return absl::UnimplementedError("this KvClient does not count its commands");
}

inline absl::StatusOr<std::string> KvClient::ClientList() {
  return absl::UnimplementedError("this KvClient does not read CLIENT LIST");
}

inline absl::StatusOr<KvRouting> KvClient::Routing() const {
  return absl::UnimplementedError("this KvClient does not route over a cluster");
}

inline absl::StatusOr<int64_t> KvClient::CountPrefix(std::string_view) {
  return absl::UnimplementedError("this KvClient does not count keys");
}

inline absl::StatusOr<std::string> KvClient::ConfigGet(std::string_view) {
  return absl::UnimplementedError("this KvClient does not read CONFIG");
}

inline absl::Status KvClient::ConfigSet(std::string_view, std::string_view) {
  return absl::UnimplementedError("this KvClient does not change CONFIG");
}

inline absl::StatusOr<std::string> KvClient::Info(std::string_view) {
  return absl::UnimplementedError("this KvClient does not read INFO");
}

inline absl::StatusOr<int64_t> KvClient::DbSize() {
  return absl::UnimplementedError("this KvClient does not read DBSIZE");
}

}  // namespace cabench

#endif  // CABENCH_LIB_CLIENTS_KV_CLIENT_H_

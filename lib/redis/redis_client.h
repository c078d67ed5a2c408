// File: lib/redis/redis_client.h
//
// The KvClient (lib/clients/kv_client.h) over hiredis 0.14.1: one blocking TCP
// connection to a Valkey or Redis server. lib/redis is the only code in
// cabench that sees hiredis (the connection and the key commands are in
// redis_connection.h, shared with the cluster client of
// redis_cluster_client.h); callers get a KvClient, from NewKvClient() for
// any cache URL.
//
//   ASSERT_OK_AND_ASSIGN(auto endpoint, CacheEndpointFromEnv());
//   absl::StatusOr<std::unique_ptr<KvClient>> client = NewRedisClient(endpoint);
//   std::string value;
//   absl::StatusOr<bool> hit = (*client)->Get("bookings:42", &value);
//
// Besides the pattern's commands it offers INFO and DBSIZE (KvClient::Info,
// KvClient::DbSize), which lib/servers reads on a connection of its own.
// SetIfAbsent is one SET key value NX PX ttl_ms: the server answers +OK
// (true) or a nil bulk reply when the key existed (false); any other reply
// is Internal.
//
// Ownership: the returned client owns its connection (a redisContext freed by
// redisFree) and frees every reply before the next command. The caller owns
// the client.
//
// Thread safety: a client is NOT safe for concurrent use: give each thread its
// own. NewRedisClient() itself may be called from any number of threads.
//
// Errors follow kv_client.h:
//   Unavailable      connect refused, I/O error, EOF (the server closed the
//                    connection) or a timeout (connect: endpoint.timeouts
//                    .connect_ms; each command: endpoint.timeouts.io_ms). The
//                    message names "host:port" and carries hiredis' errstr.
//                    The client is then broken: every later call fails at
//                    once with Unavailable until Reconnect() succeeds.
//   Internal         an error reply from the server (its text is kept, e.g.
//                    "NOAUTH Authentication required." or "WRONGTYPE ..."),
//                    or a reply of an unexpected type. The connection stays
//                    usable.
//   InvalidArgument  a bad argument (TTL <= 0, empty prefix, bad endpoint).
//
// SIGPIPE: hiredis writes with write(2), which raises SIGPIPE when the server
// has reset the connection; the default action would kill the whole benchmark
// and lose its results. The first NewRedisClient() call therefore sets
// SIGPIPE to SIG_IGN if, and only if, its disposition is still SIG_DFL; the
// write then fails with EPIPE and the client reports Unavailable.
#ifndef CABENCH_LIB_REDIS_REDIS_CLIENT_H_
#define CABENCH_LIB_REDIS_REDIS_CLIENT_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "lib/clients/kv_client.h"
#include "lib/config/endpoints.h"

namespace cabench {

// Connects to `endpoint` (waiting at most endpoint.timeouts.connect_ms), sets
// the command timeout to endpoint.timeouts.io_ms and selects endpoint.db.
// Returns the connected client.
// Fails with InvalidArgument (empty host, port outside 1..65535, db < 0, a
// timeout <= 0), Unavailable (cannot connect, or no answer to SELECT in time)
// or Internal (SELECT refused, e.g. NOAUTH or a db index out of range).
// Safe to call concurrently.
absl::StatusOr<std::unique_ptr<KvClient>> NewRedisClient(const CacheEndpoint& endpoint);

// The client for `endpoint`: NewRedisClusterClient (redis_cluster_client.h)
// when endpoint.cluster, else NewRedisClient. Fails like them.
absl::StatusOr<std::unique_ptr<KvClient>> NewKvClient(const CacheEndpoint& endpoint);

namespace internal {

// Exposed for tests only.

// Returns `prefix` with the glob metacharacters of Redis' MATCH patterns
// (* ? [ ] \) escaped by a backslash, so that EscapeRedisGlob(p) + "*" matches
// exactly the keys starting with p. Pure; thread-safe.
std::string EscapeRedisGlob(std::string_view prefix);

// Returns "valkey X" when the INFO server text `info` has valkey_version:X,
// "valkey R" when it has server_name:valkey and redis_version:R (Valkey 7.2),
// else "redis R". Fails with Internal when no version line is found. Pure;
// thread-safe.
absl::StatusOr<std::string> DescribeServer(std::string_view info);

}  // namespace internal
}  // namespace cabench

#endif  // CABENCH_LIB_REDIS_REDIS_CLIENT_H_

// File: lib/config/endpoints.h
//
// Where cabench's servers are, and how long to wait for them. Endpoints come
// from the environment, as `tools/servers start` prints them:
//
//   CABENCH_CACHE_URL          redis://HOST:PORT/DB      (DB optional, default 0)
//                              or redis-cluster://HOST:PORT[,HOST:PORT...]/0
//                              (a Valkey/Redis Cluster: seed nodes, database 0)
//   CABENCH_DB_URL             mysql://USER@HOST:PORT/SCHEMA
//   CABENCH_DB_PASSWORD        the database password, or
//   CABENCH_DB_PASSWORD_FILE   a file whose first line is the password
//
// and, optionally, read replicas (`tools/servers start --replicas`): GETs and
// the misses' SELECTs go to them, writes to the primaries above:
//
//   CABENCH_CACHE_READ_URL     redis://HOST:PORT/DB
//   CABENCH_DB_READ_URL        mysql://USER@HOST:PORT/SCHEMA (the password is
//                              the primary's)
//
// A password inside CABENCH_DB_URL (user:secret@) is refused: URLs end up in
// logs, process lists and JSON context; passwords must not. The password is
// kept in DbEndpoint::password and never printed by anything in cabench;
// DbEndpoint::ToString() leaves it out.
//
// All functions here are pure or read the environment only; they are safe to
// call from any thread once the environment is no longer being modified.
#ifndef CABENCH_LIB_CONFIG_ENDPOINTS_H_
#define CABENCH_LIB_CONFIG_ENDPOINTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace cabench {

// Connect and command timeouts shared by both clients.
struct Timeouts {
  int64_t connect_ms = 2000;
  int64_t io_ms = 5000;  // read and write (command) timeout
};

// One node of a cluster URL.
struct CacheNode {
  std::string host;
  int port = 6379;
};

struct CacheEndpoint {
  std::string host;  // a cluster: the first seed's
  int port = 6379;
  int db = 0;  // always 0 for a cluster
  Timeouts timeouts;
  // A Valkey/Redis Cluster (redis-cluster://): the client discovers the
  // slot map from `seeds` (every node of the URL, in its order).
  bool cluster = false;
  std::vector<CacheNode> seeds;

  // "redis://HOST:PORT/DB", or "redis-cluster://HOST:PORT,HOST:PORT/0".
  std::string ToString() const;
};

struct DbEndpoint {
  std::string user;
  std::string password;  // never printed
  std::string host;
  int port = 3306;
  std::string schema;
  Timeouts timeouts;

  // "mysql://USER@HOST:PORT/SCHEMA" (never the password).
  std::string ToString() const;
};

// Parses "redis://HOST:PORT/DB". HOST is a name, an IPv4 address or a
// bracketed IPv6 address; PORT is 1..65535 (default 6379); DB is 0..15
// (default 0). Also "redis-cluster://HOST:PORT[,HOST:PORT...][/0]": one or
// more seed nodes (at most 64), database 0 only (a cluster has no other).
// Returns InvalidArgument with a message that names what is wrong.
absl::StatusOr<CacheEndpoint> ParseCacheUrl(std::string_view url);

// Parses "mysql://USER@HOST:PORT/SCHEMA" (PORT default 3306). USER and SCHEMA
// are required; SCHEMA is [A-Za-z0-9_]+. A password in the URL is
// InvalidArgument. The returned password is empty.
absl::StatusOr<DbEndpoint> ParseDbUrl(std::string_view url);

// True when `host` is a loopback address or name: 127.0.0.0/8, ::1 or
// "localhost".
bool IsLoopbackHost(std::string_view host);

// Reads CABENCH_CACHE_URL from the environment. Unset or malformed is
// InvalidArgument whose message names the variable, e.g.
// "CABENCH_CACHE_URL: missing port number in 'redis://x:/0'"; when unset, the
// message says to run `eval "$(tools/servers start)"`.
absl::StatusOr<CacheEndpoint> CacheEndpointFromEnv();

// Reads CABENCH_DB_URL and the password (CABENCH_DB_PASSWORD, else the first
// line of CABENCH_DB_PASSWORD_FILE, else empty). Errors as above; an
// unreadable password file is InvalidArgument naming the variable (not the
// file's content).
absl::StatusOr<DbEndpoint> DbEndpointFromEnv();

// Reads CABENCH_CACHE_READ_URL: nullopt when unset or empty; malformed is
// InvalidArgument naming the variable.
absl::StatusOr<std::optional<CacheEndpoint>> CacheReadEndpointFromEnv();

// Reads CABENCH_DB_READ_URL: nullopt when unset or empty; malformed is
// InvalidArgument naming the variable. The replica's password is
// `primary`'s (replication copies the user), its timeouts too.
absl::StatusOr<std::optional<DbEndpoint>> DbReadEndpointFromEnv(const DbEndpoint& primary);

// What the command line says of the endpoints: a URL given there replaces
// its variable (errors then name the flag); timeouts replace the defaults
// when set; allow_remote admits hosts that are not on loopback.
struct EndpointOptions {
  std::string cache_url;  // --cache_url
  std::string db_url;     // --db_url (the password still comes from the environment)
  std::optional<int64_t> timeout_ms;
  std::optional<int64_t> connect_timeout_ms;
  bool allow_remote = false;
};

// Every endpoint of a run: the primaries and the optional read replicas
// (with the primaries' timeouts and, for the database, password).
struct SuiteEndpoints {
  CacheEndpoint cache;
  DbEndpoint db;
  std::optional<CacheEndpoint> cache_read;
  std::optional<DbEndpoint> db_read;
};

// The endpoints of a run from `options` and the environment. InvalidArgument
// naming the flag or variable: a missing or malformed URL, an unreadable
// password file, a cache read replica beside a cluster cache, or (without
// allow_remote) a host that is not on loopback.
absl::StatusOr<SuiteEndpoints> ResolveEndpoints(const EndpointOptions& options);

}  // namespace cabench

#endif  // CABENCH_LIB_CONFIG_ENDPOINTS_H_

#include "lib/connect/connectors.h"

#include <algorithm>
#include <fstream>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "lib/clients/read_split.h"
#include "lib/mysql/mysql_client.h"
#include "lib/redis/redis_client.h"
#include "lib/servers/replication.h"
#include "lib/servers/server_stats.h"
#include "lib/dataset/schema_mark.h"
#include "lib/dataset/sql_text.h"

namespace cabench {
namespace {

// The statistics reader waits at most this long for a command.
constexpr int64_t kReaderTimeoutMs = 1000;

absl::Status Named(const std::string& where, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat(where, ": ", s.message()));
}

absl::Status WithEndpoint(const absl::Status& s, const std::string& what,
                          const std::string& endpoint) {
  return absl::Status(s.code(), absl::StrCat(what, " at ", endpoint, ": ", s.message()));
}

}  // namespace

Connectors MakeConnectors(const SuiteEndpoints& endpoints) {
  Connectors c;
  c.new_kv = [endpoints](int thread_index) -> absl::StatusOr<std::unique_ptr<KvClient>> {
    CacheEndpoint endpoint = endpoints.cache;
    if (thread_index < 0) {
      endpoint.timeouts.io_ms = std::min<int64_t>(endpoint.timeouts.io_ms, kReaderTimeoutMs);
    }
    absl::StatusOr<std::unique_ptr<KvClient>> primary = NewKvClient(endpoint);
    if (!primary.ok() || thread_index < 0 || !endpoints.cache_read.has_value()) return primary;
    absl::StatusOr<std::unique_ptr<KvClient>> replica = NewKvClient(*endpoints.cache_read);
    if (!replica.ok()) return replica.status();
    return std::make_unique<ReadSplitKvClient>(*std::move(primary), *std::move(replica));
  };
  c.new_sql = [endpoints](int thread_index) -> absl::StatusOr<std::unique_ptr<SqlClient>> {
    DbEndpoint endpoint = endpoints.db;
    if (thread_index < 0) {
      endpoint.timeouts.io_ms = std::min<int64_t>(endpoint.timeouts.io_ms, kReaderTimeoutMs);
      endpoint.schema.clear();
    }
    absl::StatusOr<std::unique_ptr<SqlClient>> primary = NewMysqlClient(endpoint);
    if (!primary.ok() || thread_index < 0 || !endpoints.db_read.has_value()) return primary;
    absl::StatusOr<std::unique_ptr<SqlClient>> replica = NewMysqlClient(*endpoints.db_read);
    if (!replica.ok()) return replica.status();
    return std::make_unique<ReadSplitSqlClient>(*std::move(primary), *std::move(replica));
  };
  if (endpoints.db_read.has_value()) {
    c.new_db_replica = [endpoint = *endpoints.db_read]() mutable {
      endpoint.timeouts.io_ms = std::min<int64_t>(endpoint.timeouts.io_ms, kReaderTimeoutMs);
      endpoint.schema.clear();
      return NewMysqlClient(endpoint);
    };
  }
  return c;
}

absl::Status CheckReplicas(const SuiteEndpoints& endpoints, const Connectors& connect,
                           int64_t catch_up_s) {
  if (endpoints.cache_read.has_value()) {
    const std::string where =
        absl::StrCat("CABENCH_CACHE_READ_URL ", endpoints.cache_read->ToString());
    absl::StatusOr<std::unique_ptr<KvClient>> replica = NewRedisClient(*endpoints.cache_read);
    if (!replica.ok()) return Named(where, replica.status());
    if (absl::Status s = CheckCacheReplicating(**replica); !s.ok()) return Named(where, s);
  }
  if (!endpoints.db_read.has_value()) return absl::OkStatus();
  const std::string where = absl::StrCat("CABENCH_DB_READ_URL ", endpoints.db_read->ToString());
  absl::StatusOr<std::unique_ptr<SqlClient>> replica = connect.new_db_replica();
  if (!replica.ok()) return Named(where, replica.status());
  if (absl::Status s = CheckDbReplicating(**replica); !s.ok()) return Named(where, s);
  absl::StatusOr<std::unique_ptr<SqlClient>> primary = connect.new_sql(-1);
  if (!primary.ok()) return primary.status();
  // The reader's 1 s command timeout is too short to wait on.
  DbEndpoint waiting = *endpoints.db_read;
  waiting.schema.clear();
  waiting.timeouts.io_ms = (catch_up_s + 5) * 1000;
  absl::StatusOr<std::unique_ptr<SqlClient>> waiter = NewMysqlClient(waiting);
  if (!waiter.ok()) return Named(where, waiter.status());
  if (absl::Status s = WaitForDbReplica(**primary, **waiter, catch_up_s); !s.ok()) {
    return Named(where, s);
  }
  return absl::OkStatus();
}

absl::Status CheckCacheIsOurs(const SuiteEndpoints& endpoints, const Connectors& connect,
                              const std::string& servers_dir) {
  if (endpoints.cache.cluster) {
    // Its INFO has no single process_id to compare with cache.pid.
    return absl::FailedPreconditionError(
        "the cache is a cluster (cabench cannot tell whether tools/servers started it)");
  }
  if (servers_dir.empty()) return absl::FailedPreconditionError("CABENCH_SERVERS_DIR is not set");
  const std::string pid_file = absl::StrCat(servers_dir, "/cache.pid");
  std::ifstream in(pid_file);
  std::string recorded;
  if (!std::getline(in, recorded)) {
    return absl::FailedPreconditionError(absl::StrCat("cannot read ", pid_file));
  }
  int64_t pid = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(recorded), &pid)) {
    return absl::FailedPreconditionError(absl::StrCat(pid_file, " holds no pid"));
  }
  absl::StatusOr<std::unique_ptr<KvClient>> kv = connect.new_kv(-1);
  if (!kv.ok()) return kv.status();
  absl::StatusOr<std::string> info = (*kv)->Info("server");
  if (!info.ok()) return info.status();
  const std::optional<int64_t> process_id = InfoInt(*info, "process_id");
  if (!process_id.has_value()) {
    return absl::FailedPreconditionError("the cache's INFO has no process_id");
  }
  if (*process_id == pid) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat("the cache's process_id is ", *process_id,
                                                    ", not the pid ", pid, " in ", pid_file));
}

void ConnectEnv(const SuiteEndpoints& endpoints, const Connectors& connect, RunEnv* env) {
  env->cache = endpoints.cache;
  env->db = endpoints.db;
  env->cache_read = endpoints.cache_read;
  env->db_read = endpoints.db_read;
  env->new_kv = connect.new_kv;
  env->new_sql = connect.new_sql;
  env->new_db_replica = connect.new_db_replica;
  env->thread_scope = [] { return std::make_shared<MysqlThreadScope>(); };
}

absl::Status CheckServers(RunEnv* env) {
  const std::string cache_name = env->cache.ToString();
  absl::StatusOr<std::unique_ptr<KvClient>> kv = NewKvClient(env->cache);
  if (!kv.ok()) return WithEndpoint(kv.status(), "cache server", cache_name);
  absl::StatusOr<std::string> cache_info = (*kv)->ServerInfo();
  if (!cache_info.ok()) return WithEndpoint(cache_info.status(), "cache server", cache_name);
  env->cache_server = *cache_info;

  const std::string db_name = env->db.ToString();
  // Connected without a default schema, then USE: the mark is checked before
  // anything else looks for the cabench tables, so a foreign schema is
  // reported as such, not as a missing table.
  DbEndpoint no_schema = env->db;
  no_schema.schema.clear();
  absl::StatusOr<std::unique_ptr<SqlClient>> sql = NewMysqlClient(no_schema);
  if (!sql.ok()) return WithEndpoint(sql.status(), "database", db_name);
  // The schema name was validated as [A-Za-z0-9_]+ (ParseDbUrl).
  if (absl::StatusOr<int64_t> used = (*sql)->Execute(absl::StrCat("USE `", env->db.schema, "`"));
      !used.ok()) {
    return WithEndpoint(used.status(), "database", db_name);
  }
  absl::StatusOr<std::string> db_info = (*sql)->ServerInfo();
  if (!db_info.ok()) return WithEndpoint(db_info.status(), "database", db_name);
  env->db_server = *db_info;

  absl::StatusOr<DataSetInfo> data = ReadDataSetInfo(**sql);
  if (!data.ok()) return WithEndpoint(data.status(), "database", db_name);
  env->data = *data;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<RunLedger>> OpenRunLedger(const RunEnv& env) {
  const std::string db_name = env.db.ToString();
  // Without a default schema, so without prepared statements: on a schema
  // loaded by an older cabench_load, preparing the INSERT would fail on the
  // column booking.cabench_run that Open() is about to add. The ledger
  // selects its schema itself (USE), also after reconnecting.
  DbEndpoint no_schema = env.db;
  no_schema.schema.clear();
  absl::StatusOr<std::unique_ptr<SqlClient>> conn = NewMysqlClient(no_schema);
  if (!conn.ok()) return WithEndpoint(conn.status(), "database", db_name);
  if (absl::StatusOr<int64_t> used =
          (*conn)->Execute(absl::StrCat("USE ", SqlIdentifier(env.db.schema)));
      !used.ok()) {
    return WithEndpoint(used.status(), "database", db_name);
  }
  absl::StatusOr<std::unique_ptr<RunLedger>> ledger =
      RunLedger::Open(*std::move(conn), CurrentRunIdentity());
  if (!ledger.ok()) return WithEndpoint(ledger.status(), "database", db_name);
  return ledger;
}

}  // namespace cabench

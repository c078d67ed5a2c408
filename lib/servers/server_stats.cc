#include "lib/servers/server_stats.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "lib/clients/own_sessions.h"
#include "lib/servers/proc_stat.h"
#include "lib/servers/replication.h"

namespace cabench {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// Only the rows cabench reads: a full SHOW GLOBAL STATUS is some 500 rows.
constexpr char kStatusSql[] =
    "SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions', 'Innodb_buffer_pool_reads', "
    "'Threads_connected', 'Uptime')";
// SHOW, not SELECT @@pid_file, so that Com_select is not touched.
constexpr char kPidFileSql[] =
    "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('pid_file', 'datadir')";
// Whether the reader's user sees every session in PROCESSLIST (without
// PROCESS it sees only its own user's). GRANTEE is 'user'@'host'.
constexpr char kProcessPrivilegeSql[] =
    "SELECT 'PROCESS', COUNT(*) FROM information_schema.USER_PRIVILEGES "
    "WHERE PRIVILEGE_TYPE = 'PROCESS' AND "
    "GRANTEE = CONCAT('''', REPLACE(CURRENT_USER(), '@', '''@'''), '''')";
// The sessions active now: in a statement, or idle for less than a second;
// not the reader's own, not the server's own threads, not replication links
// (a replica's Binlog Dump).
constexpr char kActiveSessionsSql[] =
    "SELECT ID, COMMAND FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() "
    "AND (COMMAND <> 'Sleep' OR TIME_MS < 1000) "
    "AND COMMAND NOT IN ('Daemon', 'Binlog Dump', 'Binlog Dump GTID') "
    "AND USER NOT IN ('system user', 'event_scheduler')";
// INFO's default sections and commandstats (for the replicas' REPLCONF).
constexpr char kInfoSections[] = "all";
// Commands a replica sends its primary over the replication link.
constexpr const char* kReplicationCommands[] = {"cmdstat_replconf", "cmdstat_psync",
                                                "cmdstat_sync"};

// A running total read from a server, and the counter it feeds.
struct Figure {
  const char* name;
  std::optional<int64_t> ServerSnapshot::*field;
  CounterId counter;
};

constexpr Figure kDbFigures[] = {
    {"Questions", &ServerSnapshot::db_questions, CounterId::kDbForeignQueries},
    {"Innodb_buffer_pool_reads", &ServerSnapshot::db_disk_reads, CounterId::kDbDiskReads},
    {"Threads_connected", &ServerSnapshot::db_threads_connected, CounterId::kDbConnections},
};

constexpr Figure kCacheFigures[] = {
    {"keyspace_hits", &ServerSnapshot::cache_hits, CounterId::kCacheServerHits},
    {"keyspace_misses", &ServerSnapshot::cache_misses, CounterId::kCacheServerMisses},
    {"expired_keys", &ServerSnapshot::cache_expired_keys, CounterId::kCacheExpiredKeys},
    {"evicted_keys", &ServerSnapshot::cache_evicted_keys, CounterId::kCacheEvictedKeys},
    {"used_memory", &ServerSnapshot::cache_used_memory, CounterId::kCacheUsedMemoryMb},
    {"total_commands_processed", &ServerSnapshot::cache_commands, CounterId::kCacheForeignCommands},
};

std::string Reason(absl::string_view what, const absl::Status& status) {
  return absl::StrCat(what, ": ", status.message());
}

// The integer value of `name` (case-insensitive) among `rows`, read from
// `source`.
absl::StatusOr<int64_t> FindInt(const Pairs& rows, absl::string_view name,
                                absl::string_view source) {
  for (const auto& [row_name, value] : rows) {
    if (!absl::EqualsIgnoreCase(row_name, name)) continue;
    int64_t n = 0;
    if (!absl::SimpleAtoi(value, &n)) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, " ", name, " is not an integer: '", value, "'"));
    }
    return n;
  }
  return absl::NotFoundError(absl::StrCat(source, " has no ", name));
}

// Sets every figure of `figures` found in `rows`; records why for the others.
void SetFigures(const Pairs& rows, absl::string_view source, const Figure* begin, const Figure* end,
                ServerSnapshot* snapshot) {
  for (const Figure* f = begin; f != end; ++f) {
    absl::StatusOr<int64_t> value = FindInt(rows, f->name, source);
    if (value.ok()) {
      snapshot->*(f->field) = *value;
    } else {
      snapshot->absent[f->counter] = std::string(value.status().message());
    }
  }
}

void SetAbsent(const Figure* begin, const Figure* end, const std::string& why,
               ServerSnapshot* snapshot) {
  for (const Figure* f = begin; f != end; ++f) snapshot->absent[f->counter] = why;
}

// Stores `value` in *field, or its error message as the reason for `id`.
void SetOrAbsent(const absl::StatusOr<double>& value, std::optional<double>* field, CounterId id,
                 ServerSnapshot* snapshot) {
  if (value.ok()) {
    *field = *value;
  } else {
    snapshot->absent[id] = std::string(value.status().message());
  }
}

// The calls of an INFO commandstats value, "calls=3,usec=40,...".
std::optional<int64_t> CallsOf(absl::string_view stats) {
  for (absl::string_view field : absl::StrSplit(stats, ',')) {
    int64_t n = 0;
    if (absl::ConsumePrefix(&field, "calls=") && absl::SimpleAtoi(field, &n)) return n;
  }
  return std::nullopt;
}

// The CPU time of the server of `kind` whose process is `pid`, or why it is
// not read.
absl::StatusOr<double> LocalServerCpu(const ServerStatsOptions& options, ServerKind kind,
                                      const absl::StatusOr<int64_t>& pid,
                                      std::optional<int64_t> uptime_s) {
  const bool database = kind == ServerKind::kDatabase;
  const char* who = database ? "the database" : "the cache";
  if (!(database ? options.db_local : options.cache_local)) {
    return absl::FailedPreconditionError(absl::StrCat(who, " is not on this machine"));
  }
  if (!pid.ok()) {
    return absl::Status(pid.status().code(), absl::StrCat(who, "'s pid: ", pid.status().message()));
  }
  absl::StatusOr<double> cpu = ServerCpuMs(options.proc_root, *pid, kind, uptime_s);
  if (!cpu.ok()) {
    return absl::Status(cpu.status().code(), absl::StrCat(who, "'s CPU: ", cpu.status().message()));
  }
  return cpu;
}

}  // namespace

ServerStatsReader::ServerStatsReader(std::unique_ptr<KvClient> kv, std::unique_ptr<SqlClient> sql,
                                     ServerStatsOptions options)
    : kv_(std::move(kv)),
      sql_(std::move(sql)),
      options_(std::move(options)),
      db_pid_(absl::NotFoundError("not looked up yet")) {}

ServerSnapshot ServerStatsReader::Read(bool last) {
  ServerSnapshot snapshot;
  snapshot.epoch_ns = absl::ToUnixNanos(absl::Now());
  ReadDatabase(&snapshot);
  ReadCache(&snapshot, last);
  ReadDbReplica(&snapshot);
  SetOrAbsent(ClientCpuMs(), &snapshot.client_cpu_ms, CounterId::kClientCpuMs, &snapshot);
  return snapshot;
}

void ServerStatsReader::SetDbReplica(std::unique_ptr<SqlClient> replica) {
  db_replica_ = std::move(replica);
}

void ServerStatsReader::ReadDbReplica(ServerSnapshot* snapshot) {
  if (db_replica_ == nullptr) return;
  if (db_replica_broken_) {
    if (absl::Status s = db_replica_->Reconnect(); !s.ok()) {
      snapshot->absent[CounterId::kDbReplicaLagMaxS] = Reason("reconnecting to the replica", s);
      return;
    }
    db_replica_broken_ = false;
  }
  absl::StatusOr<DbReplicaStatus> status = ReadDbReplicaStatus(*db_replica_);
  if (!status.ok()) {
    if (absl::IsUnavailable(status.status())) db_replica_broken_ = true;
    snapshot->absent[CounterId::kDbReplicaLagMaxS] = Reason("SHOW SLAVE STATUS", status.status());
  } else if (!status->seconds_behind.has_value()) {
    snapshot->absent[CounterId::kDbReplicaLagMaxS] =
        "the replica's Seconds_Behind_Master is NULL (replication stopped)";
  } else {
    snapshot->db_replica_lag_s = *status->seconds_behind;
  }
}

void ServerStatsReader::FindDatabasePid() {
  ++own_db_statements_;
  absl::StatusOr<Pairs> rows = sql_->QueryPairs(kPidFileSql);
  if (!rows.ok()) {
    db_pid_ = absl::Status(rows.status().code(), Reason("SHOW GLOBAL VARIABLES", rows.status()));
    // A lost connection is worth another try after reconnecting.
    if (absl::IsUnavailable(rows.status())) {
      sql_broken_ = true;
    } else {
      db_pid_looked_up_ = true;
    }
    return;
  }
  db_pid_looked_up_ = true;
  std::string pid_file, datadir;
  for (const auto& [name, value] : *rows) {
    if (absl::EqualsIgnoreCase(name, "pid_file")) pid_file = value;
    if (absl::EqualsIgnoreCase(name, "datadir")) datadir = value;
  }
  if (pid_file.empty()) {
    db_pid_ = absl::NotFoundError("the server names no pid_file");
    return;
  }
  // A relative pid_file is relative to the data directory.
  if (pid_file[0] != '/' && !datadir.empty()) {
    pid_file = absl::StrCat(datadir, datadir.back() == '/' ? "" : "/", pid_file);
  }
  db_pid_ = ReadPidFile(pid_file);
}

void ServerStatsReader::CheckProcessPrivilege() {
  ++own_db_statements_;
  absl::StatusOr<Pairs> rows = sql_->QueryPairs(kProcessPrivilegeSql);
  if (!rows.ok()) {
    process_privilege_ =
        absl::Status(rows.status().code(), Reason("reading the PROCESS privilege", rows.status()));
    if (absl::IsUnavailable(rows.status())) {
      sql_broken_ = true;  // worth another try after reconnecting
    } else {
      privilege_checked_ = true;
    }
    return;
  }
  privilege_checked_ = true;
  absl::StatusOr<int64_t> granted = FindInt(*rows, "PROCESS", "USER_PRIVILEGES");
  if (!granted.ok()) {
    process_privilege_ = granted.status();
  } else if (*granted == 0) {
    process_privilege_ = absl::PermissionDeniedError(
        "the database user lacks the PROCESS privilege, so other users' sessions are not "
        "visible");
  } else {
    process_privilege_ = absl::OkStatus();
  }
}

void ServerStatsReader::ReadForeignSessions(ServerSnapshot* snapshot) {
  if (!privilege_checked_) CheckProcessPrivilege();
  if (!privilege_checked_) {
    snapshot->db_foreign_active_why = std::string(process_privilege_.message());
    return;
  }
  if (!process_privilege_.ok()) {
    snapshot->db_foreign_active_why = std::string(process_privilege_.message());
    return;
  }
  // This process's sessions are known by server and id; the reader's own
  // connection names the server as the run's connections do.
  absl::StatusOr<SqlSession> own = sql_->Session();
  if (!own.ok()) {
    snapshot->db_foreign_active_why =
        absl::StrCat("cannot tell this process's database sessions: ", own.status().message());
    return;
  }
  ++own_db_statements_;
  absl::StatusOr<Pairs> rows = sql_->QueryPairs(kActiveSessionsSql);
  if (!rows.ok()) {
    if (absl::IsUnavailable(rows.status())) sql_broken_ = true;
    snapshot->db_foreign_active_why = Reason("PROCESSLIST", rows.status());
    return;
  }
  int64_t foreign = 0;
  for (const auto& [id_text, command] : *rows) {
    int64_t id = 0;
    if (!absl::SimpleAtoi(id_text, &id)) {
      snapshot->db_foreign_active_why =
          absl::StrCat("PROCESSLIST has a session id that is not an integer: '", id_text, "'");
      return;
    }
    if (!IsOwnDbSession(own->server, id)) ++foreign;
  }
  snapshot->db_foreign_active = foreign;
}

void ServerStatsReader::ReadDatabase(ServerSnapshot* snapshot) {
  constexpr const Figure* kBegin = std::begin(kDbFigures);
  constexpr const Figure* kEnd = std::end(kDbFigures);
  if (sql_ == nullptr) {
    SetAbsent(kBegin, kEnd, "no database connection", snapshot);
    snapshot->absent[CounterId::kDbCpuMs] = "no database connection";
    snapshot->db_foreign_active_why = "no database connection";
    return;
  }
  bool connected = true;
  if (sql_broken_) {
    if (absl::Status status = sql_->Reconnect(); status.ok()) {
      sql_broken_ = false;
      ++db_connection_;
    } else {
      SetAbsent(kBegin, kEnd, Reason("reconnecting to the database", status), snapshot);
      snapshot->db_foreign_active_why = Reason("reconnecting to the database", status);
      connected = false;
    }
  }
  if (connected && options_.db_local && !db_pid_looked_up_) FindDatabasePid();
  if (connected && !sql_broken_) {
    // Questions counts this statement and the reader's earlier ones: what
    // the reader sent from one read's SHOW GLOBAL STATUS (excluded) up to
    // the next one's (included) is the change of this count, so it is taken
    // here, not at the end of the read (its PROCESSLIST query comes after).
    ++own_db_statements_;
    snapshot->own_db_statements = own_db_statements_;
    absl::StatusOr<Pairs> rows = sql_->QueryPairs(kStatusSql);
    if (rows.ok()) {
      SetFigures(*rows, "SHOW GLOBAL STATUS", kBegin, kEnd, snapshot);
      if (snapshot->db_threads_connected.has_value()) {
        snapshot->db_threads_connected = std::max<int64_t>(0, *snapshot->db_threads_connected - 1);
      }
      absl::StatusOr<int64_t> uptime = FindInt(*rows, "Uptime", "SHOW GLOBAL STATUS");
      if (uptime.ok()) snapshot->db_uptime_s = *uptime;
    } else {
      if (absl::IsUnavailable(rows.status())) sql_broken_ = true;
      SetAbsent(kBegin, kEnd, Reason("SHOW GLOBAL STATUS", rows.status()), snapshot);
    }
  } else if (connected) {
    SetAbsent(kBegin, kEnd, std::string(db_pid_.status().message()), snapshot);
  }
  if (connected && !sql_broken_) {
    ReadForeignSessions(snapshot);
  } else if (connected) {
    snapshot->db_foreign_active_why = "the database connection broke";
  }
  snapshot->db_connection = db_connection_;

  if (options_.db_local && db_pid_.ok()) snapshot->db_pid = *db_pid_;
  SetOrAbsent(LocalServerCpu(options_, ServerKind::kDatabase, db_pid_, snapshot->db_uptime_s),
              &snapshot->db_cpu_ms, CounterId::kDbCpuMs, snapshot);
}

void ServerStatsReader::ReadCache(ServerSnapshot* snapshot, bool last) {
  constexpr const Figure* kBegin = std::begin(kCacheFigures);
  constexpr const Figure* kEnd = std::end(kCacheFigures);
  if (kv_ == nullptr) {
    SetAbsent(kBegin, kEnd, "no cache connection", snapshot);
    snapshot->absent[CounterId::kCacheKeys] = "no cache connection";
    snapshot->absent[CounterId::kCacheCpuMs] = "no cache connection";
    snapshot->cache_foreign_active_why = "no cache connection";
    return;
  }
  snapshot->has_cache = true;
  if (kv_broken_) {
    if (absl::Status status = kv_->Reconnect(); status.ok()) kv_broken_ = false;
  }
  // What the reader sent before this INFO: INFO does not count itself (the
  // server counts a command once it has run), so the commands between two
  // INFOs that the second one counts are the reader's from the first INFO
  // up to, not including, the second.
  absl::StatusOr<KvCommands> own = kv_->Commands();
  if (own.ok()) {
    snapshot->own_cache = *own;
  } else {
    snapshot->absent[CounterId::kCacheForeignCommands] =
        absl::StrCat("the statistics reader's cache client: ", own.status().message());
  }
  // A cluster: the primaries the INFO below is summed over.
  if (absl::StatusOr<KvRouting> routing = kv_->Routing(); routing.ok()) {
    std::vector<std::string> nodes = routing->primary_nodes;
    std::sort(nodes.begin(), nodes.end());
    snapshot->cache_nodes = absl::StrJoin(nodes, ",");
  }
  absl::StatusOr<int64_t> pid;
  absl::StatusOr<std::string> info = kv_->Info(kInfoSections);
  if (info.ok()) {
    const Pairs rows = internal::ParseInfo(*info, /*keep_headers=*/true);
    SetFigures(rows, "INFO", kBegin, kEnd, snapshot);
    absl::StatusOr<int64_t> uptime = FindInt(rows, "uptime_in_seconds", "INFO");
    if (uptime.ok()) snapshot->cache_uptime_s = *uptime;
    pid = FindInt(rows, "process_id", "INFO");
    if (pid.ok()) snapshot->cache_pid = *pid;
    // The replicas' own commands; a command never called has no line.
    const bool commandstats = std::any_of(rows.begin(), rows.end(), [](const auto& row) {
      return absl::EqualsIgnoreCase(row.first, "# Commandstats");
    });
    if (commandstats) {
      std::optional<int64_t> replication = 0;
      for (const char* command : kReplicationCommands) {
        for (const auto& [name, value] : rows) {
          if (name != command || !replication.has_value()) continue;
          const std::optional<int64_t> calls = CallsOf(value);
          replication =
              calls.has_value() ? std::optional<int64_t>(*replication + *calls) : std::nullopt;
        }
      }
      if (replication.has_value()) {
        snapshot->cache_replication = replication;
      } else {
        snapshot->absent[CounterId::kCacheForeignCommands] =
            "INFO commandstats has a replication command without calls=";
      }
    } else if (!snapshot->absent.count(CounterId::kCacheForeignCommands)) {
      snapshot->absent[CounterId::kCacheForeignCommands] = "INFO has no Commandstats section";
    }
    if (options_.cache_replicas) {
      snapshot->cache_replica_offset_lag = CacheReplicaOffsetLag(*info);
      if (!snapshot->cache_replica_offset_lag.has_value()) {
        snapshot->absent[CounterId::kCacheReplicaOffsetLagMax] =
            "the cache's INFO replication lists no replica";
      }
    }
  } else {
    if (absl::IsUnavailable(info.status())) kv_broken_ = true;
    pid = absl::Status(info.status().code(), Reason("INFO", info.status()));
    SetAbsent(kBegin, kEnd, std::string(pid.status().message()), snapshot);
    if (options_.cache_replicas) {
      snapshot->absent[CounterId::kCacheReplicaOffsetLagMax] = std::string(pid.status().message());
    }
  }
  ReadForeignClients(snapshot);
  if (!last) {
    snapshot->absent[CounterId::kCacheKeys] = "counted at the run's last read only";
  } else if (options_.key_prefix.empty()) {
    snapshot->absent[CounterId::kCacheKeys] = "no key prefix to count under";
  } else {
    absl::StatusOr<int64_t> keys = kv_->CountPrefix(options_.key_prefix);
    if (keys.ok()) {
      snapshot->cache_keys = *keys;
    } else {
      if (absl::IsUnavailable(keys.status())) kv_broken_ = true;
      snapshot->absent[CounterId::kCacheKeys] =
          Reason("counting the keys under the run's prefix", keys.status());
    }
  }

  SetOrAbsent(LocalServerCpu(options_, ServerKind::kCache, pid, snapshot->cache_uptime_s),
              &snapshot->cache_cpu_ms, CounterId::kCacheCpuMs, snapshot);
}

void ServerStatsReader::ReadForeignClients(ServerSnapshot* snapshot) {
  absl::StatusOr<std::string> list = kv_->ClientList();
  if (!list.ok()) {
    if (absl::IsUnavailable(list.status())) kv_broken_ = true;
    snapshot->cache_foreign_active_why = Reason("CLIENT LIST", list.status());
    return;
  }
  absl::StatusOr<int64_t> foreign = internal::ForeignActiveClients(*list, OwnCacheClientName());
  if (foreign.ok()) {
    snapshot->cache_foreign_active = *foreign;
  } else {
    snapshot->cache_foreign_active_why = std::string(foreign.status().message());
  }
}

namespace {

std::string WhyAbsent(const ServerSnapshot& snapshot, CounterId id) {
  auto it = snapshot.absent.find(id);
  return it == snapshot.absent.end() ? std::string("not read") : it->second;
}

// Why `a` and `b` cannot be compared for one server, or "" when they can:
// the server restarted in between.
std::string Restarted(const char* server, const std::optional<int64_t>& uptime_a,
                      const std::optional<int64_t>& uptime_b, const std::optional<int64_t>& pid_a,
                      const std::optional<int64_t>& pid_b) {
  if (uptime_a.has_value() && uptime_b.has_value() && *uptime_b < *uptime_a) {
    return absl::StrCat(server, " restarted (uptime ", *uptime_a, " s, then ", *uptime_b, " s)");
  }
  if (pid_a.has_value() && pid_b.has_value() && *pid_a != *pid_b) {
    return absl::StrCat(server, " restarted (pid ", *pid_a, ", then ", *pid_b, ")");
  }
  return "";
}

std::string DbRestarted(const ServerSnapshot& a, const ServerSnapshot& b) {
  return Restarted("the database", a.db_uptime_s, b.db_uptime_s, a.db_pid, b.db_pid);
}

std::string CacheRestarted(const ServerSnapshot& a, const ServerSnapshot& b) {
  if (a.cache_nodes != b.cache_nodes) {
    return absl::StrCat("the cache's primaries changed (", a.cache_nodes, ", then ", b.cache_nodes,
                        ")");
  }
  return Restarted("the cache", a.cache_uptime_s, b.cache_uptime_s, a.cache_pid, b.cache_pid);
}

// The change of one running total from `a` to `b`, or nullopt with the reason
// in *why. `restarted` is the server's Restarted() verdict.
template <typename T>
std::optional<double> Change(const ServerSnapshot& a, const ServerSnapshot& b,
                             std::optional<T> ServerSnapshot::*field, CounterId id,
                             const std::string& restarted, std::string* why) {
  const std::optional<T>& from = a.*field;
  const std::optional<T>& to = b.*field;
  if (!to.has_value()) {
    *why = WhyAbsent(b, id);
  } else if (!from.has_value()) {
    *why = WhyAbsent(a, id);
  } else if (!restarted.empty()) {
    *why = restarted;
  } else if (*to < *from) {
    *why = absl::StrCat("the count went down, from ", *from, " to ", *to, " (statistics reset?)");
  } else {
    return static_cast<double>(*to - *from);
  }
  return std::nullopt;
}

// Statements every client but the reader sent the database from `a` to `b`:
// the change of Questions less the reader's own statements.
std::optional<double> OtherStatements(const ServerSnapshot& a, const ServerSnapshot& b,
                                      std::string* why) {
  std::optional<double> questions = Change(a, b, &ServerSnapshot::db_questions,
                                           CounterId::kDbForeignQueries, DbRestarted(a, b), why);
  if (!questions.has_value()) return std::nullopt;
  if (a.db_connection != b.db_connection) {
    *why = "the statistics connection reconnected, so its own statements are not known exactly";
    return std::nullopt;
  }
  const double others = *questions - static_cast<double>(b.own_db_statements - a.own_db_statements);
  if (others < 0) {
    *why = "Questions grew less than the reader's own statements";
    return std::nullopt;
  }
  return others;
}

// before, samples..., after.
std::vector<const ServerSnapshot*> AllSnapshots(const ServerSnapshot& before,
                                                const std::vector<ServerSnapshot>& samples,
                                                const ServerSnapshot& after) {
  std::vector<const ServerSnapshot*> all;
  all.push_back(&before);
  for (const ServerSnapshot& s : samples) all.push_back(&s);
  all.push_back(&after);
  return all;
}

// The largest value of `field` over `all`; nullopt when none has it.
std::optional<double> Most(const std::vector<const ServerSnapshot*>& all,
                           std::optional<int64_t> ServerSnapshot::*field) {
  std::optional<double> most;
  for (const ServerSnapshot* s : all) {
    if ((s->*field).has_value()) {
      most = std::max(most.value_or(0), static_cast<double>(*(s->*field)));
    }
  }
  return most;
}

// Commands other clients sent the cache from `a` to `b`: the change of
// total_commands_processed less the replicas' own, the reader's and the
// run's (`own`).
std::optional<double> ForeignCommands(const ServerSnapshot& a, const ServerSnapshot& b,
                                      const OwnTotals& own, std::string* why) {
  const std::string restarted = CacheRestarted(a, b);
  std::optional<double> total = Change(a, b, &ServerSnapshot::cache_commands,
                                       CounterId::kCacheForeignCommands, restarted, why);
  if (!total.has_value()) return std::nullopt;
  std::optional<double> replication = Change(a, b, &ServerSnapshot::cache_replication,
                                             CounterId::kCacheForeignCommands, restarted, why);
  if (!replication.has_value()) return std::nullopt;
  if (!a.own_cache.has_value() || !b.own_cache.has_value()) {
    *why = WhyAbsent(a.own_cache.has_value() ? b : a, CounterId::kCacheForeignCommands);
    return std::nullopt;
  }
  if (b.own_cache->unsure > a.own_cache->unsure) {
    *why = absl::StrCat(b.own_cache->unsure - a.own_cache->unsure,
                        " of the statistics reader's cache commands got an error reply or no "
                        "reply, which the server may or may not have counted");
    return std::nullopt;
  }
  if (!own.cache_commands.has_value()) {
    *why = own.cache_why;
    return std::nullopt;
  }
  const double reader = static_cast<double>((b.own_cache->sent - a.own_cache->sent) -
                                            (b.own_cache->refused - a.own_cache->refused));
  const double foreign = *total - *replication - reader - static_cast<double>(*own.cache_commands);
  if (foreign < 0) {
    *why = absl::StrCat("the cache counted ", *total - *replication,
                        " commands, fewer than this process's own ",
                        reader + static_cast<double>(*own.cache_commands));
    return std::nullopt;
  }
  return foreign;
}

// Statements other clients ran on the database from `a` to `b`: the change
// of Questions less the reader's and the run's (`own`).
std::optional<double> ForeignStatements(const ServerSnapshot& a, const ServerSnapshot& b,
                                        const OwnTotals& own, std::string* why) {
  const std::optional<double> others = OtherStatements(a, b, why);
  if (!others.has_value()) return std::nullopt;
  if (!own.db_questions.has_value()) {
    auto it = own.db_why.find(CounterId::kDbQueries);
    *why = it == own.db_why.end() ? std::string("the run's statements are not known") : it->second;
    return std::nullopt;
  }
  const double foreign = *others - static_cast<double>(*own.db_questions);
  if (foreign < 0) {
    *why = absl::StrCat("Questions grew by ", *others, " besides the statistics reader's, less ",
                        "than the run's sessions' own ", *own.db_questions);
    return std::nullopt;
  }
  return foreign;
}

// The most other clients' connections active at one read: database
// sessions, plus cache connections when the reader has a cache.
std::optional<double> MostForeignClients(const std::vector<const ServerSnapshot*>& all,
                                         std::string* why) {
  double most = 0;
  for (const ServerSnapshot* s : all) {
    if (!s->db_foreign_active.has_value()) {
      *why = absl::StrCat("the database's sessions: ", s->db_foreign_active_why);
      return std::nullopt;
    }
    double active = static_cast<double>(*s->db_foreign_active);
    if (s->has_cache) {
      if (!s->cache_foreign_active.has_value()) {
        *why = absl::StrCat("the cache's connections: ", s->cache_foreign_active_why);
        return std::nullopt;
      }
      active += static_cast<double>(*s->cache_foreign_active);
    }
    most = std::max(most, active);
  }
  return most;
}

}  // namespace

ServerCounters RunServerCounters(const ServerSnapshot& before, const ServerSnapshot& after,
                                 const std::vector<ServerSnapshot>& samples, const OwnTotals& own,
                                 int64_t ops, double wall_s) {
  ServerCounters counters;
  auto put = [&counters](CounterId id, std::optional<double> value, const std::string& why) {
    if (value.has_value()) {
      counters.values[id] = *value;
    } else {
      counters.absent[id] = why;
    }
  };
  // `derived` = value * scale / divisor, absent with the base's reason.
  auto derive = [&counters, &put](CounterId id, CounterId base, double divisor, double scale,
                                  const char* no_divisor) {
    auto it = counters.values.find(base);
    if (it == counters.values.end()) {
      put(id, std::nullopt, counters.absent[base]);
    } else if (divisor <= 0) {
      put(id, std::nullopt, no_divisor);
    } else {
      put(id, it->second * scale / divisor, "");
    }
  };
  const std::string db_restarted = DbRestarted(before, after);
  const std::string cache_restarted = CacheRestarted(before, after);
  const auto& a = before;
  const auto& b = after;
  const std::vector<const ServerSnapshot*> all = AllSnapshots(before, samples, after);
  std::string why;

  // The run's own statements: each session's after-read SHOW SESSION STATUS
  // counted itself in Questions, and in none of the others.
  const std::tuple<CounterId, const std::optional<int64_t>&, int64_t> own_db[] = {
      {CounterId::kDbQueries, own.db_questions, own.db_sessions},
      {CounterId::kDbSelects, own.db_selects, 0},
      {CounterId::kDbInserts, own.db_inserts, 0},
      {CounterId::kDbRowsRead, own.db_rows_read, 0},
  };
  for (const auto& [id, total, less] : own_db) {
    auto it = own.db_why.find(id);
    put(id,
        total.has_value() ? std::optional<double>(static_cast<double>(*total - less))
                          : std::nullopt,
        it == own.db_why.end() ? std::string("not read") : it->second);
  }
  put(CounterId::kDbDiskReads,
      Change(a, b, &ServerSnapshot::db_disk_reads, CounterId::kDbDiskReads, db_restarted, &why),
      why);
  // The most connections any snapshot saw.
  put(CounterId::kDbConnections, Most(all, &ServerSnapshot::db_threads_connected),
      WhyAbsent(after, CounterId::kDbConnections));

  // Other clients' work.
  const std::optional<double> db_foreign = ForeignStatements(a, b, own, &why);
  put(CounterId::kDbForeignQueries, db_foreign, why);
  const bool cache = before.has_cache || after.has_cache;
  const std::optional<double> cache_foreign = ForeignCommands(a, b, own, &why);
  put(CounterId::kCacheForeignCommands, cache_foreign, why);
  const std::optional<double> clients = MostForeignClients(all, &why);
  put(CounterId::kForeignClientsMax, clients, why);
  {
    std::vector<std::pair<CounterId, std::optional<double>>> parts = {
        {CounterId::kDbForeignQueries, db_foreign}, {CounterId::kForeignClientsMax, clients}};
    if (cache) parts.emplace_back(CounterId::kCacheForeignCommands, cache_foreign);
    std::optional<double> shared = 0;
    std::string unknown;
    for (const auto& [id, value] : parts) {
      if (value.has_value() && *value > 0) {
        shared = 1;
        break;
      }
      if (!value.has_value()) {
        shared.reset();
        if (unknown.empty()) {
          const std::string_view name = CounterName(id);
          unknown = absl::StrCat("cannot tell whether other clients used the servers (",
                                 absl::string_view(name.data(), name.size()), ": ",
                                 counters.absent[id], ")");
        }
      }
    }
    put(CounterId::kServerFiguresShared, shared, unknown);
  }

  // The cache's whole-server figures; its hits and misses are the run's
  // only when nobody else sent it a command.
  for (const Figure& f : kCacheFigures) {
    if (f.counter == CounterId::kCacheUsedMemoryMb ||
        f.counter == CounterId::kCacheForeignCommands) {
      continue;
    }
    std::optional<double> value = Change(a, b, f.field, f.counter, cache_restarted, &why);
    if (value.has_value() &&
        (f.counter == CounterId::kCacheServerHits || f.counter == CounterId::kCacheServerMisses)) {
      if (!cache_foreign.has_value()) {
        value.reset();
        why = absl::StrCat("cannot tell whether other clients used the cache (",
                           counters.absent[CounterId::kCacheForeignCommands], ")");
      } else if (*cache_foreign > 0) {
        value.reset();
        why = "other clients used the cache during the run";
      }
    }
    put(f.counter, value, why);
  }
  std::optional<double> used_mb;
  if (after.cache_used_memory.has_value()) {
    used_mb = static_cast<double>(*after.cache_used_memory) / (1024.0 * 1024.0);
  }
  put(CounterId::kCacheUsedMemoryMb, used_mb, WhyAbsent(after, CounterId::kCacheUsedMemoryMb));
  std::optional<double> keys;
  if (after.cache_keys.has_value()) keys = static_cast<double>(*after.cache_keys);
  put(CounterId::kCacheKeys, keys, WhyAbsent(after, CounterId::kCacheKeys));

  put(CounterId::kDbCpuMs,
      Change(a, b, &ServerSnapshot::db_cpu_ms, CounterId::kDbCpuMs, db_restarted, &why), why);
  put(CounterId::kCacheCpuMs,
      Change(a, b, &ServerSnapshot::cache_cpu_ms, CounterId::kCacheCpuMs, cache_restarted, &why),
      why);
  put(CounterId::kClientCpuMs,
      Change(a, b, &ServerSnapshot::client_cpu_ms, CounterId::kClientCpuMs, "", &why), why);

  // Replica lags: the most any snapshot saw; nothing when none was read or
  // tried (the run has no replicas).
  const std::pair<std::optional<int64_t> ServerSnapshot::*, CounterId> lags[] = {
      {&ServerSnapshot::db_replica_lag_s, CounterId::kDbReplicaLagMaxS},
      {&ServerSnapshot::cache_replica_offset_lag, CounterId::kCacheReplicaOffsetLagMax}};
  for (const auto& [field, id] : lags) {
    const std::optional<double> most = Most(all, field);
    std::string absent_why;
    for (const ServerSnapshot* s : all) {
      if (auto it = s->absent.find(id); it != s->absent.end()) absent_why = it->second;
    }
    if (most.has_value() || !absent_why.empty()) put(id, most, absent_why);
  }

  const double n = static_cast<double>(ops);
  constexpr char kNoOps[] = "the run had no operations";
  derive(CounterId::kDbQueriesPerOp, CounterId::kDbQueries, n, 1, kNoOps);
  derive(CounterId::kDbQueriesPerS, CounterId::kDbQueries, wall_s, 1, "the run took no time");
  derive(CounterId::kDbCpuUsPerOp, CounterId::kDbCpuMs, n, 1000, kNoOps);
  derive(CounterId::kCacheCpuUsPerOp, CounterId::kCacheCpuMs, n, 1000, kNoOps);
  derive(CounterId::kClientCpuUsPerOp, CounterId::kClientCpuMs, n, 1000, kNoOps);
  return counters;
}

std::vector<std::string> AbsentReasons(const ServerCounters& counters) {
  // Reasons in the order of their first counter (names.def order).
  std::vector<std::pair<std::string, std::vector<std::string>>> groups;
  for (const auto& [id, why] : counters.absent) {
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&why = why](const auto& g) { return g.first == why; });
    if (it == groups.end()) it = groups.emplace(groups.end(), why, std::vector<std::string>());
    it->second.emplace_back(CounterName(id));
  }
  std::vector<std::string> lines;
  for (const auto& [why, names] : groups) {
    lines.push_back(absl::StrCat(absl::StrJoin(names, ", "), ": ", why));
  }
  return lines;
}

std::vector<ServerSecond> ServerSeconds(const ServerSnapshot& before,
                                        const std::vector<ServerSnapshot>& samples,
                                        const ServerSnapshot& after) {
  const std::vector<const ServerSnapshot*> all = AllSnapshots(before, samples, after);

  struct Second {
    std::map<SeriesField, double> sums;
    std::map<SeriesField, bool> missing;  // some change of the second lacks it
  };
  std::map<int64_t, Second> seconds;
  std::string why;
  for (size_t i = 0; i + 1 < all.size(); ++i) {
    const ServerSnapshot& a = *all[i];
    const ServerSnapshot& b = *all[i + 1];
    Second& second = seconds[a.epoch_ns / 1000000000];
    const std::pair<SeriesField, std::optional<double>> changes[] = {
        {SeriesField::kSeriesDbQueries, OtherStatements(a, b, &why)},
        {SeriesField::kSeriesDbCpuMs,
         Change(a, b, &ServerSnapshot::db_cpu_ms, CounterId::kDbCpuMs, DbRestarted(a, b), &why)},
        {SeriesField::kSeriesCacheCpuMs,
         Change(a, b, &ServerSnapshot::cache_cpu_ms, CounterId::kCacheCpuMs, CacheRestarted(a, b),
                &why)},
    };
    for (const auto& [field, value] : changes) {
      if (value.has_value()) {
        second.sums[field] += *value;
      } else {
        second.missing[field] = true;
      }
    }
  }
  std::vector<ServerSecond> series;
  for (auto& [epoch_s, second] : seconds) {
    ServerSecond out;
    out.epoch_s = epoch_s;
    for (const auto& [field, sum] : second.sums) {
      if (!second.missing.count(field)) out.values[field] = sum;
    }
    series.push_back(std::move(out));
  }
  return series;
}

std::optional<int64_t> InfoInt(std::string_view text, std::string_view name) {
  for (const auto& [field, value] : internal::ParseInfo(text)) {
    int64_t v = 0;
    if (field == name)
      return absl::SimpleAtoi(value, &v) ? std::optional<int64_t>(v) : std::nullopt;
  }
  return std::nullopt;
}

namespace internal {

absl::StatusOr<int64_t> ForeignActiveClients(std::string_view client_list,
                                             std::string_view own_name) {
  int64_t foreign = 0;
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(client_list.data(), client_list.size()), '\n',
                      absl::SkipWhitespace())) {
    std::optional<absl::string_view> name, idle, flags;
    for (absl::string_view field : absl::StrSplit(absl::StripAsciiWhitespace(line), ' ')) {
      const size_t eq = field.find('=');
      if (eq == absl::string_view::npos) continue;
      const absl::string_view key = field.substr(0, eq);
      const absl::string_view value = field.substr(eq + 1);
      if (key == "name") name = value;
      if (key == "idle") idle = value;
      if (key == "flags") flags = value;
    }
    int64_t idle_s = 0;
    if (!idle.has_value() || !flags.has_value() || !absl::SimpleAtoi(*idle, &idle_s)) {
      return absl::InvalidArgumentError(
          absl::StrCat("CLIENT LIST has a line without idle= or flags=: '", line, "'"));
    }
    // A replica's link to its primary (S) or a primary's to this replica (M)
    // is replication, not a client.
    if (absl::StrContains(*flags, 'S') || absl::StrContains(*flags, 'M')) continue;
    if (name.has_value() && *name == absl::string_view(own_name.data(), own_name.size())) continue;
    if (idle_s <= 1) ++foreign;
  }
  return foreign;
}

std::vector<std::pair<std::string, std::string>> ParseInfo(std::string_view text,
                                                           bool keep_headers) {
  std::vector<std::pair<std::string, std::string>> rows;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (keep_headers && !line.empty() && line[0] == '#') {
      rows.emplace_back(std::string(line), std::string());
      continue;
    }
    const size_t colon = line.find(':');
    if (line.empty() || line[0] == '#' || colon == std::string_view::npos) continue;
    rows.emplace_back(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
  }
  return rows;
}

}  // namespace internal
}  // namespace cabench

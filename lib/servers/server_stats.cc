#include "lib/servers/server_stats.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "lib/servers/proc_stat.h"
#include "lib/servers/replication.h"

namespace cabench {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// Only the rows cabench reads: a full SHOW GLOBAL STATUS is some 500 rows.
constexpr char kStatusSql[] =
    "SHOW GLOBAL STATUS WHERE Variable_name IN ('Questions', 'Com_select', 'Com_insert', "
    "'Innodb_rows_read', 'Rows_read', 'Innodb_buffer_pool_reads', 'Threads_connected', 'Uptime')";
// SHOW, not SELECT @@pid_file, so that Com_select is not touched.
constexpr char kPidFileSql[] =
    "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('pid_file', 'datadir')";

// A running total read from a server, and the counter it feeds. When the
// server has no `name`, `fallback` (if any) is read instead.
struct Figure {
  const char* name;
  std::optional<int64_t> ServerSnapshot::*field;
  CounterId counter;
  const char* fallback = nullptr;
};

constexpr Figure kDbFigures[] = {
    {"Questions", &ServerSnapshot::db_questions, CounterId::kDbQueries},
    {"Com_select", &ServerSnapshot::db_selects, CounterId::kDbSelects},
    {"Com_insert", &ServerSnapshot::db_inserts, CounterId::kDbInserts},
    // MariaDB 10.11 no longer has Innodb_rows_read; its Rows_read counts the
    // rows read from every engine's tables (temporary tables excluded).
    {"Innodb_rows_read", &ServerSnapshot::db_rows_read, CounterId::kDbRowsRead, "Rows_read"},
    {"Innodb_buffer_pool_reads", &ServerSnapshot::db_disk_reads, CounterId::kDbDiskReads},
    {"Threads_connected", &ServerSnapshot::db_threads_connected, CounterId::kDbConnections},
};

constexpr Figure kCacheFigures[] = {
    {"keyspace_hits", &ServerSnapshot::cache_hits, CounterId::kCacheServerHits},
    {"keyspace_misses", &ServerSnapshot::cache_misses, CounterId::kCacheServerMisses},
    {"expired_keys", &ServerSnapshot::cache_expired_keys, CounterId::kCacheExpiredKeys},
    {"evicted_keys", &ServerSnapshot::cache_evicted_keys, CounterId::kCacheEvictedKeys},
    {"used_memory", &ServerSnapshot::cache_used_memory, CounterId::kCacheUsedMemoryMb},
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
    if (absl::IsNotFound(value.status()) && f->fallback != nullptr) {
      value = FindInt(rows, f->fallback, source);
    }
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

ServerSnapshot ServerStatsReader::Read() {
  ServerSnapshot snapshot;
  snapshot.epoch_ns = absl::ToUnixNanos(absl::Now());
  ReadDatabase(&snapshot);
  ReadCache(&snapshot);
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

void ServerStatsReader::ReadDatabase(ServerSnapshot* snapshot) {
  constexpr const Figure* kBegin = std::begin(kDbFigures);
  constexpr const Figure* kEnd = std::end(kDbFigures);
  if (sql_ == nullptr) {
    SetAbsent(kBegin, kEnd, "no database connection", snapshot);
    snapshot->absent[CounterId::kDbCpuMs] = "no database connection";
    return;
  }
  bool connected = true;
  if (sql_broken_) {
    if (absl::Status status = sql_->Reconnect(); status.ok()) {
      sql_broken_ = false;
      ++db_connection_;
    } else {
      SetAbsent(kBegin, kEnd, Reason("reconnecting to the database", status), snapshot);
      connected = false;
    }
  }
  if (connected && options_.db_local && !db_pid_looked_up_) FindDatabasePid();
  if (connected && !sql_broken_) {
    ++own_db_statements_;
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
  snapshot->own_db_statements = own_db_statements_;
  snapshot->db_connection = db_connection_;

  if (options_.db_local && db_pid_.ok()) snapshot->db_pid = *db_pid_;
  SetOrAbsent(LocalServerCpu(options_, ServerKind::kDatabase, db_pid_, snapshot->db_uptime_s),
              &snapshot->db_cpu_ms, CounterId::kDbCpuMs, snapshot);
}

void ServerStatsReader::ReadCache(ServerSnapshot* snapshot) {
  constexpr const Figure* kBegin = std::begin(kCacheFigures);
  constexpr const Figure* kEnd = std::end(kCacheFigures);
  if (kv_ == nullptr) {
    SetAbsent(kBegin, kEnd, "no cache connection", snapshot);
    snapshot->absent[CounterId::kCacheKeys] = "no cache connection";
    snapshot->absent[CounterId::kCacheCpuMs] = "no cache connection";
    return;
  }
  if (kv_broken_) {
    if (absl::Status status = kv_->Reconnect(); status.ok()) kv_broken_ = false;
  }
  absl::StatusOr<int64_t> pid;
  absl::StatusOr<std::string> info = kv_->Info("");
  if (info.ok()) {
    const Pairs rows = internal::ParseInfo(*info);
    SetFigures(rows, "INFO", kBegin, kEnd, snapshot);
    absl::StatusOr<int64_t> uptime = FindInt(rows, "uptime_in_seconds", "INFO");
    if (uptime.ok()) snapshot->cache_uptime_s = *uptime;
    pid = FindInt(rows, "process_id", "INFO");
    if (pid.ok()) snapshot->cache_pid = *pid;
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
  absl::StatusOr<int64_t> keys = kv_->DbSize();
  if (keys.ok()) {
    snapshot->cache_keys = *keys;
  } else {
    if (absl::IsUnavailable(keys.status())) kv_broken_ = true;
    snapshot->absent[CounterId::kCacheKeys] = Reason("DBSIZE", keys.status());
  }

  SetOrAbsent(LocalServerCpu(options_, ServerKind::kCache, pid, snapshot->cache_uptime_s),
              &snapshot->cache_cpu_ms, CounterId::kCacheCpuMs, snapshot);
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

// Statements other clients sent the database from `a` to `b`: the change of
// Questions less the reader's own statements.
std::optional<double> OtherStatements(const ServerSnapshot& a, const ServerSnapshot& b,
                                      std::string* why) {
  std::optional<double> questions =
      Change(a, b, &ServerSnapshot::db_questions, CounterId::kDbQueries, DbRestarted(a, b), why);
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

}  // namespace

ServerCounters RunServerCounters(const ServerSnapshot& before, const ServerSnapshot& after,
                                 const std::vector<ServerSnapshot>& samples, int64_t ops,
                                 double wall_s) {
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
  std::string why;

  std::optional<double> queries = OtherStatements(a, b, &why);
  put(CounterId::kDbQueries, queries, why);
  for (const Figure& f : kDbFigures) {
    if (f.counter == CounterId::kDbQueries || f.counter == CounterId::kDbConnections) continue;
    put(f.counter, Change(a, b, f.field, f.counter, db_restarted, &why), why);
  }
  // The most connections any snapshot saw.
  const std::vector<const ServerSnapshot*> all = AllSnapshots(before, samples, after);
  put(CounterId::kDbConnections, Most(all, &ServerSnapshot::db_threads_connected),
      WhyAbsent(after, CounterId::kDbConnections));

  for (const Figure& f : kCacheFigures) {
    if (f.counter == CounterId::kCacheUsedMemoryMb) continue;
    put(f.counter, Change(a, b, f.field, f.counter, cache_restarted, &why), why);
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

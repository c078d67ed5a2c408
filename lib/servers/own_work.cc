#include "lib/servers/own_work.h"

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace cabench {
namespace {

// The four figures, all session-scoped in MariaDB 10.11, in one statement.
constexpr char kSessionSql[] =
    "SHOW SESSION STATUS WHERE Variable_name IN ('Questions', 'Com_select', 'Com_insert', "
    "'Rows_read')";

struct Field {
  const char* name;
  std::optional<int64_t> SessionMark::*mark;
  std::optional<int64_t> OwnTotals::*total;
  CounterId counter;
};

constexpr Field kFields[] = {
    {"Questions", &SessionMark::questions, &OwnTotals::db_questions, CounterId::kDbQueries},
    {"Com_select", &SessionMark::selects, &OwnTotals::db_selects, CounterId::kDbSelects},
    {"Com_insert", &SessionMark::inserts, &OwnTotals::db_inserts, CounterId::kDbInserts},
    {"Rows_read", &SessionMark::rows_read, &OwnTotals::db_rows_read, CounterId::kDbRowsRead},
};

std::string Why(const SessionMark& mark, CounterId id) {
  auto it = mark.why.find(id);
  return it == mark.why.end() ? std::string("not read") : it->second;
}

std::string Describe(const SqlSession& s) { return absl::StrCat(s.id, " on ", s.server); }

// Why the change of one session from `a` to `b` cannot be told, or "".
std::string SessionChanged(const SessionMark& a, const SessionMark& b) {
  if (!a.session.has_value() || !b.session.has_value()) {
    return absl::StrCat("cannot tell whether a database connection of the run reconnected (",
                        a.session.has_value() ? b.session_why : a.session_why, ")");
  }
  if (a.session->id != b.session->id || a.session->server != b.session->server) {
    return absl::StrCat("a database connection of the run reconnected during it (session ",
                        Describe(*a.session), ", then ", Describe(*b.session),
                        "): its session counts restarted");
  }
  return "";
}

// Marks every figure of `mark` unknown for `why`.
void AllUnknown(const std::string& why, SessionMark* mark) {
  for (const Field& f : kFields) mark->why[f.counter] = why;
}

}  // namespace

SessionMark ReadSession(SqlClient& sql) {
  SessionMark mark;
  absl::StatusOr<SqlSession> session = sql.Session();
  if (session.ok()) {
    mark.session = *std::move(session);
  } else {
    mark.session_why = std::string(session.status().message());
  }
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> rows =
      sql.QueryPairs(kSessionSql);
  if (!rows.ok()) {
    AllUnknown(absl::StrCat("SHOW SESSION STATUS: ", rows.status().message()), &mark);
    return mark;
  }
  for (const Field& f : kFields) {
    mark.why[f.counter] = absl::StrCat("SHOW SESSION STATUS has no ", f.name);
    for (const auto& [name, value] : *rows) {
      if (!absl::EqualsIgnoreCase(name, f.name)) continue;
      int64_t n = 0;
      if (absl::SimpleAtoi(value, &n)) {
        mark.*(f.mark) = n;
        mark.why.erase(f.counter);
      } else {
        mark.why[f.counter] =
            absl::StrCat("SHOW SESSION STATUS ", f.name, " is not an integer: '", value, "'");
      }
      break;
    }
  }
  return mark;
}

OwnMark MarkOwn(KvClient* kv, SqlClient* sql) {
  OwnMark mark;
  if (sql != nullptr) mark.sessions.push_back(ReadSession(*sql));
  if (kv != nullptr) {
    mark.has_cache = true;
    absl::StatusOr<KvCommands> commands = kv->Commands();
    if (commands.ok()) {
      mark.cache = *commands;
    } else {
      mark.cache_why = std::string(commands.status().message());
    }
  }
  return mark;
}

OwnMark MarkPool(SqlPool& pool) {
  OwnMark mark;
  absl::Status status = pool.WithEachConnection(
      [&mark](SqlClient& sql) { mark.sessions.push_back(ReadSession(sql)); });
  if (!status.ok()) {
    // One unknown session stands for the pool: its figures are unknown.
    SessionMark unknown;
    unknown.session_why = std::string(status.message());
    AllUnknown(unknown.session_why, &unknown);
    mark.sessions.assign(1, unknown);
  }
  return mark;
}

void AddOwnWork(const OwnMark& before, const OwnMark& after, OwnTotals* totals) {
  // Database: every session's change, figure by figure.
  if (before.sessions.size() != after.sessions.size()) {
    for (const Field& f : kFields) {
      if (!(totals->*(f.total)).has_value()) continue;
      totals->*(f.total) = std::nullopt;
      totals->db_why[f.counter] =
          absl::StrCat("the run had ", before.sessions.size(), " database sessions before and ",
                       after.sessions.size(), " after");
    }
  }
  for (size_t i = 0; i < before.sessions.size() && i < after.sessions.size(); ++i) {
    const SessionMark& a = before.sessions[i];
    const SessionMark& b = after.sessions[i];
    ++totals->db_sessions;
    const std::string changed = SessionChanged(a, b);
    for (const Field& f : kFields) {
      std::optional<int64_t>& total = totals->*(f.total);
      if (!total.has_value()) continue;  // already unknown, with its reason
      const std::optional<int64_t>& from = a.*(f.mark);
      const std::optional<int64_t>& to = b.*(f.mark);
      std::string why;
      if (!from.has_value()) {
        why = Why(a, f.counter);
      } else if (!to.has_value()) {
        why = Why(b, f.counter);
      } else if (!changed.empty()) {
        why = changed;
      } else if (*to < *from) {
        why = absl::StrCat("a session's ", f.name, " went down, from ", *from, " to ", *to);
      } else {
        *total += *to - *from;
        continue;
      }
      total = std::nullopt;
      totals->db_why[f.counter] = why;
    }
  }

  // Cache: the commands the server counted from the client.
  if (!before.has_cache && !after.has_cache) return;
  if (!totals->cache_commands.has_value()) return;
  std::string why;
  if (!before.cache.has_value() || !after.cache.has_value()) {
    why = before.cache.has_value() ? after.cache_why : before.cache_why;
    if (why.empty()) why = "a cache client of the run was not there before and after";
  } else if (after.cache->unsure > before.cache->unsure) {
    why = absl::StrCat(after.cache->unsure - before.cache->unsure,
                       " of the run's cache commands got an error reply or no reply, which the "
                       "server may or may not have counted");
  } else {
    totals->cache_commands = *totals->cache_commands + (after.cache->sent - before.cache->sent) -
                             (after.cache->refused - before.cache->refused) +
                             (after.cache->scripted - before.cache->scripted);
    return;
  }
  totals->cache_commands = std::nullopt;
  totals->cache_why = why;
}

void OwnWork::Add(const OwnMark& before, const OwnMark& after) {
  std::lock_guard<std::mutex> lock(mu_);
  AddOwnWork(before, after, &totals_);
}

OwnTotals OwnWork::Totals() const {
  std::lock_guard<std::mutex> lock(mu_);
  return totals_;
}

void OwnWork::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  totals_ = OwnTotals();
}

}  // namespace cabench

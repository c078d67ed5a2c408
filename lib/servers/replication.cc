#include "lib/servers/replication.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "lib/servers/server_stats.h"

namespace cabench {
namespace {

// SHOW SLAVE STATUS columns (0-based).
constexpr size_t kIoRunning = 10;
constexpr size_t kSqlRunning = 11;
constexpr size_t kSecondsBehind = 32;

bool KnownRunning(const std::string& v) {
  return v == "Yes" || v == "No" || v == "Connecting" || v == "Preparing";
}

// The value of `name` in INFO text, as text; "" when missing.
std::string InfoText(std::string_view info, std::string_view name) {
  for (const auto& [field, value] : internal::ParseInfo(info)) {
    if (field == name) return value;
  }
  return "";
}

}  // namespace

absl::StatusOr<DbReplicaStatus> ParseSlaveStatus(
    const std::optional<std::vector<std::optional<std::string>>>& row) {
  if (!row.has_value()) {
    return absl::FailedPreconditionError("SHOW SLAVE STATUS is empty: the server is not a replica");
  }
  const std::vector<std::optional<std::string>>& r = *row;
  if (r.size() <= kSecondsBehind) {
    return absl::InternalError(absl::StrCat("SHOW SLAVE STATUS has ", r.size(),
                                            " columns; cabench reads column ", kSecondsBehind + 1));
  }
  DbReplicaStatus status;
  status.io_running = r[kIoRunning].value_or("");
  status.sql_running = r[kSqlRunning].value_or("");
  if (!KnownRunning(status.io_running) || !KnownRunning(status.sql_running)) {
    return absl::InternalError(absl::StrCat("SHOW SLAVE STATUS columns ", kIoRunning + 1, " and ",
                                            kSqlRunning + 1,
                                            " are not Slave_IO_Running and "
                                            "Slave_SQL_Running ('",
                                            status.io_running, "', '", status.sql_running, "')"));
  }
  if (r[kSecondsBehind].has_value()) {
    int64_t s = 0;
    if (!absl::SimpleAtoi(*r[kSecondsBehind], &s)) {
      return absl::InternalError(absl::StrCat("SHOW SLAVE STATUS Seconds_Behind_Master is '",
                                              *r[kSecondsBehind], "', not a number"));
    }
    status.seconds_behind = s;
  }
  return status;
}

absl::StatusOr<DbReplicaStatus> ReadDbReplicaStatus(SqlClient& replica) {
  auto row = replica.QueryRow("SHOW SLAVE STATUS");
  if (!row.ok()) return row.status();
  return ParseSlaveStatus(*row);
}

absl::Status CheckDbReplicating(SqlClient& replica) {
  absl::StatusOr<DbReplicaStatus> status = ReadDbReplicaStatus(replica);
  if (!status.ok()) return status.status();
  if (status->replicating()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("not replicating (SHOW SLAVE STATUS: Slave_IO_Running ", status->io_running,
                   ", Slave_SQL_Running ", status->sql_running, ")"));
}

absl::Status CheckCacheReplicating(KvClient& replica) {
  absl::StatusOr<std::string> info = replica.Info("replication");
  if (!info.ok()) return info.status();
  const std::string role = InfoText(*info, "role");
  if (role != "slave") {
    return absl::FailedPreconditionError(
        absl::StrCat("not a replica (INFO replication role:", role.empty() ? "<none>" : role, ")"));
  }
  const std::string link = InfoText(*info, "master_link_status");
  if (link != "up") {
    return absl::FailedPreconditionError(absl::StrCat(
        "not replicating (INFO replication master_link_status:", link.empty() ? "<none>" : link,
        ")"));
  }
  return absl::OkStatus();
}

std::optional<int64_t> CacheReplicaOffsetLag(std::string_view info) {
  std::optional<int64_t> master_offset;
  std::vector<int64_t> offsets;
  for (const auto& [field, value] : internal::ParseInfo(info)) {
    int64_t n = 0;
    if (field == "master_repl_offset" && absl::SimpleAtoi(value, &n)) master_offset = n;
    // slave0:ip=127.0.0.1,port=16380,state=online,offset=1234,lag=0
    if (!absl::StartsWith(field, "slave") || field.size() <= 5 ||
        !absl::ascii_isdigit(static_cast<unsigned char>(field[5]))) {
      continue;
    }
    for (absl::string_view part : absl::StrSplit(value, ',')) {
      if (absl::ConsumePrefix(&part, "offset=") && absl::SimpleAtoi(part, &n)) {
        offsets.push_back(n);
      }
    }
  }
  if (!master_offset.has_value() || offsets.empty()) return std::nullopt;
  int64_t lag = 0;
  for (int64_t o : offsets) lag = std::max(lag, *master_offset - o);
  return lag;
}

absl::Status WaitForDbReplica(SqlClient& primary, SqlClient& replica, int64_t timeout_s) {
  auto pos = primary.QueryRow("SELECT @@GLOBAL.gtid_binlog_pos");
  if (!pos.ok()) return pos.status();
  if (!pos->has_value() || (*pos)->empty() || !(**pos)[0].has_value()) {
    return absl::FailedPreconditionError("the primary has no @@gtid_binlog_pos");
  }
  const std::string& gtid = *(**pos)[0];
  if (gtid.empty()) return absl::OkStatus();  // nothing written since the log began
  for (char c : gtid) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c)) && c != '-' && c != ',') {
      return absl::InternalError(absl::StrCat("unexpected @@gtid_binlog_pos '", gtid, "'"));
    }
  }
  auto waited =
      replica.QueryRow(absl::StrCat("SELECT MASTER_GTID_WAIT('", gtid, "', ", timeout_s, ")"));
  if (!waited.ok()) return waited.status();
  if (!waited->has_value() || (*waited)->empty() ||
      (**waited)[0] != std::optional<std::string>("0")) {
    return absl::DeadlineExceededError(
        absl::StrCat("the database replica did not reach the primary's GTID position ", gtid,
                     " within ", timeout_s, " s"));
  }
  return absl::OkStatus();
}

}  // namespace cabench

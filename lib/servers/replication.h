// File: lib/servers/replication.h
//
// Read replicas of the cache and the database (`tools/servers start
// --replicas`; CABENCH_CACHE_READ_URL, CABENCH_DB_READ_URL): is a server
// really replicating, how far behind is it, and waiting for it to catch up.
//
//   cache   INFO replication on the replica: role:slave and
//           master_link_status:up. On the primary: master_repl_offset less
//           each replica's offset (slaveN:...,offset=N,...), in bytes. The
//           primary knows a replica's offset from its REPLCONF ACK, sent
//           about once a second, so this is an upper bound: it includes up
//           to a second of writes the replica may already have applied.
//   db      SHOW SLAVE STATUS on the replica: Slave_IO_Running and
//           Slave_SQL_Running both Yes; Seconds_Behind_Master (NULL while
//           the SQL thread is not running). Catching up: the primary's
//           @@gtid_binlog_pos, then MASTER_GTID_WAIT on the replica.
//
// SHOW SLAVE STATUS is read by position (SqlClient::QueryRow has no column
// names): columns 10, 11 and 32, which MySQL and MariaDB have kept in that
// place since MySQL 5.0; a row too short, or whose running columns are not
// Yes/No/Connecting/Preparing, is refused as not understood.
//
// Thread safety: pure functions over the clients given; one thread per client.
#ifndef CABENCH_LIB_SERVERS_REPLICATION_H_
#define CABENCH_LIB_SERVERS_REPLICATION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/clients/kv_client.h"
#include "lib/clients/sql_client.h"

namespace cabench {

// The part of SHOW SLAVE STATUS cabench reads.
struct DbReplicaStatus {
  std::string io_running;                 // Slave_IO_Running: Yes, No, Connecting, Preparing
  std::string sql_running;                // Slave_SQL_Running: Yes, No
  std::optional<int64_t> seconds_behind;  // Seconds_Behind_Master; nullopt: NULL
  bool replicating() const { return io_running == "Yes" && sql_running == "Yes"; }
};

// Parses the first row of SHOW SLAVE STATUS. A missing row (no replication
// configured) is FailedPrecondition; a row cabench does not understand is
// Internal. Pure.
absl::StatusOr<DbReplicaStatus> ParseSlaveStatus(
    const std::optional<std::vector<std::optional<std::string>>>& row);

// Runs SHOW SLAVE STATUS on `replica` and parses it. Fails as the client
// does, or as ParseSlaveStatus.
absl::StatusOr<DbReplicaStatus> ReadDbReplicaStatus(SqlClient& replica);

// OK when `replica` replicates (both threads Yes); else FailedPrecondition
// saying what SHOW SLAVE STATUS said, or the client's error.
absl::Status CheckDbReplicating(SqlClient& replica);

// OK when `replica`'s INFO replication says role:slave and
// master_link_status:up; else FailedPrecondition saying what it says, or the
// client's error.
absl::Status CheckCacheReplicating(KvClient& replica);

// The primary's INFO text (any sections, replication included): the largest
// master_repl_offset - offset over its replicas, in bytes (at least 0);
// nullopt when it lists no replica or no master_repl_offset. Pure.
std::optional<int64_t> CacheReplicaOffsetLag(std::string_view info);

// Waits until `replica` has applied everything `primary` had written when
// this was called (GTID), for at most `timeout_s` seconds; at once when the
// primary has logged nothing (an empty @@gtid_binlog_pos). Fails with
// DeadlineExceeded when it has not caught up by then, FailedPrecondition when
// the primary has no @@gtid_binlog_pos at all, or as the clients do.
absl::Status WaitForDbReplica(SqlClient& primary, SqlClient& replica, int64_t timeout_s);

}  // namespace cabench

#endif  // CABENCH_LIB_SERVERS_REPLICATION_H_

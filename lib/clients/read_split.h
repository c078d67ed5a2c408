// File: lib/clients/read_split.h
//
// Read replicas, as the reference script uses them: separate read and write
// connections for both the cache and the database. ReadSplitKvClient and
// ReadSplitSqlClient are an ordinary KvClient and SqlClient made of two
// connections, a primary for writes and a replica for reads, so the
// cache-aside pattern and the engine's loop do not know reads are split:
//
//   KvClient    Get                      -> replica
//               everything else          -> primary (Set, SetIfAbsent, Del,
//               DelIfEquals, DeletePrefix, Info, DbSize, CountPrefix,
//               Config*, ServerInfo, ClientList, Commands)
//   SqlClient   QueryBookingCount        -> replica (the miss's SELECT)
//               everything else          -> primary (InsertBooking, Execute,
//               QueryRow, QueryPairs, ServerInfo, Session)
//
// QueryRow stays on the primary: the run ledger's locks and set-up queries
// must see what was written. Statistics go to the primary (the reader of
// lib/servers reads each server on a connection of its own), and so do
// Commands and Session: lib/servers counts a run's own work on the primary
// only (its SHOW SESSION STATUS and its commands there), beside the
// primary's whole-server figures.
//
// What a lagging replica does to the pattern:
//   - A GET from a cache replica that has not yet applied a fill, a DEL or a
//     refresh returns the older value (or a miss). Values carry what their
//     fill knew of the key's writes ("<lo>,<hi - lo>#row",
//     lib/cache_aside/cache_aside.h), so such a hit is classified as any
//     other (stale_reads or stale_reads_uncertain).
//   - Single flight: the lock is taken on the primary (SET NX), but its
//     second GET and the waiters' polls read the replica, which sees the
//     holder's fill only once it has replicated: a lagging replica makes
//     more duplicate fills (dup_fills) and longer fill waits.
//   - A SELECT from a database replica that has not applied a commit fills
//     the cache with an older row than the primary holds. The pattern is told
//     (CacheAside::Options::fills_may_lag): such a fill is taken to include
//     no write, so a hit on it is never certainly fresh once its key was
//     written: it counts in stale_reads_uncertain unless certainly stale.
//     db_replica_lag_max_s (Seconds_Behind_Master, whole seconds, sampled
//     about once a second) says how far behind the replica was: a row it
//     served was at most about that + 1 s old.
//
// Errors. A call fails as the connection it went to failed. Ping() pings
// both (the primary first); Reconnect() reconnects both and fails when either
// fails, so after a failure of either connection the Reconnector's usual
// Reconnect() mends the pair. A broken replica therefore fails reads only;
// a broken primary fails writes only, until Reconnect().
//
// Ownership: each owns its two connections. Thread safety: as any KvClient
// or SqlClient, one thread at a time.
#ifndef CABENCH_LIB_CLIENTS_READ_SPLIT_H_
#define CABENCH_LIB_CLIENTS_READ_SPLIT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/clients/kv_client.h"
#include "lib/clients/sql_client.h"

namespace cabench {

class ReadSplitKvClient : public KvClient {
 public:
  // Both must be non-null.
  ReadSplitKvClient(std::unique_ptr<KvClient> primary, std::unique_ptr<KvClient> replica);

  absl::StatusOr<bool> Get(std::string_view key, std::string* value) override;
  absl::Status Set(std::string_view key, std::string_view value, int64_t ttl_ms) override;
  absl::StatusOr<bool> SetIfAbsent(std::string_view key, std::string_view value,
                                   int64_t ttl_ms) override;
  absl::Status Del(std::string_view key) override;
  absl::StatusOr<bool> DelIfEquals(std::string_view key, std::string_view value) override;
  absl::StatusOr<int64_t> DeletePrefix(std::string_view prefix) override;
  absl::Status Ping() override;
  absl::Status Reconnect() override;
  absl::StatusOr<std::string> ServerInfo() override;
  absl::StatusOr<std::string> Info(std::string_view section) override;
  absl::StatusOr<int64_t> DbSize() override;
  absl::StatusOr<int64_t> CountPrefix(std::string_view prefix) override;
  absl::StatusOr<std::string> ConfigGet(std::string_view name) override;
  absl::Status ConfigSet(std::string_view name, std::string_view value) override;
  absl::StatusOr<std::string> ClientList() override;
  absl::StatusOr<KvCommands> Commands() const override;

 private:
  const std::unique_ptr<KvClient> primary_;
  const std::unique_ptr<KvClient> replica_;
};

class ReadSplitSqlClient : public SqlClient {
 public:
  // Both must be non-null.
  ReadSplitSqlClient(std::unique_ptr<SqlClient> primary, std::unique_ptr<SqlClient> replica);

  absl::Status QueryBookingCount(int64_t passenger_id, BookingCount* result) override;
  absl::StatusOr<int64_t> InsertBooking(const NewBooking& booking) override;
  absl::StatusOr<int64_t> Execute(std::string_view sql) override;
  absl::StatusOr<std::optional<std::vector<std::optional<std::string>>>> QueryRow(
      std::string_view sql) override;
  absl::Status Ping() override;
  absl::Status Reconnect() override;
  absl::StatusOr<std::string> ServerInfo() override;
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> QueryPairs(
      std::string_view sql) override;
  absl::StatusOr<SqlSession> Session() const override;

 private:
  const std::unique_ptr<SqlClient> primary_;
  const std::unique_ptr<SqlClient> replica_;
};

}  // namespace cabench

#endif  // CABENCH_LIB_CLIENTS_READ_SPLIT_H_

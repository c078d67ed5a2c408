// File: lib/testing/null_clients.h
//
// NullKvClient and NullSqlClient are clients that do no work, for the
// micro-benchmarks of bench/micro: they measure what the harness itself
// (Workload, CacheAside, the recorder) costs per operation, with no server
// and no map in the way. NullKvClient::Get answers a hit with a fixed value,
// or a miss, as configured; SetIfAbsent always sets (a single-flight fill
// never waits) and DelIfEquals always deletes (the lock is always ours);
// every other call succeeds at once.
// NullSqlClient::QueryBookingCount returns one fixed row and InsertBooking a
// counter; no uniqueness is checked.
//
// Ownership: plain objects owned by the caller. Thread safety: NOT safe for
// concurrent use (like the real clients): one per benchmark thread.
#ifndef CABENCH_LIB_TESTING_NULL_CLIENTS_H_
#define CABENCH_LIB_TESTING_NULL_CLIENTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/clients/kv_client.h"
#include "lib/clients/sql_client.h"

namespace cabench {

class NullKvClient : public KvClient {
 public:
  // Get hits when `hit` is true, returning `value`.
  explicit NullKvClient(bool hit = true, std::string value = "3|First42|Last42");

  void set_hit(bool hit) { hit_ = hit; }

  // Get: true with the fixed value (copied into *value, reusing its buffer),
  // or false, per set_hit(). Everything else: OK, no work.
  absl::StatusOr<bool> Get(std::string_view key, std::string* value) override;
  absl::Status Set(std::string_view key, std::string_view value, int64_t ttl_ms) override;
  // True (this call set the key), whatever set_hit() says: nothing is held,
  // so every fill lock is won and no thread waits for another's fill.
  // InvalidArgument when ttl_ms <= 0, as the interface requires.
  absl::StatusOr<bool> SetIfAbsent(std::string_view key, std::string_view value,
                                   int64_t ttl_ms) override;
  absl::Status Del(std::string_view key) override;
  // True: nothing is held, so every fill lock released is still ours.
  absl::StatusOr<bool> DelIfEquals(std::string_view key, std::string_view value) override;
  absl::StatusOr<int64_t> DeletePrefix(std::string_view prefix) override;
  absl::Status Ping() override;
  absl::Status Reconnect() override;
  absl::StatusOr<std::string> ServerInfo() override;
  // Info: "" (no figures); DbSize: 0.
  absl::StatusOr<std::string> Info(std::string_view section) override;
  absl::StatusOr<int64_t> DbSize() override;

 private:
  bool hit_;
  std::string value_;
};

class NullSqlClient : public SqlClient {
 public:
  NullSqlClient() = default;

  // QueryBookingCount: found, count 3, "First"/"Last" (buffers reused).
  // InsertBooking: returns 1, 2, 3, ... Everything else: OK, no rows.
  absl::Status QueryBookingCount(int64_t passenger_id, BookingCount* result) override;
  absl::StatusOr<int64_t> InsertBooking(const NewBooking& booking) override;
  absl::StatusOr<int64_t> Execute(std::string_view sql) override;
  absl::StatusOr<std::optional<std::vector<std::optional<std::string>>>> QueryRow(
      std::string_view sql) override;
  absl::Status Ping() override;
  absl::Status Reconnect() override;
  absl::StatusOr<std::string> ServerInfo() override;
  // No rows.
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> QueryPairs(
      std::string_view sql) override;

 private:
  int64_t next_id_ = 1;
};

}  // namespace cabench

#endif  // CABENCH_LIB_TESTING_NULL_CLIENTS_H_

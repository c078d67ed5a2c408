#include "lib/dataset/schema_mark.h"

#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "lib/dataset/sql_text.h"

namespace cabench {
namespace {

using Row = std::vector<std::optional<std::string>>;

// The keys of a mark, in the order of the query below. All but the last are
// required: cabench_load writes "owner" first and the rest only when a load
// has completed, so a mark without all of them is an interrupted load.
enum Key {
  kOwner,
  kPreset,
  kSeed,
  kPassengers,
  kFlights,
  kBookings,
  kMaxLoadedBookingId,
  kSchemaVersion,
  kChecksum,
  kLoadedAt,
  kBookingsPerPassenger,  // optional (older marks lack it)
  kNumKeys,
};
constexpr const char* kKeyNames[kNumKeys] = {"owner",
                                             "preset",
                                             "seed",
                                             "passengers",
                                             "flights",
                                             "bookings",
                                             "max_loaded_booking_id",
                                             "schema_version",
                                             "checksum",
                                             "loaded_at",
                                             "bookings_per_passenger"};
constexpr int kRequiredKeys = kBookingsPerPassenger;

absl::Status NotCabench(const std::string& schema, absl::string_view why) {
  return absl::FailedPreconditionError(absl::StrCat(
      "schema '", schema,
      "' is not a cabench schema: load it with cabench_load (", why, ")"));
}

absl::Status Unexpected(absl::string_view what) {
  return absl::InternalError(
      absl::StrCat("schema mark: unexpected reply ", what));
}

}  // namespace

absl::StatusOr<SchemaMark> ReadSchemaMark(SqlClient& client) {
  absl::StatusOr<std::optional<Row>> probe = client.QueryRow(
      "SELECT DATABASE(), (SELECT COUNT(*) FROM information_schema.tables "
      "WHERE table_schema = DATABASE() AND table_name = 'cabench_meta')");
  if (!probe.ok()) return probe.status();
  if (!probe->has_value() || (*probe)->size() != 2) {
    return Unexpected("to the schema probe");
  }
  const std::optional<std::string>& schema_value = (**probe)[0];
  if (!schema_value.has_value()) {
    return absl::FailedPreconditionError(
        "no schema selected: CABENCH_DB_URL must name a schema loaded with "
        "cabench_load");
  }
  const std::string schema = *schema_value;
  if ((**probe)[1].value_or("0") == "0")
    return NotCabench(schema, "no cabench_meta table");

  // One row with one column per key (NULL when the key is missing).
  std::string sql = "SELECT ";
  for (int i = 0; i < kNumKeys; ++i) {
    absl::StrAppend(&sql, i > 0 ? ", " : "", "MAX(CASE WHEN k = '",
                    kKeyNames[i], "' THEN v END)");
  }
  sql += " FROM cabench_meta";
  absl::StatusOr<std::optional<Row>> row = client.QueryRow(sql);
  if (!row.ok()) return row.status();
  if (!row->has_value() || (*row)->size() != kNumKeys) {
    return Unexpected("from cabench_meta");
  }
  const Row& values = **row;
  for (int i = 0; i < kRequiredKeys; ++i) {
    if (!values[i].has_value()) {
      return NotCabench(
          schema, absl::StrCat("cabench_meta has no '", kKeyNames[i], "'"));
    }
  }
  if (*values[kOwner] != "cabench")
    return NotCabench(schema, "owner is not 'cabench'");

  SchemaMark mark;
  DataSetInfo& info = mark.data;
  info.preset = *values[kPreset];
  bool ok = absl::SimpleAtoi(*values[kSeed], &info.seed) &&
            absl::SimpleAtoi(*values[kPassengers], &info.passengers) &&
            absl::SimpleAtoi(*values[kFlights], &info.flights) &&
            absl::SimpleAtoi(*values[kBookings], &info.bookings) &&
            absl::SimpleAtoi(*values[kMaxLoadedBookingId],
                             &info.max_loaded_booking_id) &&
            absl::SimpleAtoi(*values[kSchemaVersion], &mark.schema_version);
  if (values[kBookingsPerPassenger].has_value()) {
    int64_t per_passenger = 0;
    ok = ok && absl::SimpleAtoi(*values[kBookingsPerPassenger], &per_passenger);
    mark.bookings_per_passenger = per_passenger;
  }
  if (!ok || info.passengers < 0 || info.flights < 0 || info.bookings < 0 ||
      info.max_loaded_booking_id < 0) {
    return NotCabench(schema, "cabench_meta holds a malformed number");
  }
  mark.checksum = *values[kChecksum];
  mark.loaded_at = *values[kLoadedAt];
  return mark;
}

absl::StatusOr<DataSetInfo> ReadDataSetInfo(SqlClient& client) {
  absl::StatusOr<SchemaMark> mark = ReadSchemaMark(client);
  if (!mark.ok()) return mark.status();
  return std::move(mark->data);
}

absl::StatusOr<SchemaState> InspectSchema(SqlClient& client) {
  absl::StatusOr<std::optional<Row>> tables = client.QueryRow(
      "SELECT COUNT(*), SUM(table_name = 'cabench_meta') FROM "
      "information_schema.tables WHERE table_schema = DATABASE()");
  if (!tables.ok()) return tables.status();
  if (!tables->has_value() || (*tables)->size() != 2) {
    return Unexpected("to the table count");
  }
  if ((**tables)[0].value_or("0") == "0") return SchemaState::kEmpty;
  if ((**tables)[1].value_or("0") == "0") return SchemaState::kForeign;
  absl::StatusOr<std::optional<Row>> owner =
      client.QueryRow("SELECT v FROM cabench_meta WHERE k = 'owner'");
  if (!owner.ok()) return owner.status();
  if (owner->has_value() && !(*owner)->empty() &&
      (**owner)[0] == std::optional<std::string>("cabench")) {
    return SchemaState::kCabench;
  }
  return SchemaState::kForeign;
}

absl::Status WriteMarkOwner(SqlClient& client) {
  return client
      .Execute("INSERT INTO cabench_meta (k, v) VALUES ('owner', 'cabench')")
      .status();
}

absl::Status WriteCompleteMark(SqlClient& client, const SchemaMark& mark) {
  const DataSetInfo& info = mark.data;
  std::vector<std::pair<Key, std::string>> rows = {
      {kSchemaVersion, absl::StrCat(mark.schema_version)},
      {kPreset, info.preset},
      {kSeed, absl::StrCat(info.seed)},
      {kPassengers, absl::StrCat(info.passengers)},
      {kFlights, absl::StrCat(info.flights)},
      {kBookings, absl::StrCat(info.bookings)},
      {kMaxLoadedBookingId, absl::StrCat(info.max_loaded_booking_id)},
      {kChecksum, mark.checksum},
      {kLoadedAt, mark.loaded_at},
  };
  if (mark.bookings_per_passenger.has_value()) {
    rows.emplace_back(kBookingsPerPassenger,
                      absl::StrCat(*mark.bookings_per_passenger));
  }
  std::string sql = "INSERT INTO cabench_meta (k, v) VALUES ";
  for (size_t i = 0; i < rows.size(); ++i) {
    absl::StrAppend(&sql, i > 0 ? "," : "", "('", kKeyNames[rows[i].first],
                    "',", SqlQuote(rows[i].second), ")");
  }
  return client.Execute(sql).status();
}

absl::Status DropCabenchTables(SqlClient& client) {
  // Only cabench's own tables; anything else in the schema stays.
  return client
      .Execute(
          "DROP TABLE IF EXISTS booking, flight, passenger, cabench_meta, "
          "cabench_runs")
      .status();
}

}  // namespace cabench

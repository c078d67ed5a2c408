#include "lib/workload/data_set.h"

#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace cabench {
namespace {

// The keys a complete mark must hold, in the order of the query below.
// cabench_load writes "owner" first and the rest only when a load has
// completed, so a mark without all of them is an interrupted load.
constexpr const char* kKeys[] = {"owner",
                                 "preset",
                                 "seed",
                                 "passengers",
                                 "flights",
                                 "bookings",
                                 "max_loaded_booking_id",
                                 "schema_version",
                                 "checksum",
                                 "loaded_at"};

absl::Status NotCabench(const std::string& schema, absl::string_view why) {
  return absl::FailedPreconditionError(absl::StrCat(
      "schema '", schema,
      "' is not a cabench schema: load it with cabench_load (", why, ")"));
}

}  // namespace

absl::StatusOr<DataSetInfo> ReadDataSetInfo(SqlClient& client) {
  absl::StatusOr<std::optional<std::vector<std::optional<std::string>>>> probe =
      client.QueryRow(
          "SELECT DATABASE(), (SELECT COUNT(*) FROM information_schema.tables "
          "WHERE table_schema = DATABASE() AND table_name = 'cabench_meta')");
  if (!probe.ok()) return probe.status();
  if (!probe->has_value() || (*probe)->size() != 2) {
    return absl::InternalError(
        "ReadDataSetInfo: unexpected reply to the schema probe");
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
  for (const char* key : kKeys) {
    if (sql.size() > 7) sql += ", ";
    absl::StrAppend(&sql, "MAX(CASE WHEN k = '", key, "' THEN v END)");
  }
  sql += " FROM cabench_meta";
  absl::StatusOr<std::optional<std::vector<std::optional<std::string>>>> row =
      client.QueryRow(sql);
  if (!row.ok()) return row.status();
  if (!row->has_value() || (*row)->size() != std::size(kKeys)) {
    return absl::InternalError(
        "ReadDataSetInfo: unexpected reply from cabench_meta");
  }
  const std::vector<std::optional<std::string>>& values = **row;
  for (size_t i = 0; i < values.size(); ++i) {
    if (!values[i].has_value()) {
      return NotCabench(schema,
                        absl::StrCat("cabench_meta has no '", kKeys[i], "'"));
    }
  }
  if (*values[0] != "cabench")
    return NotCabench(schema, "owner is not 'cabench'");

  DataSetInfo info;
  info.preset = *values[1];
  bool ok = absl::SimpleAtoi(*values[2], &info.seed) &&
            absl::SimpleAtoi(*values[3], &info.passengers) &&
            absl::SimpleAtoi(*values[4], &info.flights) &&
            absl::SimpleAtoi(*values[5], &info.bookings) &&
            absl::SimpleAtoi(*values[6], &info.max_loaded_booking_id);
  if (!ok || info.passengers < 0 || info.flights < 0 || info.bookings < 0 ||
      info.max_loaded_booking_id < 0) {
    return NotCabench(schema, "cabench_meta holds a malformed number");
  }
  return info;
}

}  // namespace cabench

// File: lib/dataset/schema_mark.h
//
// The schema mark: the `cabench_meta` table (k, v) that says a schema is
// cabench's and describes the data set cabench_load put into it. This file
// and run_ledger.h are the only code that reads or writes cabench's
// housekeeping tables; cabench_load (fixtures/loader.cc) and the benchmark
// call them instead of writing that SQL themselves.
//
// A load writes the mark in two steps: the row owner=cabench first, right
// after creating the tables, and every other key only after the load has
// completed (WriteCompleteMark). A mark that lacks any of the keys is
// therefore an interrupted load: cabench refuses to run on it and the next
// cabench_load replaces it.
//
// Every function takes a SqlClient connected to (USE-ing) the schema in
// question. Thread safety: the functions keep no state and are safe to call
// concurrently on distinct clients; a SqlClient itself is not thread-safe.
#ifndef CABENCH_LIB_DATASET_SCHEMA_MARK_H_
#define CABENCH_LIB_DATASET_SCHEMA_MARK_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lib/clients/sql_client.h"
#include "lib/workload/data_set.h"

namespace cabench {

// A complete mark, as WriteCompleteMark writes it and ReadSchemaMark reads it.
struct SchemaMark {
  DataSetInfo data;            // preset, seed, sizes, max_loaded_booking_id
  int64_t schema_version = 0;  // of fixtures/schema.sql
  // The generator's mean bookings per passenger. Optional: marks written
  // before it was recorded lack it (such a schema is reloaded when asked
  // for a load, and runs like any other).
  std::optional<int64_t> bookings_per_passenger;
  std::string checksum;   // "crc32sum1-<16 hex>" over the loaded tables
  std::string loaded_at;  // "YYYY-MM-DDTHH:MM:SSZ"
};

// Reads the complete mark of the schema `client` is connected to. Fails with
// FailedPrecondition when no schema is selected, or the schema has no
// cabench_meta table, or the table is not a complete cabench mark ("schema
// 'x' is not a cabench schema: load it with cabench_load (why)");
// Unavailable/Internal from the client otherwise. Writes nothing.
absl::StatusOr<SchemaMark> ReadSchemaMark(SqlClient& client);

// ReadSchemaMark(client)->data, with the same errors. This is the check
// every writer runs first: cabench never writes outside a marked schema.
absl::StatusOr<DataSetInfo> ReadDataSetInfo(SqlClient& client);

// What a schema is, before a load.
enum class SchemaState {
  kEmpty,    // no tables at all
  kForeign,  // tables, but no cabench_meta with owner=cabench
  kCabench,  // cabench's, possibly an interrupted load (see ReadSchemaMark)
};

// Classifies the schema `client` is connected to. Fails with Unavailable or
// Internal from the client. Writes nothing.
absl::StatusOr<SchemaState> InspectSchema(SqlClient& client);

// Writes the row owner=cabench into a freshly created, empty cabench_meta:
// the first step of a load. Fails with AlreadyExists when the row exists,
// Unavailable or Internal.
absl::Status WriteMarkOwner(SqlClient& client);

// Writes every key of `mark` (all but the owner) in one statement: the last
// step of a load, which makes the mark complete. Values are quoted, so any
// text is safe. Fails with AlreadyExists when a key exists, Unavailable or
// Internal.
absl::Status WriteCompleteMark(SqlClient& client, const SchemaMark& mark);

// Drops cabench's tables (booking, flight, passenger, cabench_meta,
// cabench_runs) and nothing else, before a reload. Only for a schema that
// InspectSchema() called kCabench. Fails with Unavailable or Internal.
absl::Status DropCabenchTables(SqlClient& client);

}  // namespace cabench

#endif  // CABENCH_LIB_DATASET_SCHEMA_MARK_H_

// File: lib/workload/data_set.h
//
// DataSetInfo describes the flughafendb subset that cabench_load put into a
// schema, as recorded in that schema's `cabench_meta` table (the mark that
// says the schema is cabench's). The workload draws passenger and flight ids
// from these ranges; the benchmark reports them in its JSON context.
//
// Passenger ids are 1..passengers and flight ids 1..flights, contiguous (the
// loader guarantees it). ReadDataSetInfo() in lib/dataset/schema_mark.h reads
// it from a schema. Plain value; safe to share once read.
#ifndef CABENCH_LIB_WORKLOAD_DATA_SET_H_
#define CABENCH_LIB_WORKLOAD_DATA_SET_H_

#include <cstdint>
#include <string>

namespace cabench {

struct DataSetInfo {
  std::string preset;  // "small", "default", "full" or "custom"
  uint64_t seed = 0;
  int64_t passengers = 0;  // ids 1..passengers
  int64_t flights = 0;     // ids 1..flights
  int64_t bookings = 0;    // rows loaded (not counting a run's inserts)
  // The highest booking id the loader wrote. Runs do not rely on it: each
  // removes exactly its own rows (lib/dataset/run_ledger.h).
  int64_t max_loaded_booking_id = 0;
};

}  // namespace cabench

#endif  // CABENCH_LIB_WORKLOAD_DATA_SET_H_

// File: lib/testing/test_db.h
//
// The database an integration test runs against, and the name of the schema
// it may create there: the endpoint from the environment (CABENCH_DB_URL and
// CABENCH_DB_PASSWORD[_FILE], as tools/servers prints them), and
// "cabench_it_<pid>_<test name>", unique per process and test, so that tests
// running at the same time on one server never share a schema.
//
// Header-only and free of <mysql.h>; for *_integration_test.cc files. Thread
// safety: both functions are safe to call from any thread of a test.
#ifndef CABENCH_LIB_TESTING_TEST_DB_H_
#define CABENCH_LIB_TESTING_TEST_DB_H_

#include <unistd.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "lib/config/endpoints.h"

namespace cabench {

// The endpoint from the environment. When the environment names none, the
// current test fails (never skips: a skipped integration test hides a broken
// install) with a message that says how to start the servers, and the result
// is an empty DbEndpoint (empty host).
inline DbEndpoint TestDbEndpoint() {
  absl::StatusOr<DbEndpoint> endpoint = DbEndpointFromEnv();
  EXPECT_TRUE(endpoint.ok()) << endpoint.status()
                             << "; start the test servers: eval \"$(tools/servers start)\"";
  return endpoint.ok() ? *endpoint : DbEndpoint{};
}

// "cabench_it_<pid>_<current test's name, at most 32 characters>" (schema
// names have at most 64). Call it inside a test (or its SetUp()).
inline std::string TestSchemaName() {
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string name = test != nullptr ? test->name() : "no_test";
  return absl::StrCat("cabench_it_", getpid(), "_", name.substr(0, 32));
}

}  // namespace cabench

#endif  // CABENCH_LIB_TESTING_TEST_DB_H_

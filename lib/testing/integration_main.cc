// main() of cabench_integration_tests. The integration tests need real servers;
// when their endpoints are missing this says how to start them and fails,
// rather than letting every test skip (a skipped integration test hides a
// broken install).
#include <cstdio>
#include <cstdlib>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleMock(&argc, argv);
  // Listing tests (ctest discovery) needs no servers.
  if (!::testing::GTEST_FLAG(list_tests)) {
    for (const char* var : {"CABENCH_CACHE_URL", "CABENCH_DB_URL"}) {
      const char* value = std::getenv(var);
      if (value == nullptr || *value == '\0') {
        std::fprintf(stderr,
                     "cabench_integration_tests: %s is not set; start the test servers "
                     "first: eval \"$(tools/servers start)\"\n",
                     var);
        return 2;
      }
    }
  }
  return RUN_ALL_TESTS();
}

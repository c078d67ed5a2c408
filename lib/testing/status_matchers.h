// File: lib/testing/status_matchers.h
//
// gMock matchers for absl::Status and absl::StatusOr<T>, which abseil
// 20220623 does not ship:
//
//   EXPECT_THAT(client->Ping(), IsOk());
//   EXPECT_THAT(client->Get("k", &v), IsOk());            // StatusOr too
//   EXPECT_THAT(Parse("x"), StatusIs(absl::StatusCode::kInvalidArgument,
//                                    HasSubstr("CABENCH_CACHE_URL")));
//
// Also ASSERT_OK_AND_ASSIGN(lhs, expr) for StatusOr results in tests.
// Header-only; thread-compatible like any gMock matcher.
#ifndef CABENCH_LIB_TESTING_STATUS_MATCHERS_H_
#define CABENCH_LIB_TESTING_STATUS_MATCHERS_H_

#include <ostream>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cabench {
namespace testing_internal {

inline const absl::Status& GetStatus(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

}  // namespace testing_internal

// Matches an OK absl::Status or an absl::StatusOr<T> that holds a value.
MATCHER(IsOk, "is OK") {
  const absl::Status& status = testing_internal::GetStatus(arg);
  if (!status.ok()) *result_listener << "status is " << status;
  return status.ok();
}

// Matches a Status (or StatusOr) with `code` whose message matches
// `message_matcher` (any gMock string matcher, or a plain string for equality).
MATCHER_P2(StatusIs, code, message_matcher,
           "has code " + absl::StatusCodeToString(code)) {
  const absl::Status& status = testing_internal::GetStatus(arg);
  *result_listener << "status is " << status;
  if (status.code() != code) return false;
  return ::testing::ExplainMatchResult(message_matcher, std::string(status.message()),
                                       result_listener);
}

}  // namespace cabench

#define CABENCH_CONCAT_INNER_(a, b) a##b
#define CABENCH_CONCAT_(a, b) CABENCH_CONCAT_INNER_(a, b)

// ASSERT_OK_AND_ASSIGN(auto client, NewRedisClient(endpoint));
// Fails the test (and returns) when the StatusOr holds an error.
#define ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  CABENCH_ASSERT_OK_AND_ASSIGN_IMPL_(CABENCH_CONCAT_(status_or_, __LINE__), lhs, rexpr)
#define CABENCH_ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                       \
  ASSERT_TRUE(statusor.ok()) << statusor.status();               \
  lhs = std::move(statusor).value()

#endif  // CABENCH_LIB_TESTING_STATUS_MATCHERS_H_

#include "lib/workload/data_set.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/testing/status_matchers.h"

namespace cabench {
namespace {

using ::testing::_;
using ::testing::HasSubstr;
using ::testing::Return;
using Row = std::optional<std::vector<std::optional<std::string>>>;

class MockSqlClient : public SqlClient {
 public:
  MOCK_METHOD(absl::Status, QueryBookingCount, (int64_t, BookingCount*),
              (override));
  MOCK_METHOD(absl::StatusOr<int64_t>, InsertBooking, (const NewBooking&),
              (override));
  MOCK_METHOD(absl::StatusOr<int64_t>, Execute, (std::string_view), (override));
  MOCK_METHOD(absl::StatusOr<Row>, QueryRow, (std::string_view), (override));
  MOCK_METHOD(absl::Status, Ping, (), (override));
  MOCK_METHOD(absl::Status, Reconnect, (), (override));
  MOCK_METHOD(absl::StatusOr<std::string>, ServerInfo, (), (override));
};

Row Values(std::vector<std::optional<std::string>> values) {
  return Row(std::move(values));
}

TEST(DataSetInfoTest, ReadsACompleteMark) {
  MockSqlClient client;
  EXPECT_CALL(client, QueryRow(HasSubstr("information_schema")))
      .WillOnce(Return(Values({"bench", "1"})));
  EXPECT_CALL(client, QueryRow(HasSubstr("FROM cabench_meta")))
      .WillOnce(Return(
          Values({"cabench", "small", "42", "36000", "700", "180123", "180123",
                  "1", "crc32sum1-0123456789abcdef", "2026-01-01T00:00:00Z"})));
  ASSERT_OK_AND_ASSIGN(DataSetInfo info, ReadDataSetInfo(client));
  EXPECT_EQ(info.preset, "small");
  EXPECT_EQ(info.seed, 42u);
  EXPECT_EQ(info.passengers, 36000);
  EXPECT_EQ(info.flights, 700);
  EXPECT_EQ(info.bookings, 180123);
  EXPECT_EQ(info.max_loaded_booking_id, 180123);
}

TEST(DataSetInfoTest, NoMetaTableIsFailedPrecondition) {
  MockSqlClient client;
  EXPECT_CALL(client, QueryRow(_)).WillOnce(Return(Values({"shop", "0"})));
  EXPECT_THAT(ReadDataSetInfo(client),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("schema 'shop' is not a cabench schema: load "
                                 "it with cabench_load")));
}

TEST(DataSetInfoTest, IncompleteMarkIsFailedPrecondition) {
  MockSqlClient client;
  EXPECT_CALL(client, QueryRow(HasSubstr("information_schema")))
      .WillOnce(Return(Values({"bench", "1"})));
  EXPECT_CALL(client, QueryRow(HasSubstr("FROM cabench_meta")))
      .WillOnce(Return(Values({"cabench", "small", "42", "36000", "700",
                               std::nullopt, "1", "1", "x", "y"})));
  EXPECT_THAT(
      ReadDataSetInfo(client),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("'bookings'")));
}

TEST(DataSetInfoTest, MarkWithoutChecksumIsFailedPrecondition) {
  MockSqlClient client;
  EXPECT_CALL(client, QueryRow(HasSubstr("information_schema")))
      .WillOnce(Return(Values({"bench", "1"})));
  EXPECT_CALL(client, QueryRow(HasSubstr("FROM cabench_meta")))
      .WillOnce(Return(Values({"cabench", "small", "42", "36000", "700", "5",
                               "5", "1", std::nullopt, "y"})));
  EXPECT_THAT(
      ReadDataSetInfo(client),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("'checksum'")));
}

TEST(DataSetInfoTest, ForeignOwnerIsFailedPrecondition) {
  MockSqlClient client;
  EXPECT_CALL(client, QueryRow(HasSubstr("information_schema")))
      .WillOnce(Return(Values({"bench", "1"})));
  EXPECT_CALL(client, QueryRow(HasSubstr("FROM cabench_meta")))
      .WillOnce(Return(Values({"someone", "small", "42", "36000", "700", "1",
                               "1", "1", "x", "y"})));
  EXPECT_THAT(ReadDataSetInfo(client),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("not a cabench schema")));
}

TEST(DataSetInfoTest, ClientErrorsPassThrough) {
  MockSqlClient client;
  EXPECT_CALL(client, QueryRow(_))
      .WillOnce(Return(absl::UnavailableError("mysql 2013: gone")));
  EXPECT_THAT(ReadDataSetInfo(client),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("2013")));
}

}  // namespace
}  // namespace cabench

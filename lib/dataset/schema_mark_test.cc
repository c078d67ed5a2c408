#include "lib/dataset/schema_mark.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/testing/status_matchers.h"

namespace cabench {
namespace {

using ::testing::_;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Return;
using ::testing::StartsWith;
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

using Values11 = std::vector<std::optional<std::string>>;

// A complete mark's cabench_meta values, in ReadSchemaMark's key order:
// owner, preset, seed, passengers, flights, bookings, max_loaded_booking_id,
// schema_version, checksum, loaded_at, bookings_per_passenger.
Values11 GoodMark() {
  return {"cabench",
          "small",
          "42",
          "36000",
          "700",
          "180123",
          "180123",
          "1",
          "crc32sum1-0123456789abcdef",
          "2026-01-01T00:00:00Z",
          "5"};
}

// ReadSchemaMark on schema "bench", whose cabench_meta holds `values`.
absl::StatusOr<SchemaMark> ReadMark(Values11 values) {
  MockSqlClient client;
  EXPECT_CALL(client, QueryRow(HasSubstr("information_schema")))
      .WillOnce(Return(Values({"bench", "1"})));
  EXPECT_CALL(client, QueryRow(HasSubstr("FROM cabench_meta")))
      .WillOnce(Return(Values(std::move(values))));
  return ReadSchemaMark(client);
}

TEST(SchemaMarkTest, ReadsACompleteMark) {
  ASSERT_OK_AND_ASSIGN(SchemaMark mark, ReadMark(GoodMark()));
  const DataSetInfo& info = mark.data;
  EXPECT_EQ(info.preset, "small");
  EXPECT_EQ(info.seed, 42u);
  EXPECT_EQ(info.passengers, 36000);
  EXPECT_EQ(info.flights, 700);
  EXPECT_EQ(info.bookings, 180123);
  EXPECT_EQ(info.max_loaded_booking_id, 180123);
  EXPECT_EQ(mark.schema_version, 1);
  EXPECT_EQ(mark.bookings_per_passenger, 5);
  EXPECT_EQ(mark.checksum, "crc32sum1-0123456789abcdef");
  EXPECT_EQ(mark.loaded_at, "2026-01-01T00:00:00Z");
}

TEST(SchemaMarkTest, ReadDataSetInfoIsTheMarksData) {
  MockSqlClient client;
  EXPECT_CALL(client, QueryRow(HasSubstr("information_schema")))
      .WillOnce(Return(Values({"bench", "1"})));
  EXPECT_CALL(client, QueryRow(HasSubstr("FROM cabench_meta")))
      .WillOnce(Return(Values(GoodMark())));
  ASSERT_OK_AND_ASSIGN(DataSetInfo info, ReadDataSetInfo(client));
  EXPECT_EQ(info.passengers, 36000);
  EXPECT_EQ(info.max_loaded_booking_id, 180123);
}

TEST(SchemaMarkTest, OlderMarkWithoutBookingsPerPassenger) {
  Values11 values = GoodMark();
  values[10] = std::nullopt;
  ASSERT_OK_AND_ASSIGN(SchemaMark mark, ReadMark(values));
  EXPECT_EQ(mark.bookings_per_passenger, std::nullopt);
}

TEST(SchemaMarkTest, EmptyBookingTableIsAMark) {
  Values11 values = GoodMark();
  values[5] = values[6] = "0";  // bookings, max_loaded_booking_id
  ASSERT_OK_AND_ASSIGN(SchemaMark mark, ReadMark(values));
  EXPECT_EQ(mark.data.max_loaded_booking_id, 0);
}

TEST(SchemaMarkTest, IncompleteOrForeignMarksAreFailedPrecondition) {
  struct Case {
    size_t key;
    std::optional<std::string> value;
    const char* message;
  };
  const Case cases[] = {
      {5, std::nullopt, "cabench_meta has no 'bookings'"},
      {8, std::nullopt, "cabench_meta has no 'checksum'"},
      {9, std::nullopt, "cabench_meta has no 'loaded_at'"},
      {0, "someone", "owner is not 'cabench'"},
      {3, "-3", "cabench_meta holds a malformed number"},
      {2, "x", "cabench_meta holds a malformed number"},
      {10, "many", "cabench_meta holds a malformed number"},
  };
  for (const Case& c : cases) {
    Values11 values = GoodMark();
    values[c.key] = c.value;
    EXPECT_THAT(ReadMark(values),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         HasSubstr(absl::StrCat(
                             "schema 'bench' is not a cabench schema: load it "
                             "with cabench_load (",
                             c.message))))
        << c.message;
  }
}

TEST(SchemaMarkTest, NoMetaTableIsFailedPrecondition) {
  MockSqlClient client;
  EXPECT_CALL(client, QueryRow(_)).WillOnce(Return(Values({"shop", "0"})));
  EXPECT_THAT(ReadDataSetInfo(client),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("schema 'shop' is not a cabench schema: load "
                                 "it with cabench_load (no cabench_meta")));
}

TEST(SchemaMarkTest, NoSchemaSelectedIsFailedPrecondition) {
  MockSqlClient client;
  EXPECT_CALL(client, QueryRow(_))
      .WillOnce(Return(Values({std::nullopt, "0"})));
  EXPECT_THAT(ReadDataSetInfo(client),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("no schema selected")));
}

TEST(SchemaMarkTest, ClientErrorsPassThrough) {
  MockSqlClient client;
  EXPECT_CALL(client, QueryRow(_))
      .WillOnce(Return(absl::UnavailableError("mysql 2013: gone")));
  EXPECT_THAT(ReadDataSetInfo(client),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("2013")));
}

TEST(SchemaMarkTest, WritesEveryKeyQuoted) {
  MockSqlClient client;
  std::string sql;
  EXPECT_CALL(client, Execute(_)).WillOnce([&](std::string_view s) {
    sql = std::string(s);
    return 10;
  });
  SchemaMark mark;
  mark.data.preset = "o'brien";
  mark.data.seed = 7;
  mark.data.passengers = 300;
  mark.data.flights = 6;
  mark.data.bookings = 1200;
  mark.data.max_loaded_booking_id = 1200;
  mark.schema_version = 1;
  mark.bookings_per_passenger = 4;
  mark.checksum = "crc32sum1-0123456789abcdef";
  mark.loaded_at = "2026-01-01T00:00:00Z";
  ASSERT_THAT(WriteCompleteMark(client, mark), IsOk());
  EXPECT_THAT(sql, StartsWith("INSERT INTO cabench_meta (k, v) VALUES "));
  for (const char* row :
       {"('schema_version','1')", "('preset','o''brien')", "('seed','7')",
        "('passengers','300')", "('flights','6')", "('bookings','1200')",
        "('max_loaded_booking_id','1200')",
        "('checksum','crc32sum1-0123456789abcdef')",
        "('loaded_at','2026-01-01T00:00:00Z')",
        "('bookings_per_passenger','4')"}) {
    EXPECT_THAT(sql, HasSubstr(row));
  }
  EXPECT_THAT(sql, Not(HasSubstr("owner")));
}

TEST(SchemaMarkTest, InspectsTheSchema) {
  MockSqlClient client;
  EXPECT_CALL(client, QueryRow(HasSubstr("information_schema")))
      .WillOnce(Return(Values({"0", std::nullopt})))
      .WillOnce(Return(Values({"3", "0"})))
      .WillOnce(Return(Values({"4", "1"})))
      .WillOnce(Return(Values({"4", "1"})));
  EXPECT_CALL(client, QueryRow(HasSubstr("k = 'owner'")))
      .WillOnce(Return(Values({"cabench"})))
      .WillOnce(Return(Row()));
  for (SchemaState expected :
       {SchemaState::kEmpty, SchemaState::kForeign, SchemaState::kCabench,
        // A table called cabench_meta without owner=cabench is no mark.
        SchemaState::kForeign}) {
    ASSERT_OK_AND_ASSIGN(SchemaState state, InspectSchema(client));
    EXPECT_EQ(state, expected);
  }
}

}  // namespace
}  // namespace cabench

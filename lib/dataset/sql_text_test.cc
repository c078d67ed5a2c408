#include "lib/dataset/sql_text.h"

#include <cstdint>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "fixtures/schema_sql.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cabench {
namespace {

using ::testing::AllOf;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

TEST(SqlTextTest, SlotCharsAreLowerCaseBase36) {
  std::set<char> chars;
  for (int i = 0; i < kRunSlots; ++i) {
    const char c = SlotChar(i);
    EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')) << c;
    EXPECT_EQ(SlotIndex(c), i);
    chars.insert(c);
  }
  EXPECT_EQ(chars.size(), static_cast<size_t>(kRunSlots));
  EXPECT_EQ(SlotChar(0), '0');
  EXPECT_EQ(SlotChar(35), 'z');
  EXPECT_EQ(SlotIndex('A'), -1);  // seats compare case-insensitively
  EXPECT_EQ(SlotIndex('%'), -1);
  EXPECT_EQ(SlotChar(36), '?');
}

TEST(SqlTextTest, QuotesStrings) {
  EXPECT_EQ(SqlQuote("abc"), "'abc'");
  EXPECT_EQ(SqlQuote("o'brien"), "'o''brien'");
  EXPECT_EQ(SqlQuote("a\\' OR 1=1 -- "), "'a\\\\'' OR 1=1 -- '");
  EXPECT_EQ(SqlQuote(std::string("a\0b", 3)), "'a\\0b'");
  EXPECT_EQ(SqlQuote(""), "''");
}

TEST(SqlTextTest, ShortLowerCaseSchemaNamesAreReadable) {
  EXPECT_EQ(SlotLockName("cabench", 'a'), "cabench:cabench:a");
  EXPECT_EQ(SlotLockName("bench_1", '0'), "cabench:bench_1:0");
}

TEST(SqlTextTest, LongOrMixedCaseSchemaNamesAreHashed) {
  const std::string long_name(64, 'x');  // the longest schema name
  const std::string name = SlotLockName(long_name, 'z');
  EXPECT_LE(name.size(), 64u);
  EXPECT_THAT(name, StartsWith("cabench:xxx"));
  EXPECT_THAT(name, EndsWith(":z"));
  EXPECT_THAT(name, HasSubstr("~"));
  // Differ in the last character only: still different locks.
  EXPECT_NE(SlotLockName(std::string(63, 'x') + "y", 'z'), name);
  // Lock names compare case-insensitively, schema names do not.
  EXPECT_NE(SlotLockName("Bench", '0'), SlotLockName("bench", '0'));
  EXPECT_NE(SlotLockName("Bench", '0'), SlotLockName("BENCH", '0'));
  // Stable across processes and builds (FNV-1a, not a seeded hash).
  EXPECT_EQ(SlotLockName("Bench", '0'), "cabench:bench~97a493c4fb80bc99:0");
  // A name just at the limit stays readable; one more character is hashed.
  const std::string fits(54, 'a');
  EXPECT_EQ(SlotLockName(fits, '1'), "cabench:" + fits + ":1");
  EXPECT_EQ(SlotLockName(fits, '1').size(), 64u);
  EXPECT_THAT(SlotLockName(fits + "a", '1'), HasSubstr("~"));
}

TEST(SqlTextTest, HostsAndRunIdsUseASafeCharacterSet) {
  EXPECT_EQ(SafeHostName("node-1.example.org"), "node-1.example.org");
  EXPECT_EQ(SafeHostName("a'b c;d"), "a_b_c_d");
  EXPECT_EQ(SafeHostName(""), "unknown");
  EXPECT_EQ(SafeHostName(std::string(200, 'h')).size(), 60u);
  EXPECT_EQ(MakeRunId("h'x", 42, 1700000000123, 'q'), "h_x-42-1700000000123-q");
}

TEST(SqlTextTest, RemovesARunByItsNumberAboveItsFloorInBatches) {
  EXPECT_EQ(DeleteRunBookingsSql(12, "h-7-1700-3", 178088, 10000),
            "DELETE FROM booking WHERE booking_id > 178088 AND cabench_run = "
            "12 AND EXISTS (SELECT 1 FROM cabench_runs WHERE run_no = 12 AND "
            "run_id = 'h-7-1700-3') ORDER BY booking_id LIMIT 10000");
  // The default batch, a quoted run id, and never an unbounded batch.
  EXPECT_THAT(DeleteRunBookingsSql(1, "h'x", 0),
              AllOf(HasSubstr("run_id = 'h''x'"),
                    EndsWith(absl::StrCat("LIMIT ", kDeleteBatch))));
  EXPECT_THAT(DeleteRunBookingsSql(1, "r", 0, 0), EndsWith("LIMIT 1"));
  // Ownership is the run column alone: no seat in the condition.
  EXPECT_THAT(DeleteRunBookingsSql(5, "r", 9),
              AllOf(Not(HasSubstr("seat")), Not(HasSubstr("LIKE"))));
}

TEST(SqlTextTest, AddsTheRunColumnInstantlyAsTheSchemaDeclaresIt) {
  EXPECT_EQ(AddRunColumnSql(),
            "ALTER TABLE booking ADD COLUMN cabench_run INT UNSIGNED NULL "
            "DEFAULT NULL, ALGORITHM=INSTANT");
  // fixtures/schema.sql declares the same column, in booking.
  const SchemaStatements ddl = SplitSchema(kSchemaSql);
  int declared = 0;
  for (const std::string& statement : ddl.tables) {
    if (!absl::StrContains(statement, "CREATE TABLE booking ")) continue;
    EXPECT_THAT(statement,
                HasSubstr(absl::StrCat(kRunColumn, " ", kRunColumnType, ",")));
    ++declared;
  }
  EXPECT_EQ(declared, 1);
}

TEST(SqlTextTest, QuotesIdentifiers) {
  EXPECT_EQ(SqlIdentifier("cabench"), "`cabench`");
  EXPECT_EQ(SqlIdentifier("a`b"), "`a``b`");
  EXPECT_EQ(SqlIdentifier(""), "``");
}

}  // namespace
}  // namespace cabench

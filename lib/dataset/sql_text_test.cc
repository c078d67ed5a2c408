#include "lib/dataset/sql_text.h"

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cabench {
namespace {

using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::HasSubstr;
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

TEST(SqlTextTest, TaggedRowsAreFourCharSeatsAboveTheFloor) {
  EXPECT_EQ(TaggedAboveFloor('7', 0),
            "booking_id > 0 AND CHAR_LENGTH(seat) = 4 AND seat LIKE '7%'");
  // Never a LIKE wildcard.
  EXPECT_THAT(TaggedAboveFloor('%', 5), HasSubstr("LIKE '?%'"));
  EXPECT_THAT(TaggedAboveFloor('_', 5), HasSubstr("LIKE '?%'"));
}

TEST(SqlTextTest, DeletesInBatches) {
  std::vector<int64_t> ids;
  for (int64_t id = 1; id <= 2500; ++id) ids.push_back(id);
  const std::vector<std::string> statements =
      DeleteBookingsSql(ids, 'c', 100, 1000);
  ASSERT_EQ(statements.size(), 3u);
  EXPECT_THAT(statements[0],
              StartsWith("DELETE FROM booking WHERE booking_id IN (1,2,3,"));
  EXPECT_THAT(statements[0], HasSubstr(",1000) AND booking_id > 100 AND "
                                       "CHAR_LENGTH(seat) = 4 AND seat LIKE "
                                       "'c%'"));
  EXPECT_THAT(statements[1], HasSubstr("IN (1001,"));
  EXPECT_THAT(statements[2], HasSubstr("IN (2001,"));
  EXPECT_THAT(statements[2], HasSubstr(",2500) AND"));
  EXPECT_TRUE(DeleteBookingsSql({}, 'c', 0, 1000).empty());
  EXPECT_THAT(DeleteBookingsSql({7, 9}, 'c', 0, 0),
              ElementsAre(HasSubstr("IN (7)"), HasSubstr("IN (9)")));
}

}  // namespace
}  // namespace cabench

#include "lib/workload/key_trace.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/testing/status_matchers.h"

namespace cabench {
namespace {

namespace fs = std::filesystem;

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// lib/workload/testdata, beside this file.
fs::path TestData(const std::string& name) {
  return fs::path(__FILE__).parent_path() / "testdata" / name;
}

TEST(ParseKeyTraceTest, IdsWithOptionalKinds) {
  ASSERT_OK_AND_ASSIGN(
      std::shared_ptr<const KeyTrace> trace,
      ParseKeyTrace("# comment\n42\n42 r\n7,w\n\n  9\tw \n3 , r\r\n12, w\n", "mem.trace"));
  EXPECT_EQ(trace->source, "mem.trace");
  EXPECT_THAT(trace->passenger_ids, ElementsAre(42, 42, 7, 9, 3, 12));
  EXPECT_THAT(trace->is_read, ElementsAre(true, true, false, false, true, false));
  EXPECT_EQ(trace->distinct_keys, 5);
  // Ids as large as int64 allows are kept as written (folded at run time).
  ASSERT_OK_AND_ASSIGN(trace, ParseKeyTrace("9223372036854775807", "big.trace"));
  EXPECT_THAT(trace->passenger_ids, ElementsAre(INT64_MAX));
}

TEST(ParseKeyTraceTest, TwitterCsvNumbersKeysByFirstAppearance) {
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const KeyTrace> trace,
                       ParseKeyTrace("0,k1,2,10,1,get,0\n"
                                     "0,k2,2,10,1,set,60\n"
                                     "1,k1,2,0,2,gets,0\n"
                                     "1,k3,2,0,2,delete,0\n"
                                     "2,k2,2,10,1,add,0\n"
                                     "2,k4,2,10,3,cas,0\n"
                                     "3,k1,2,10,1,replace,0\n"
                                     "3,k5,2,10,1,append,0\n"
                                     "4,k5,2,10,1,prepend,0\n"
                                     "4,k4,2,10,1,incr,0\n"
                                     "5,k3,2,10,1,decr,0\n",
                                     "twitter.csv"));
  EXPECT_THAT(trace->passenger_ids, ElementsAre(1, 2, 1, 3, 2, 4, 1, 5, 5, 4, 3));
  EXPECT_THAT(trace->is_read, ElementsAre(true, false, true, false, false, false, false, false,
                                          false, false, false));
  EXPECT_EQ(trace->distinct_keys, 5);
}

struct BadTrace {
  const char* label;
  const char* text;
  int line;
  const char* reason;
};

const BadTrace kBadTraces[] = {
    {"id_zero", "1\n0\n", 2, "passenger id"},
    {"id_negative", "-3\n", 1, "passenger id"},
    {"id_word", "1\n2\nabc\n", 3, "passenger id"},
    {"id_overflow", "99999999999999999999\n", 1, "passenger id"},
    {"id_float", "1.5\n", 1, "r or w"},
    {"kind_unknown", "10\n11 x\n", 2, "r or w"},
    {"kind_glued", "10r\n", 1, "r or w"},
    {"kind_uppercase", "10 R\n", 1, "r or w"},
    {"kind_twice", "10 r w\n", 1, "r or w"},
    {"kind_empty_after_comma", "10,\n", 1, "r or w"},
    {"csv_line_in_ids_file", "10\n1,k,2,3,4,get,0\n", 2, "r or w"},
    {"csv_too_few_fields", "0,k,2,3,4,get\n", 1, "7 comma-separated fields"},
    {"csv_too_many_fields", "0,k,2,3,4,get,0,9\n", 1, "7 comma-separated fields"},
    {"csv_header", "timestamp,key,key_size,value_size,client_id,operation,ttl\n", 1, "timestamp"},
    {"csv_bad_key_size", "0,k,2,3,4,get,0\n0,k,x,3,4,get,0\n", 2, "key_size"},
    {"csv_negative_value_size", "0,k,2,-3,4,get,0\n", 1, "value_size"},
    {"csv_bad_ttl", "0,k,2,3,4,get,\n", 1, "ttl"},
    {"csv_empty_key", "0,,2,3,4,get,0\n", 1, "key"},
    {"csv_empty_client", "0,k,2,3,,get,0\n", 1, "client_id"},
    {"csv_unknown_operation", "0,k,2,3,4,get,0\n\n0,k,2,3,4,touch,0\n", 3, "operation"},
    {"csv_uppercase_operation", "0,k,2,3,4,GET,0\n", 1, "operation"},
    {"ids_line_in_csv_file", "0,k,2,3,4,get,0\n42\n", 2, "7 comma-separated fields"},
    {"empty", "", 1, "no operations"},
    {"only_comments", "# nothing\n\n   \n", 1, "no operations"},
};

class BadTraceTest : public ::testing::TestWithParam<BadTrace> {};

TEST_P(BadTraceTest, IsOneLineNamingSourceAndLine) {
  const BadTrace& bad = GetParam();
  absl::StatusOr<std::shared_ptr<const KeyTrace>> trace = ParseKeyTrace(bad.text, "t.trace");
  ASSERT_FALSE(trace.ok()) << "accepted: " << bad.text;
  EXPECT_THAT(trace.status(), StatusIs(absl::StatusCode::kInvalidArgument,
                                       AllOf(StartsWith(absl::StrCat("t.trace:", bad.line, ": ")),
                                             HasSubstr(bad.reason), Not(HasSubstr("\n")))));
}

INSTANTIATE_TEST_SUITE_P(Table, BadTraceTest, ::testing::ValuesIn(kBadTraces),
                         [](const ::testing::TestParamInfo<BadTrace>& param_info) {
                           return std::string(param_info.param.label);
                         });

TEST(ParseKeyTraceTest, LimitsAreErrorsAtTheLineThatPassesThem) {
  KeyTraceLimits limits;
  limits.max_ops = 3;
  EXPECT_THAT(ParseKeyTrace("1\n2\n3\n# more comments are fine\n", "t", limits), IsOk());
  EXPECT_THAT(ParseKeyTrace("1\n2\n3\n\n4\n", "t", limits),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith("t:5: "), HasSubstr("more than 3 operations"))));
  limits.max_line = 8;
  EXPECT_THAT(ParseKeyTrace("1\n123456789\n", "t", limits),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith("t:2: "), HasSubstr("longer than 8"))));
}

TEST(ParseKeyTraceTest, JunkIsQuotedShortAndEscaped) {
  const std::string junk = absl::StrCat("1 \x01", std::string(500, 'z'));
  absl::StatusOr<std::shared_ptr<const KeyTrace>> trace = ParseKeyTrace(junk, "t");
  ASSERT_FALSE(trace.ok());
  EXPECT_THAT(trace.status().message(), AllOf(HasSubstr("\\x01"), HasSubstr("...")));
  EXPECT_LT(trace.status().message().size(), 250u);
}

TEST(LoadKeyTraceTest, ReadsBothFormatsFromFiles) {
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const KeyTrace> ids,
                       LoadKeyTrace(TestData("ids.trace").string()));
  EXPECT_EQ(ids->source, TestData("ids.trace").string());
  EXPECT_THAT(ids->passenger_ids, ElementsAre(42, 42, 7, 9, 3));
  EXPECT_THAT(ids->is_read, ElementsAre(true, true, false, false, true));
  EXPECT_EQ(ids->distinct_keys, 4);

  ASSERT_OK_AND_ASSIGN(std::shared_ptr<const KeyTrace> csv,
                       LoadKeyTrace(TestData("twitter.csv").string()));
  EXPECT_THAT(csv->passenger_ids, ElementsAre(1, 2, 1, 3, 2, 4, 1, 4));
  EXPECT_THAT(csv->is_read, ElementsAre(true, false, true, false, false, false, false, true));
  EXPECT_EQ(csv->distinct_keys, 4);
}

TEST(LoadKeyTraceTest, FileErrorsAreOneLineNamingThePath) {
  const std::string malformed = TestData("malformed.trace").string();
  EXPECT_THAT(LoadKeyTrace(malformed),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith(absl::StrCat(malformed, ":3: ")), HasSubstr("'x'"))));
  const std::string missing = TestData("no_such.trace").string();
  EXPECT_THAT(LoadKeyTrace(missing),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       absl::StrCat(missing, ": cannot read: no such file")));
  const std::string folder = TestData("").parent_path().string();
  EXPECT_THAT(LoadKeyTrace(folder),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       absl::StrCat(folder, ": cannot read: not a regular file")));

  const fs::path empty =
      fs::path(::testing::TempDir()) / absl::StrCat("key_trace_test_empty_", getpid(), ".trace");
  { std::ofstream out(empty); }
  EXPECT_THAT(LoadKeyTrace(empty.string()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith(absl::StrCat(empty.string(), ":1: ")),
                             HasSubstr("no operations"))));
  KeyTraceLimits small;
  small.max_bytes = 10;
  EXPECT_THAT(LoadKeyTrace(TestData("ids.trace").string(), small),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("larger than the 10 bytes")));
  std::error_code ec;
  fs::remove(empty, ec);
}

}  // namespace
}  // namespace cabench

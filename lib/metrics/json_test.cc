#include "lib/metrics/json.h"

#include "gtest/gtest.h"

namespace cabench {
namespace {

TEST(JsonTest, StringsAreEscapedAndObjectsKeepTheirOrder) {
  EXPECT_EQ(JsonQuote("a\"b\\c\n\x01 é"), "\"a\\\"b\\\\c\\u000a\\u0001 é\"");
  JsonObject o;
  o.Add("s", "x").Add("i", int64_t{-3}).Add("d", 0.1).Add("b", false).Raw("r", "[1]");
  EXPECT_EQ(o.str(), "{\"s\": \"x\", \"i\": -3, \"d\": 0.1, \"b\": false, \"r\": [1]}");
  EXPECT_EQ(JsonObject().str(), "{}");
}

}  // namespace
}  // namespace cabench

#include "lib/servers/proc_stat.h"

#include <unistd.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/servers/fake_proc.h"
#include "lib/testing/status_matchers.h"

namespace cabench {
namespace {

using ::testing::DoubleEq;
using ::testing::HasSubstr;

double Ticks() { return static_cast<double>(sysconf(_SC_CLK_TCK)); }

TEST(ParseProcStatTest, ReadsTheFieldsAfterTheName) {
  ASSERT_OK_AND_ASSIGN(
      ProcStat stat,
      ParseProcStat("9277 (redis-server) S 1 9277 9277 0 -1 4194624 374 0 0 0 250 50 0 0 20 0 5 "
                    "0 400116 62283776 1740 18446744073709551615 0 0\n"));
  EXPECT_EQ(stat.comm, "redis-server");
  EXPECT_EQ(stat.utime_ticks, 250);
  EXPECT_EQ(stat.stime_ticks, 50);
  EXPECT_EQ(stat.start_ticks, 400116);
}

TEST(ParseProcStatTest, NameEndsAtTheLastParenthesis) {
  // A command name may hold spaces and parentheses.
  ASSERT_OK_AND_ASSIGN(
      ProcStat stat, ParseProcStat("12 (a) b (c) R 1 1 1 0 -1 0 0 0 0 0 7 8 0 0 20 0 1 0 99 0 0"));
  EXPECT_EQ(stat.comm, "a) b (c");
  EXPECT_EQ(stat.utime_ticks, 7);
  EXPECT_EQ(stat.stime_ticks, 8);
  EXPECT_EQ(stat.start_ticks, 99);
}

TEST(ParseProcStatTest, RejectsWhatIsNotAStatLine) {
  EXPECT_THAT(ParseProcStat(""), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("name")));
  EXPECT_THAT(ParseProcStat("1 (x) S 1 2 3"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not numbers")));
  EXPECT_THAT(ParseProcStat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 ten 8 0 0 20 0 1 0 99"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not numbers")));
}

class ServerCpuMsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(proc_.root().empty());
    // Booted 5000 s ago; the process started 4000 s after boot: 1000 s old.
    proc_.SetBootUptime(5000);
    proc_.SetProcess(4242, "mariadbd", 250, 50, static_cast<int64_t>(4000 * Ticks()));
  }

  FakeProc proc_;
};

TEST_F(ServerCpuMsTest, UserPlusSystemTimeInMilliseconds) {
  ASSERT_OK_AND_ASSIGN(double ms, ServerCpuMs(proc_.root(), 4242, ServerKind::kDatabase, 1000));
  EXPECT_THAT(ms, DoubleEq(300 * 1000 / Ticks()));
  // Without an uptime to compare, the name alone decides.
  EXPECT_THAT(ServerCpuMs(proc_.root(), 4242, ServerKind::kDatabase, std::nullopt), IsOk());
  // Within the slack either way.
  EXPECT_THAT(ServerCpuMs(proc_.root(), 4242, ServerKind::kDatabase, 1000 + kStartSlackS - 1),
              IsOk());
  EXPECT_THAT(ServerCpuMs(proc_.root(), 4242, ServerKind::kDatabase, 1000 - kStartSlackS + 1),
              IsOk());
}

TEST_F(ServerCpuMsTest, KnowsEachKindOfServerByName) {
  const int64_t start = static_cast<int64_t>(4000 * Ticks());
  proc_.SetProcess(1, "mysqld", 0, 0, start);
  proc_.SetProcess(2, "redis-server", 0, 0, start);
  proc_.SetProcess(3, "valkey-server", 0, 0, start);
  EXPECT_THAT(ServerCpuMs(proc_.root(), 1, ServerKind::kDatabase, 1000), IsOk());
  EXPECT_THAT(ServerCpuMs(proc_.root(), 2, ServerKind::kCache, 1000), IsOk());
  EXPECT_THAT(ServerCpuMs(proc_.root(), 3, ServerKind::kCache, 1000), IsOk());
  EXPECT_THAT(ServerCpuMs(proc_.root(), 2, ServerKind::kDatabase, 1000),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not the server")));
  EXPECT_THAT(ServerCpuMs(proc_.root(), 4242, ServerKind::kCache, 1000),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("mariadbd")));
}

TEST_F(ServerCpuMsTest, RefusesAProcessOfAnotherAge) {
  // A server in a container reports its own namespace's pid; here that pid
  // is a local mariadbd that has run 1000 s, while the server says 20 s.
  EXPECT_THAT(ServerCpuMs(proc_.root(), 4242, ServerKind::kDatabase, 20),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("another process")));
}

TEST_F(ServerCpuMsTest, MissingOrBadPidsFail) {
  EXPECT_THAT(ServerCpuMs(proc_.root(), 777, ServerKind::kDatabase, 1000),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("777/stat")));
  EXPECT_THAT(ServerCpuMs(proc_.root(), 0, ServerKind::kDatabase, 1000),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("pid 0")));
  proc_.WriteFile("55/stat", "garbage");
  EXPECT_THAT(ServerCpuMs(proc_.root(), 55, ServerKind::kDatabase, 1000),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
}

TEST_F(ServerCpuMsTest, ReadsThisProcessInTheRealProc) {
  // cabench_unit_tests is neither server: the real /proc says so.
  EXPECT_THAT(ServerCpuMs("/proc", getpid(), ServerKind::kCache, std::nullopt),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not the server")));
}

TEST(ReadPidFileTest, ReadsTheFirstLine) {
  FakeProc proc;
  EXPECT_EQ(ReadPidFile(proc.WriteFile("a.pid", "1234\n")).value_or(-1), 1234);
  EXPECT_EQ(ReadPidFile(proc.WriteFile("b.pid", " 99 \nextra\n")).value_or(-1), 99);
  EXPECT_THAT(ReadPidFile(proc.WriteFile("c.pid", "")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no pid")));
  EXPECT_THAT(ReadPidFile(proc.WriteFile("d.pid", "-5\n")),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  EXPECT_THAT(ReadPidFile(proc.root() + "/missing.pid"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("missing.pid")));
}

TEST(ClientCpuMsTest, GrowsWithWork) {
  ASSERT_OK_AND_ASSIGN(double start, ClientCpuMs());
  EXPECT_GE(start, 0);
  // Spin until the CPU time moves (getrusage is finer than a tick), 5 s at most.
  volatile uint64_t sink = 0;
  double end = start;
  for (int round = 0; round < 5000 && end <= start; ++round) {
    for (uint64_t i = 0; i < 1000000; ++i) sink = sink + i;
    end = ClientCpuMs().value_or(start);
  }
  EXPECT_GT(end, start);
}

}  // namespace
}  // namespace cabench

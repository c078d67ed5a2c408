#include "lib/engine/shard.h"

#include <map>
#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cabench {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

GetEnvFn Env(std::map<std::string, std::string> vars) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return [shared](const char* name) -> const char* {
    auto it = shared->find(name);
    return it == shared->end() ? nullptr : it->second.c_str();
  };
}

TEST(ResolveShardTest, NothingGivenIsUnsharded) {
  absl::StatusOr<ShardSpec> s = ResolveShard(std::nullopt, std::nullopt, Env({}));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_FALSE(s->sharded());
  EXPECT_EQ(s->count, 1);
}

TEST(ResolveShardTest, FlagsWin) {
  absl::StatusOr<ShardSpec> s =
      ResolveShard(2, 3, Env({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "5"}}));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->index, 2);
  EXPECT_EQ(s->count, 3);
  EXPECT_EQ(s->source, "flags");
}

TEST(ResolveShardTest, SlurmTasks) {
  absl::StatusOr<ShardSpec> s =
      ResolveShard(std::nullopt, std::nullopt, Env({{"SLURM_PROCID", "1"}, {"SLURM_NTASKS", "3"}}));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->index, 1);
  EXPECT_EQ(s->count, 3);
  EXPECT_EQ(s->source, "slurm");
}

TEST(ResolveShardTest, OneSlurmTaskIsNotSharded) {
  absl::StatusOr<ShardSpec> s =
      ResolveShard(std::nullopt, std::nullopt, Env({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}}));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_FALSE(s->sharded());
}

TEST(ResolveShardTest, KubernetesIndexWithCountFlag) {
  absl::StatusOr<ShardSpec> s = ResolveShard(std::nullopt, 4, Env({{"JOB_COMPLETION_INDEX", "3"}}));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->index, 3);
  EXPECT_EQ(s->count, 4);
  EXPECT_EQ(s->source, "kubernetes");
  // Without --shard_count the pod's index alone does not shard the run.
  s = ResolveShard(std::nullopt, std::nullopt, Env({{"JOB_COMPLETION_INDEX", "3"}}));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_FALSE(s->sharded());
}

TEST(ResolveShardTest, OutOfRangeIsOneLine) {
  absl::StatusOr<ShardSpec> s = ResolveShard(3, 3, Env({}));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("--shard_index: expected a shard index 0..2"));
  s = ResolveShard(-1, 3, Env({}));
  EXPECT_FALSE(s.ok());
  s = ResolveShard(0, 0, Env({}));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("--shard_count: expected a shard count 1..1024"));
  s = ResolveShard(0, kMaxShards + 1, Env({}));
  EXPECT_FALSE(s.ok());
  s = ResolveShard(std::nullopt, 4, Env({{"JOB_COMPLETION_INDEX", "4"}}));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("JOB_COMPLETION_INDEX"));
}

TEST(ResolveShardTest, IndexWithoutCountAndCountWithoutIndex) {
  absl::StatusOr<ShardSpec> s = ResolveShard(1, std::nullopt, Env({}));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("--shard_count"));
  s = ResolveShard(std::nullopt, 3, Env({}));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("--shard_index"));
}

TEST(ResolveShardTest, GarbledVariable) {
  absl::StatusOr<ShardSpec> s =
      ResolveShard(std::nullopt, std::nullopt, Env({{"SLURM_NTASKS", "three"}}));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("SLURM_NTASKS='three'"));
}

TEST(ShardThreadsTest, RoundRobinCoversEveryThreadOnce) {
  for (int count = 1; count <= 5; ++count) {
    for (int threads = 1; threads <= 9; ++threads) {
      std::multiset<int> all;
      for (int index = 0; index < count; ++index) {
        ShardSpec spec{index, count, "flags"};
        for (int g : ShardThreads(spec, threads)) all.insert(g);
      }
      ASSERT_EQ(static_cast<int>(all.size()), threads) << count << " " << threads;
      int expect = 0;
      for (int g : all) EXPECT_EQ(g, expect++);
    }
  }
}

TEST(ShardThreadsTest, Examples) {
  EXPECT_THAT(ShardThreads(ShardSpec{1, 3, "flags"}, 8), ElementsAre(1, 4, 7));
  EXPECT_THAT(ShardThreads(ShardSpec{2, 3, "flags"}, 2), IsEmpty());
  EXPECT_THAT(ShardThreads(ShardSpec(), 3), ElementsAre(0, 1, 2));
}

TEST(CheckStartAtTest, PastAndFarFuture) {
  EXPECT_TRUE(CheckStartAt(2'000, 1'000).ok());
  absl::Status s = CheckStartAt(1'000, 1'500);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("500 ms in the past"));
  EXPECT_FALSE(CheckStartAt(1'000, 1'000).ok());
  s = CheckStartAt(kMaxStartAheadMs + 2'000, 1'000);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("MILLIseconds"));
}

}  // namespace
}  // namespace cabench

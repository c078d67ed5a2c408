// Integration tests of the hiredis KvClient against a real server named by
// CABENCH_CACHE_URL (eval "$(tools/servers start)"). Every test writes only
// keys under its own prefix (with the pid) and deletes them at the end; keys
// are written with a long TTL so that a crashed run leaves nothing behind for
// long. Nothing here flushes a database.
#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/config/endpoints.h"
#include "lib/redis/raw_redis_testing.h"
#include "lib/redis/redis_client.h"
#include "lib/servers/server_stats.h"
#include "lib/testing/status_matchers.h"

namespace cabench {
namespace {

using ::testing::AllOf;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr int64_t kLongTtlMs = 10 * 60 * 1000;

// A TCP socket bound to 127.0.0.1 on a kernel-chosen port, closed at
// destruction.
class LoopbackSocket {
 public:
  LoopbackSocket() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return;
    }
    port_ = ntohs(addr.sin_port);
  }
  LoopbackSocket(const LoopbackSocket&) = delete;
  LoopbackSocket& operator=(const LoopbackSocket&) = delete;
  ~LoopbackSocket() { Close(); }

  int port() const { return port_; }
  bool Listen() { return listen(fd_, 4) == 0; }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

class RedisClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(endpoint_, CacheEndpointFromEnv());
    ASSERT_TRUE(IsLoopbackHost(endpoint_.host))
        << "integration tests only talk to loopback servers, not " << endpoint_.ToString();
    prefix_ = absl::StrCat("cabench_test:", getpid(), ":",
                           ::testing::UnitTest::GetInstance()->current_test_info()->name(), ":");
    ASSERT_OK_AND_ASSIGN(client_, NewRedisClient(endpoint_));
  }

  void TearDown() override {
    if (client_ == nullptr) return;  // SetUp failed before writing anything
    // A fresh client: the test's own one may have been broken on purpose.
    absl::StatusOr<std::unique_ptr<KvClient>> cleaner = NewRedisClient(endpoint_);
    ASSERT_THAT(cleaner, IsOk());
    EXPECT_THAT((*cleaner)->DeletePrefix(prefix_), IsOk());
  }

  std::string Key(absl::string_view suffix) const { return absl::StrCat(prefix_, suffix); }

  // The server's PTTL of `key` is at most 50 ms (or the key is already gone,
  // -2, on a very slow machine).
  // The server's PTTL of `key`, read on a connection of its own, in *pttl.
  void ReadPttl(const std::string& key, long long* pttl) {
    RawRedis raw(endpoint_);
    ASSERT_TRUE(raw.ok());
    ASSERT_TRUE(raw.Command({"SELECT", absl::StrCat(endpoint_.db)}).has_value());
    std::optional<RawRedis::Reply> reply = raw.Command({"PTTL", key});
    ASSERT_TRUE(reply.has_value());
    ASSERT_EQ(reply->type, REDIS_REPLY_INTEGER);
    *pttl = reply->integer;
  }

  void ExpectShortTtl(const std::string& key) {
    long long pttl = 0;
    ASSERT_NO_FATAL_FAILURE(ReadPttl(key, &pttl));
    EXPECT_TRUE(pttl == -2 || (pttl > 0 && pttl <= 50)) << "PTTL " << pttl;
  }

  // Connects a new client into *victim, has it SET Key("k") to "v", then has
  // the server close its connection (CLIENT KILL ID), so that its next call
  // finds the connection gone.
  void ConnectThenKill(std::unique_ptr<KvClient>* victim) {
    RawRedis killer(endpoint_);
    ASSERT_TRUE(killer.ok());
    std::optional<RawRedis::Reply> own_id = killer.Command({"CLIENT", "ID"});
    ASSERT_TRUE(own_id.has_value());
    ASSERT_EQ(own_id->type, REDIS_REPLY_INTEGER);
    // The victim connects after the killer, so its id is the smallest one
    // above the killer's.
    ASSERT_OK_AND_ASSIGN(*victim, NewRedisClient(endpoint_));
    ASSERT_THAT((*victim)->Set(Key("k"), "v", kLongTtlMs), IsOk());
    std::optional<RawRedis::Reply> list = killer.Command({"CLIENT", "LIST"});
    ASSERT_TRUE(list.has_value());
    ASSERT_EQ(list->type, REDIS_REPLY_STRING);
    long long victim_id = -1;
    for (absl::string_view line : absl::StrSplit(list->str, '\n')) {
      long long id = 0;
      if (!absl::StartsWith(line, "id=")) continue;
      absl::string_view id_text = line.substr(3, line.find(' ') - 3);
      if (!absl::SimpleAtoi(id_text, &id) || id <= own_id->integer) continue;
      if (victim_id < 0 || id < victim_id) victim_id = id;
    }
    ASSERT_GT(victim_id, 0) << list->str;
    std::optional<RawRedis::Reply> killed =
        killer.Command({"CLIENT", "KILL", "ID", absl::StrCat(victim_id)});
    ASSERT_TRUE(killed.has_value());
    ASSERT_EQ(killed->integer, 1) << "CLIENT KILL ID " << victim_id;
  }

  // "host:port" as the client's messages name it.
  std::string Address() const {
    return endpoint_.host.find(':') == std::string::npos
               ? absl::StrCat(endpoint_.host, ":", endpoint_.port)
               : absl::StrCat("[", endpoint_.host, "]:", endpoint_.port);
  }

  CacheEndpoint endpoint_;
  std::string prefix_;
  std::unique_ptr<KvClient> client_;
};

TEST_F(RedisClientTest, RoundTripOfEveryCall) {
  const std::string key = Key("k");
  // A value with a NUL byte and non-ASCII bytes round-trips unchanged.
  const std::string value("v\0al\xff\r\nue", 9);
  EXPECT_THAT(client_->Ping(), IsOk());
  ASSERT_THAT(client_->Set(key, value, kLongTtlMs), IsOk());

  std::string got;
  ASSERT_OK_AND_ASSIGN(bool hit, client_->Get(key, &got));
  EXPECT_TRUE(hit);
  EXPECT_EQ(got, value);

  ASSERT_THAT(client_->Del(key), IsOk());
  ASSERT_OK_AND_ASSIGN(hit, client_->Get(key, &got));
  EXPECT_FALSE(hit);
  EXPECT_THAT(client_->Del(key), IsOk()) << "DEL of a missing key is OK";

  ASSERT_THAT(client_->Set(Key("a"), "1", kLongTtlMs), IsOk());
  ASSERT_THAT(client_->Set(Key("b"), "2", kLongTtlMs), IsOk());
  ASSERT_OK_AND_ASSIGN(int64_t deleted, client_->DeletePrefix(prefix_));
  EXPECT_EQ(deleted, 2);
  ASSERT_OK_AND_ASSIGN(hit, client_->Get(Key("a"), &got));
  EXPECT_FALSE(hit);

  ASSERT_OK_AND_ASSIGN(std::string info, client_->ServerInfo());
  EXPECT_THAT(info, AnyOf(StartsWith("redis "), StartsWith("valkey ")));
  EXPECT_GT(info.size(), std::string("redis ").size());
}

TEST_F(RedisClientTest, GetMissReturnsFalseAndClearsValue) {
  std::string got = "left over from an earlier call";
  ASSERT_OK_AND_ASSIGN(bool hit, client_->Get(Key("never-set"), &got));
  EXPECT_FALSE(hit);
  EXPECT_EQ(got, "");
}

TEST_F(RedisClientTest, GetReusesCallerBuffer) {
  const std::string value(200, 'x');
  ASSERT_THAT(client_->Set(Key("k"), value, kLongTtlMs), IsOk());
  std::string got;
  got.reserve(4096);
  const char* buffer = got.data();
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(bool hit, client_->Get(Key("k"), &got));
    ASSERT_TRUE(hit);
    EXPECT_EQ(got, value);
    EXPECT_EQ(got.data(), buffer) << "Get reallocated the caller's buffer";
  }
}

TEST_F(RedisClientTest, SetWithPxMakesKeyExpire) {
  const std::string key = Key("short-lived");
  ASSERT_THAT(client_->Set(key, "v", 50), IsOk());
  ExpectShortTtl(key);

  const auto start = std::chrono::steady_clock::now();
  bool hit = true;
  std::string got;
  while (hit && SecondsSince(start) < 5.0) {
    ASSERT_OK_AND_ASSIGN(hit, client_->Get(key, &got));
    if (hit) usleep(5000);
  }
  EXPECT_FALSE(hit) << "key with a 50 ms TTL still present after 5 s";
}

// SET and SET NX alike.
TEST_F(RedisClientTest, SetRejectsNonPositiveTtl) {
  for (int64_t ttl : {int64_t{0}, int64_t{-1}, INT64_MIN}) {
    EXPECT_THAT(client_->Set(Key("k"), "v", ttl),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ttl")));
    EXPECT_THAT(client_->SetIfAbsent(Key("k"), "v", ttl),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ttl")));
  }
  std::string got;
  ASSERT_OK_AND_ASSIGN(bool hit, client_->Get(Key("k"), &got));
  EXPECT_FALSE(hit) << "a rejected SET must not write";
  EXPECT_THAT(client_->Ping(), IsOk()) << "a bad argument does not break";
}

TEST_F(RedisClientTest, SetIfAbsentSetsOnlyAMissingKey) {
  const std::string key = Key("lock");
  ASSERT_OK_AND_ASSIGN(bool set, client_->SetIfAbsent(key, "first", kLongTtlMs));
  EXPECT_TRUE(set);
  ASSERT_OK_AND_ASSIGN(set, client_->SetIfAbsent(key, "second", 50));
  EXPECT_FALSE(set) << "the key exists: the server answers nil";
  std::string got;
  ASSERT_OK_AND_ASSIGN(bool hit, client_->Get(key, &got));
  EXPECT_TRUE(hit);
  EXPECT_EQ(got, "first") << "a refused SET NX must not overwrite";

  long long pttl = 0;
  ASSERT_NO_FATAL_FAILURE(ReadPttl(key, &pttl));
  EXPECT_GT(pttl, 1000) << "a refused SET NX must not change the TTL";

  // A key written by a plain SET is just as present; after DEL it is absent.
  ASSERT_THAT(client_->Set(Key("plain"), "v", kLongTtlMs), IsOk());
  ASSERT_OK_AND_ASSIGN(set, client_->SetIfAbsent(Key("plain"), "w", kLongTtlMs));
  EXPECT_FALSE(set);
  ASSERT_THAT(client_->Del(key), IsOk());
  ASSERT_OK_AND_ASSIGN(set, client_->SetIfAbsent(key, "third", kLongTtlMs));
  EXPECT_TRUE(set);
  ASSERT_OK_AND_ASSIGN(hit, client_->Get(key, &got));
  EXPECT_EQ(got, "third");
}

TEST_F(RedisClientTest, SetIfAbsentSetsAgainOnceTheTtlHasPassed) {
  const std::string key = Key("short-lock");
  ASSERT_OK_AND_ASSIGN(bool set, client_->SetIfAbsent(key, "a", 50));
  ASSERT_TRUE(set);
  ExpectShortTtl(key);

  const auto start = std::chrono::steady_clock::now();
  set = false;
  while (!set && SecondsSince(start) < 5.0) {
    ASSERT_OK_AND_ASSIGN(set, client_->SetIfAbsent(key, "b", kLongTtlMs));
    if (!set) usleep(5000);
  }
  EXPECT_TRUE(set) << "a lock with a 50 ms TTL still held after 5 s";
  std::string got;
  ASSERT_OK_AND_ASSIGN(bool hit, client_->Get(key, &got));
  EXPECT_TRUE(hit);
  EXPECT_EQ(got, "b");
}

// Two clients race for one lock key per round: exactly one wins each.
TEST_F(RedisClientTest, SetIfAbsentHasOneWinnerAcrossConnections) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<KvClient> other, NewRedisClient(endpoint_));
  for (int i = 0; i < 20; ++i) {
    const std::string key = Key(absl::StrCat("race:", i));
    KvClient* first = i % 2 == 0 ? client_.get() : other.get();
    KvClient* second = i % 2 == 0 ? other.get() : client_.get();
    ASSERT_OK_AND_ASSIGN(bool won, first->SetIfAbsent(key, "1", kLongTtlMs));
    ASSERT_OK_AND_ASSIGN(bool lost, second->SetIfAbsent(key, "2", kLongTtlMs));
    EXPECT_TRUE(won) << i;
    EXPECT_FALSE(lost) << i;
  }
}

TEST_F(RedisClientTest, SetIfAbsentOnAClosedConnectionIsUnavailableUntilReconnect) {
  std::unique_ptr<KvClient> victim;
  ASSERT_NO_FATAL_FAILURE(ConnectThenKill(&victim));
  EXPECT_THAT(victim->SetIfAbsent(Key("lock"), "v", kLongTtlMs),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr(Address())));
  EXPECT_THAT(victim->SetIfAbsent(Key("lock"), "v", kLongTtlMs),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("Reconnect")));
  std::string got;
  ASSERT_OK_AND_ASSIGN(bool hit, client_->Get(Key("lock"), &got));
  EXPECT_FALSE(hit) << "nothing reached the server";

  ASSERT_THAT(victim->Reconnect(), IsOk());
  ASSERT_OK_AND_ASSIGN(bool set, victim->SetIfAbsent(Key("k"), "w", kLongTtlMs));
  EXPECT_FALSE(set) << "Key(\"k\") was SET before the kill";
  ASSERT_OK_AND_ASSIGN(set, victim->SetIfAbsent(Key("lock"), "v", kLongTtlMs));
  EXPECT_TRUE(set);
}

// The fill lock's release: holder A's lock expired and B took it; A's
// compare-and-delete must leave B's lock, B's deletes it.
TEST_F(RedisClientTest, DelIfEqualsDeletesOnlyTheHoldersLock) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<KvClient> b, NewRedisClient(endpoint_));
  const std::string key = Key("owned-lock");
  ASSERT_OK_AND_ASSIGN(bool set, client_->SetIfAbsent(key, "token-a", 50));
  ASSERT_TRUE(set);
  const auto start = std::chrono::steady_clock::now();
  set = false;
  while (!set && SecondsSince(start) < 5.0) {  // A's lock expires; B takes it
    ASSERT_OK_AND_ASSIGN(set, b->SetIfAbsent(key, "token-b", kLongTtlMs));
    if (!set) usleep(5000);
  }
  ASSERT_TRUE(set);
  ASSERT_OK_AND_ASSIGN(bool deleted, client_->DelIfEquals(key, "token-a"));
  EXPECT_FALSE(deleted);
  std::string got;
  ASSERT_OK_AND_ASSIGN(bool hit, client_->Get(key, &got));
  EXPECT_TRUE(hit);
  EXPECT_EQ(got, "token-b") << "A's release must not delete B's lock";
  long long pttl = 0;
  ASSERT_NO_FATAL_FAILURE(ReadPttl(key, &pttl));
  EXPECT_GT(pttl, 1000) << "nor touch its TTL";
  ASSERT_OK_AND_ASSIGN(deleted, b->DelIfEquals(key, "token-b"));
  EXPECT_TRUE(deleted);
  ASSERT_OK_AND_ASSIGN(hit, client_->Get(key, &got));
  EXPECT_FALSE(hit);
  ASSERT_OK_AND_ASSIGN(deleted, b->DelIfEquals(key, "token-b"));
  EXPECT_FALSE(deleted) << "an absent key";
  // A value that is a prefix of the stored one is another value.
  ASSERT_THAT(client_->Set(key, "token-b2", kLongTtlMs), IsOk());
  ASSERT_OK_AND_ASSIGN(deleted, b->DelIfEquals(key, "token-b"));
  EXPECT_FALSE(deleted);
  ASSERT_THAT(client_->Del(key), IsOk());
}

// The server counts a compare-and-delete's own commands (its GET, and its
// DEL when the value matched) as processed: the client counts them too, so
// that a run's commands are told exactly from other clients'.
TEST_F(RedisClientTest, ACompareAndDeleteCountsTheCommandsItsScriptRan) {
  const std::string key = Key("counted-lock");
  RawRedis raw(endpoint_);
  ASSERT_TRUE(raw.ok());
  auto processed = [&raw]() -> int64_t {
    std::optional<RawRedis::Reply> info = raw.Command({"INFO", "stats"});
    if (!info.has_value()) return -1;
    return InfoInt(info->str, "total_commands_processed").value_or(-1);
  };
  ASSERT_OK_AND_ASSIGN(KvCommands before, client_->Commands());
  const int64_t server_before = processed();
  ASSERT_THAT(client_->Set(key, "mine", kLongTtlMs), IsOk());
  ASSERT_OK_AND_ASSIGN(bool deleted, client_->DelIfEquals(key, "other"));  // GET only
  EXPECT_FALSE(deleted);
  ASSERT_OK_AND_ASSIGN(deleted, client_->DelIfEquals(key, "mine"));  // GET and DEL
  EXPECT_TRUE(deleted);
  const int64_t server_after = processed();
  ASSERT_OK_AND_ASSIGN(KvCommands after, client_->Commands());
  EXPECT_EQ(after.sent - before.sent, 3);
  EXPECT_EQ(after.scripted - before.scripted, 3);
  // The server: the client's 3 commands, their scripts' 3, and one INFO.
  EXPECT_EQ(server_after - server_before,
            (after.sent - before.sent) + (after.scripted - before.scripted) + 1);
}

TEST_F(RedisClientTest, DelIfEqualsOnAClosedConnectionIsUnavailable) {
  std::unique_ptr<KvClient> victim;
  ASSERT_NO_FATAL_FAILURE(ConnectThenKill(&victim));
  EXPECT_THAT(victim->DelIfEquals(Key("k"), "v").status(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr(Address())));
}

TEST_F(RedisClientTest, DeletePrefixDeletesExactlyThePrefixAcrossBatches) {
  // The prefix holds every glob metacharacter; unescaped, "t[1]*?\:" would
  // also match keys such as "t1zz:" below.
  const std::string target = Key("t[1]*?\\:");
  constexpr int kInside = 2500;  // more than one SCAN COUNT 1000 batch
  for (int i = 0; i < kInside; ++i) {
    ASSERT_THAT(client_->Set(absl::StrCat(target, i), "v", kLongTtlMs), IsOk());
  }
  ASSERT_THAT(client_->Set(target, "the prefix itself", kLongTtlMs), IsOk());
  const std::vector<std::string> outside = {
      Key("t"),           // a shorter prefix of the target
      Key("t[1]*?\\"),    // one character shorter
      Key("t1zz:"),       // matched by the unescaped pattern
      Key("t1:x:0"),      // matched by the unescaped pattern
      Key("t[1]x?\\:0"),  // differs in the '*'
      Key("u[1]*?\\:0"),  // differs in the first character
  };
  for (const std::string& key : outside) {
    ASSERT_THAT(client_->Set(key, "keep", kLongTtlMs), IsOk());
  }

  ASSERT_OK_AND_ASSIGN(int64_t deleted, client_->DeletePrefix(target));
  EXPECT_EQ(deleted, kInside + 1);

  std::string got;
  for (const std::string& key : outside) {
    ASSERT_OK_AND_ASSIGN(bool hit, client_->Get(key, &got));
    EXPECT_TRUE(hit) << key << " outside the prefix was deleted";
    EXPECT_EQ(got, "keep");
  }
  for (int i : {0, 999, 1000, 2499}) {
    ASSERT_OK_AND_ASSIGN(bool hit, client_->Get(absl::StrCat(target, i), &got));
    EXPECT_FALSE(hit) << i;
  }
  ASSERT_OK_AND_ASSIGN(deleted, client_->DeletePrefix(target));
  EXPECT_EQ(deleted, 0);
}

TEST_F(RedisClientTest, DeletePrefixRejectsEmptyPrefix) {
  ASSERT_THAT(client_->Set(Key("k"), "v", kLongTtlMs), IsOk());
  EXPECT_THAT(client_->DeletePrefix(""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
  std::string got;
  ASSERT_OK_AND_ASSIGN(bool hit, client_->Get(Key("k"), &got));
  EXPECT_TRUE(hit);
}

TEST_F(RedisClientTest, ServerErrorReplyIsInternalAndKeepsConnection) {
  RawRedis raw(endpoint_);
  ASSERT_TRUE(raw.ok());
  ASSERT_TRUE(raw.Command({"SELECT", absl::StrCat(endpoint_.db)}).has_value());
  const std::string list = Key("a-list");
  std::optional<RawRedis::Reply> pushed = raw.Command({"RPUSH", list, "x"});
  ASSERT_TRUE(pushed.has_value());
  ASSERT_EQ(pushed->type, REDIS_REPLY_INTEGER);

  std::string got;
  EXPECT_THAT(client_->Get(list, &got),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("WRONGTYPE")));
  EXPECT_THAT(client_->Ping(), IsOk());
}

TEST_F(RedisClientTest, InfoAndDbSizeReadStatisticsWithoutTouchingThem) {
  ASSERT_OK_AND_ASSIGN(std::string server, client_->Info("server"));
  EXPECT_THAT(server, AllOf(StartsWith("# Server\r\n"), HasSubstr("\r\nprocess_id:"),
                            Not(HasSubstr("keyspace_hits:"))));
  ASSERT_OK_AND_ASSIGN(std::string all, client_->Info(""));
  EXPECT_THAT(all, AllOf(HasSubstr("\r\nkeyspace_hits:"), HasSubstr("\r\nused_memory:"),
                         HasSubstr("\r\nuptime_in_seconds:")));
  // An unknown section is an empty answer, as the server gives it.
  ASSERT_OK_AND_ASSIGN(std::string none, client_->Info("no_such_section"));
  EXPECT_EQ(none, "");

  ASSERT_OK_AND_ASSIGN(int64_t keys_before, client_->DbSize());
  for (const char* k : {"a", "b", "c"}) {
    ASSERT_THAT(client_->Set(Key(k), "v", kLongTtlMs), IsOk());
  }
  ASSERT_OK_AND_ASSIGN(int64_t keys_after, client_->DbSize());
  EXPECT_EQ(keys_after - keys_before, 3);

  // Neither INFO nor DBSIZE counts as a keyspace hit or miss.
  auto hits_and_misses = [this]() -> std::string {
    absl::StatusOr<std::string> stats = client_->Info("stats");
    if (!stats.ok()) return std::string(stats.status().message());
    std::string out;
    for (absl::string_view line : absl::StrSplit(*stats, "\r\n")) {
      if (absl::StartsWith(line, "keyspace_")) absl::StrAppend(&out, line, ";");
    }
    return out;
  };
  const std::string first = hits_and_misses();
  ASSERT_THAT(client_->DbSize(), IsOk());
  ASSERT_THAT(client_->Info(""), IsOk());
  EXPECT_EQ(hits_and_misses(), first);
  EXPECT_THAT(first, HasSubstr("keyspace_hits:"));
}

TEST_F(RedisClientTest, CountPrefixCountsExactlyThePrefixAcrossBatches) {
  for (int i = 0; i < 2500; ++i) {
    ASSERT_THAT(client_->Set(Key(absl::StrCat("n:", i)), "v", 60000), IsOk());
  }
  ASSERT_THAT(client_->Set(absl::StrCat(prefix_, "X"), "other", 60000), IsOk());
  ASSERT_OK_AND_ASSIGN(int64_t n, client_->CountPrefix(Key("n:")));
  EXPECT_EQ(n, 2500);
  ASSERT_OK_AND_ASSIGN(int64_t all, client_->CountPrefix(prefix_));
  EXPECT_EQ(all, 2501);
  EXPECT_THAT(client_->CountPrefix(""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
}

TEST_F(RedisClientTest, ConfigGetAndSetRoundTripAndAreRestored) {
  ASSERT_OK_AND_ASSIGN(std::string policy, client_->ConfigGet("maxmemory-policy"));
  absl::Cleanup restore = [&] {
    EXPECT_THAT(client_->ConfigSet("maxmemory-policy", policy), IsOk());
  };
  ASSERT_THAT(client_->ConfigSet("maxmemory-policy", "allkeys-random"), IsOk());
  ASSERT_OK_AND_ASSIGN(std::string now, client_->ConfigGet("maxmemory-policy"));
  EXPECT_EQ(now, "allkeys-random");
  EXPECT_THAT(client_->ConfigGet("no-such-parameter"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no-such-parameter")));
  EXPECT_THAT(client_->ConfigSet("maxmemory-policy", "bogus"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("CONFIG")));
  // A refused command leaves the connection usable.
  EXPECT_THAT(client_->Ping(), IsOk());
}

TEST_F(RedisClientTest, SelectsTheEndpointDatabase) {
  CacheEndpoint other = endpoint_;
  other.db = endpoint_.db == 15 ? 14 : endpoint_.db + 1;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<KvClient> other_client, NewRedisClient(other));
  absl::Cleanup clean = [&] { EXPECT_THAT(other_client->DeletePrefix(prefix_), IsOk()); };
  ASSERT_THAT(other_client->Set(Key("k"), "other db", kLongTtlMs), IsOk());
  std::string got;
  ASSERT_OK_AND_ASSIGN(bool hit, client_->Get(Key("k"), &got));
  EXPECT_FALSE(hit) << "the key was written to db " << other.db;
  ASSERT_OK_AND_ASSIGN(hit, other_client->Get(Key("k"), &got));
  EXPECT_TRUE(hit);
}

TEST_F(RedisClientTest, DatabaseOutOfServerRangeIsInternal) {
  CacheEndpoint bad = endpoint_;
  bad.db = 100000;  // beyond any default "databases" setting
  EXPECT_THAT(NewRedisClient(bad), StatusIs(absl::StatusCode::kInternal, HasSubstr("SELECT")));
}

TEST_F(RedisClientTest, BrokenAfterServerClosesConnectionUntilReconnect) {
  std::unique_ptr<KvClient> victim;
  ASSERT_NO_FATAL_FAILURE(ConnectThenKill(&victim));
  std::string got;
  EXPECT_THAT(victim->Get(Key("k"), &got),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr(Address())));
  // Broken now: every call fails at once, without touching the network.
  EXPECT_THAT(victim->Ping(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("Reconnect")));
  EXPECT_THAT(victim->Set(Key("k"), "v", kLongTtlMs),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("Reconnect")));
  EXPECT_THAT(victim->SetIfAbsent(Key("k2"), "v", kLongTtlMs),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("Reconnect")));
  EXPECT_THAT(victim->DeletePrefix(prefix_),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("Reconnect")));
  EXPECT_THAT(victim->ServerInfo(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("Reconnect")));

  ASSERT_THAT(victim->Reconnect(), IsOk());
  EXPECT_THAT(victim->Ping(), IsOk());
  ASSERT_OK_AND_ASSIGN(bool hit, victim->Get(Key("k"), &got));
  EXPECT_TRUE(hit) << "Reconnect() must select the same database";
  EXPECT_EQ(got, "v");
}

TEST_F(RedisClientTest, ReconnectReplacesAHealthyConnection) {
  ASSERT_THAT(client_->Set(Key("k"), "v", kLongTtlMs), IsOk());
  ASSERT_THAT(client_->Reconnect(), IsOk());
  std::string got;
  ASSERT_OK_AND_ASSIGN(bool hit, client_->Get(Key("k"), &got));
  EXPECT_TRUE(hit);
}

TEST(RedisClientConnectTest, ClosedPortIsUnavailableWithinConnectTimeout) {
  int port = 0;
  {
    LoopbackSocket socket;
    port = socket.port();
  }  // closed: nothing listens on `port` now
  ASSERT_GT(port, 0);
  CacheEndpoint endpoint;
  endpoint.host = "127.0.0.1";
  endpoint.port = port;
  endpoint.timeouts.connect_ms = 1000;
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::unique_ptr<KvClient>> client = NewRedisClient(endpoint);
  const double elapsed = SecondsSince(start);
  EXPECT_THAT(client,
              StatusIs(absl::StatusCode::kUnavailable,
                       AllOf(HasSubstr(absl::StrCat("127.0.0.1:", port)), HasSubstr("refused"))));
  EXPECT_LT(elapsed, endpoint.timeouts.connect_ms / 1000.0 + 1.0);
}

TEST(RedisClientConnectTest, SilentServerIsUnavailableAfterIoTimeout) {
  // The kernel completes the TCP handshake for a listening socket that never
  // accepts, so connect succeeds and SELECT waits for a reply.
  LoopbackSocket socket;
  ASSERT_GT(socket.port(), 0);
  ASSERT_TRUE(socket.Listen());
  CacheEndpoint endpoint;
  endpoint.host = "127.0.0.1";
  endpoint.port = socket.port();
  endpoint.timeouts.connect_ms = 1000;
  endpoint.timeouts.io_ms = 200;
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::unique_ptr<KvClient>> client = NewRedisClient(endpoint);
  const double elapsed = SecondsSince(start);
  EXPECT_THAT(client, StatusIs(absl::StatusCode::kUnavailable,
                               AllOf(HasSubstr(absl::StrCat("127.0.0.1:", socket.port())),
                                     HasSubstr("timed out after 200 ms"))));
  EXPECT_GE(elapsed, 0.15);
  EXPECT_LT(elapsed, endpoint.timeouts.io_ms / 1000.0 + 1.0);
}

TEST(RedisClientConnectTest, BadEndpointIsInvalidArgument) {
  CacheEndpoint endpoint;
  endpoint.host = "127.0.0.1";
  endpoint.port = 0;
  EXPECT_THAT(NewRedisClient(endpoint),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("port")));
  endpoint.port = 6379;
  endpoint.host = "";
  EXPECT_THAT(NewRedisClient(endpoint),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("host")));
  endpoint.host = "127.0.0.1";
  endpoint.timeouts.io_ms = 0;
  EXPECT_THAT(NewRedisClient(endpoint),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("timeout")));
}

// Pure helpers; they sit here because only this binary links lib/redis.
TEST(RedisEscapeGlobTest, EscapesEveryMetacharacter) {
  EXPECT_EQ(internal::EscapeRedisGlob("bookings:"), "bookings:");
  EXPECT_EQ(internal::EscapeRedisGlob("a*b?c[d]e\\f"), "a\\*b\\?c\\[d\\]e\\\\f");
  EXPECT_EQ(internal::EscapeRedisGlob("^-!"), "^-!");
  EXPECT_EQ(internal::EscapeRedisGlob(""), "");
}

std::string Describe(absl::string_view info) {
  absl::StatusOr<std::string> description =
      internal::DescribeServer(std::string_view(info.data(), info.size()));
  return description.ok() ? *description : description.status().ToString();
}

TEST(RedisDescribeServerTest, NamesRedisOrValkey) {
  EXPECT_EQ(Describe("# Server\r\nredis_version:7.0.15\r\nredis_mode:x\r\n"), "redis 7.0.15");
  EXPECT_EQ(Describe("# Server\r\nredis_version:7.2.4\r\n"
                     "server_name:valkey\r\nvalkey_version:8.0.1\r\n"),
            "valkey 8.0.1");
  EXPECT_EQ(Describe("redis_version:7.2.4\r\nserver_name:valkey\r\n"), "valkey 7.2.4");
  EXPECT_EQ(Describe("redis_version:6.2.6\n"), "redis 6.2.6");
  EXPECT_EQ(Describe("redis_version:6.2.6"), "redis 6.2.6");
  EXPECT_THAT(internal::DescribeServer("# Server\r\nuptime:1\r\n"),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("version")));
}

}  // namespace
}  // namespace cabench

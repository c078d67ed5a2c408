#include "lib/config/endpoints.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/testing/status_matchers.h"

namespace cabench {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// Sets (or unsets, for nullopt) one environment variable for the lifetime of
// the object and restores its previous state afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name); old != nullptr) old_ = old;
    if (value.has_value()) {
      setenv(name, value->c_str(), 1);
    } else {
      unsetenv(name);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  ~ScopedEnv() {
    if (old_.has_value()) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// A file in the test's temporary directory, removed at destruction.
class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    const char* dir = std::getenv("TEST_TMPDIR");
    path_ = absl::StrCat(dir != nullptr ? dir : "/tmp",
                         "/cabench_endpoints_test_", getpid(), "_", counter_++);
    std::ofstream out(path_, std::ios::binary);
    out << content;
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

struct CacheCase {
  const char* url;
  const char* host;
  int port;
  int db;
};

TEST(ParseCacheUrlTest, AcceptsWellFormedUrls) {
  const CacheCase cases[] = {
      {"redis://127.0.0.1:16390/0", "127.0.0.1", 16390, 0},
      {"redis://127.0.0.1:6380/15", "127.0.0.1", 6380, 15},
      {"redis://localhost", "localhost", 6379, 0},
      {"redis://localhost/", "localhost", 6379, 0},
      {"redis://localhost/3", "localhost", 6379, 3},
      {"redis://cache.example-1.internal:1/2", "cache.example-1.internal", 1,
       2},
      {"redis://host:65535", "host", 65535, 0},
      {"redis://[::1]:6390/1", "::1", 6390, 1},
      {"redis://[::1]", "::1", 6379, 0},
      {"redis://[fe80::1:2]/7", "fe80::1:2", 6379, 7},
  };
  for (const CacheCase& c : cases) {
    SCOPED_TRACE(c.url);
    ASSERT_OK_AND_ASSIGN(CacheEndpoint e, ParseCacheUrl(c.url));
    EXPECT_EQ(e.host, c.host);
    EXPECT_EQ(e.port, c.port);
    EXPECT_EQ(e.db, c.db);
    EXPECT_EQ(e.timeouts.connect_ms, Timeouts().connect_ms);
    EXPECT_EQ(e.timeouts.io_ms, Timeouts().io_ms);
  }
}

struct BadCase {
  const char* url;
  const char* message_part;  // a substring the message must contain
};

TEST(ParseCacheUrlTest, RejectsMalformedUrlsWithOneClearLine) {
  const BadCase cases[] = {
      {"", "empty URL"},
      {"127.0.0.1:6379", "expected redis://HOST:PORT/DB"},
      {"http://127.0.0.1:6379/0", "expected redis://HOST:PORT/DB"},
      {"REDIS://127.0.0.1:6379/0", "expected redis://"},
      {"rediss://127.0.0.1:6379/0", "expected redis://"},
      {"redis:/127.0.0.1:6379/0", "expected redis://"},
      {"redis://", "missing host"},
      {"redis:///0", "missing host"},
      {"redis://:6379/0", "missing host"},
      {"redis://x:/0", "missing port number in 'redis://x:/0'"},
      {"redis://x:", "missing port number"},
      {"redis://x:0/0", "port '0' is out of range 1..65535"},
      {"redis://x:65536/0", "port '65536' is out of range"},
      {"redis://x:99999999999999999999/0", "out of range"},
      {"redis://x:abc/0", "port 'abc' is not a number"},
      {"redis://x:-1/0", "is not a number"},
      {"redis://x:+1/0", "is not a number"},
      {"redis://x:63 79/0", "whitespace"},
      {"redis://x:6379x/0", "is not a number"},
      {"redis://x:6379/16", "database '16' is out of range 0..15"},
      {"redis://x:6379/-1", "database '-1' is not a number"},
      {"redis://x:6379/a", "is not a number"},
      {"redis://x:6379/0/extra", "is not a number"},
      {"redis://x:6379/0?timeout=1", "is not a number"},
      {"redis://x:6379/0#frag", "is not a number"},
      {"redis://x:6379/0 ", "whitespace"},
      {" redis://x:6379/0", "whitespace"},
      {"redis://x:6379/0\n", "whitespace"},
      {"redis://::1:6379/0", "IPv6 addresses go in brackets"},
      {"redis://[::1:6379/0", "missing ']'"},
      {"redis://[]:6379/0", "malformed bracketed IPv6"},
      {"redis://[nothex]:6379/0", "invalid IPv6 address"},
      {"redis://[::1]x:6379/0", "after IPv6 address"},
      {"redis://[::1]:/0", "missing port number"},
      {"redis://ho$t:6379/0", "invalid character '$'"},
      {"redis://ho%74:6379/0", "invalid character '%'"},
      {"redis://.host:6379/0", "invalid host name"},
      {"redis://a..b:6379/0", "invalid host name"},
      {"redis://-host:6379/0", "invalid host name"},
      {"redis://300.1.1.1:6379/0", "invalid IPv4 address"},
      {"redis://1.2.3:6379/0", "invalid IPv4 address"},
      {"redis://user@x:6379/0", "credentials"},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.url);
    absl::StatusOr<CacheEndpoint> e = ParseCacheUrl(c.url);
    EXPECT_THAT(
        e, StatusIs(absl::StatusCode::kInvalidArgument,
                    AllOf(HasSubstr(c.message_part), Not(HasSubstr("\n")))));
  }
}

TEST(ParseCacheUrlTest, ParsesClusterSeeds) {
  ASSERT_OK_AND_ASSIGN(
      CacheEndpoint e, ParseCacheUrl("redis-cluster://127.0.0.1:26401,[::1]:26402,localhost/0"));
  EXPECT_TRUE(e.cluster);
  ASSERT_EQ(e.seeds.size(), 3u);
  EXPECT_EQ(e.seeds[0].host, "127.0.0.1");
  EXPECT_EQ(e.seeds[0].port, 26401);
  EXPECT_EQ(e.seeds[1].host, "::1");
  EXPECT_EQ(e.seeds[1].port, 26402);
  EXPECT_EQ(e.seeds[2].host, "localhost");
  EXPECT_EQ(e.seeds[2].port, 6379);
  EXPECT_EQ(e.host, "127.0.0.1");  // the first seed
  EXPECT_EQ(e.port, 26401);
  EXPECT_EQ(e.db, 0);
  ASSERT_OK_AND_ASSIGN(CacheEndpoint one, ParseCacheUrl("redis-cluster://h:7000"));
  EXPECT_TRUE(one.cluster);
  EXPECT_EQ(one.seeds.size(), 1u);
  ASSERT_OK_AND_ASSIGN(CacheEndpoint single, ParseCacheUrl("redis://h:7000/3"));
  EXPECT_FALSE(single.cluster);
  EXPECT_TRUE(single.seeds.empty());
}

TEST(ParseCacheUrlTest, RejectsBadClusterUrls) {
  const BadCase cases[] = {
      {"redis-cluster://127.0.0.1:26401/1", "a cluster has only database 0"},
      {"redis-cluster://127.0.0.1:26401,,127.0.0.1:26402/0", "empty node"},
      {"redis-cluster://127.0.0.1:26401,/0", "empty node"},
      {"redis-cluster:///0", "missing host"},
      {"redis-cluster://h:x/0", "port 'x' is not a number"},
      {"redis-cluster://h:1,h:99999/0", "out of range"},
      {"redis-cluster://h;x:1/0", "invalid character ';'"},
      {"rediscluster://h:1/0", "expected"},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.url);
    EXPECT_THAT(ParseCacheUrl(c.url),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr(c.message_part), Not(HasSubstr("\n")))));
  }
  std::string many = "redis-cluster://h:1";
  for (int i = 2; i <= 65; ++i) absl::StrAppend(&many, ",h:", i);
  EXPECT_THAT(ParseCacheUrl(many),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("more than 64 nodes")));
}

TEST(ParseCacheUrlTest, PasswordInCacheUrlIsNotEchoed) {
  for (const char* url : {"redis://:hunter2secret@127.0.0.1:6379/0",
                          "redis://default:hunter2secret@127.0.0.1:6379/0",
                          "redis://default:hunter2secret@"}) {
    SCOPED_TRACE(url);
    EXPECT_THAT(ParseCacheUrl(url),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr("credentials"),
                               Not(HasSubstr("hunter2secret")))));
  }
}

struct DbCase {
  const char* url;
  const char* user;
  const char* host;
  int port;
  const char* schema;
};

TEST(ParseDbUrlTest, AcceptsWellFormedUrls) {
  const DbCase cases[] = {
      {"mysql://cabench@127.0.0.1:13306/flughafendb", "cabench", "127.0.0.1",
       13306, "flughafendb"},
      {"mysql://root@localhost/db_1", "root", "localhost", 3306, "db_1"},
      {"mysql://u.ser-1@[::1]:3307/X", "u.ser-1", "::1", 3307, "X"},
      {"mysql://u@h:65535/s", "u", "h", 65535, "s"},
  };
  for (const DbCase& c : cases) {
    SCOPED_TRACE(c.url);
    ASSERT_OK_AND_ASSIGN(DbEndpoint e, ParseDbUrl(c.url));
    EXPECT_EQ(e.user, c.user);
    EXPECT_EQ(e.host, c.host);
    EXPECT_EQ(e.port, c.port);
    EXPECT_EQ(e.schema, c.schema);
    EXPECT_EQ(e.password, "");
  }
}

TEST(ParseDbUrlTest, RejectsMalformedUrls) {
  const BadCase cases[] = {
      {"", "empty URL"},
      {"redis://u@h:1/s", "must start with mysql://"},
      {"mariadb://u@h:1/s", "must start with mysql://"},
      {"mysql://h:3306/s", "missing USER@"},
      {"mysql://@h:3306/s", "missing user"},
      {"mysql://u@:3306/s", "missing host"},
      {"mysql://u@/s", "missing host"},
      {"mysql://u@h:0/s", "port '0' is out of range"},
      {"mysql://u@h:65536/s", "port '65536' is out of range"},
      {"mysql://u@h:abc/s", "port 'abc' is not a number"},
      {"mysql://u@h:/s", "missing port number"},
      {"mysql://u@h:3306", "missing schema"},
      {"mysql://u@h:3306/", "missing schema"},
      {"mysql://u@h:3306/a-b", "must be [A-Za-z0-9_]+"},
      {"mysql://u@h:3306/s/t", "must be [A-Za-z0-9_]+"},
      {"mysql://u@h:3306/s?ssl=1", "must be [A-Za-z0-9_]+"},
      {"mysql://u@h:3306/s ", "whitespace"},
      {"mysql://u@h@i:3306/s", "more than one '@'"},
      {"mysql://u/x@h:3306/s", "invalid character '/'"},
      {"mysql://u@::1:3306/s", "IPv6 addresses go in brackets"},
      {"mysql://u@[::1:3306/s", "missing ']'"},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.url);
    EXPECT_THAT(ParseDbUrl(c.url), StatusIs(absl::StatusCode::kInvalidArgument,
                                            AllOf(HasSubstr(c.message_part),
                                                  Not(HasSubstr("\n")))));
  }
}

TEST(ParseDbUrlTest, PasswordInUrlIsRefusedWithoutEchoingIt) {
  for (const char* url :
       {"mysql://cabench:s3cr3tPW@127.0.0.1:3306/db",
        "mysql://cabench:s3cr3tPW@127.0.0.1:3306/bad-schema",
        "mysql://cabench:s3cr3tPW@",
        "mysql://cabench:s3cr3tPW@x@127.0.0.1:3306/db",
        "mysql://cabench:@127.0.0.1:3306/db", "mysql://:s3cr3tPW@h/db",
        "mysql://cabench:s3cr3tPW/x@h:3306/db"}) {
    SCOPED_TRACE(url);
    EXPECT_THAT(ParseDbUrl(url),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(HasSubstr("password in the URL"),
                               HasSubstr("CABENCH_DB_PASSWORD"),
                               Not(HasSubstr("s3cr3tPW")))));
  }
}

TEST(ParseDbUrlTest, UrlWithoutAtSignIsNotEchoed) {
  // Without '@' a "user:secret" could be mistaken for host:port; the message
  // must not quote it.
  EXPECT_THAT(
      ParseDbUrl("mysql://cabench:s3cr3tPW/db"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("missing USER@"), Not(HasSubstr("s3cr3tPW")))));
  EXPECT_THAT(
      ParseDbUrl("mysq://cabench:s3cr3tPW@h/db"),
      StatusIs(absl::StatusCode::kInvalidArgument, Not(HasSubstr("s3cr3tPW"))));
}

TEST(EndpointToStringTest, FormatsUrlsWithoutPassword) {
  ASSERT_OK_AND_ASSIGN(CacheEndpoint cache, ParseCacheUrl("redis://127.0.0.1"));
  EXPECT_EQ(cache.ToString(), "redis://127.0.0.1:6379/0");
  ASSERT_OK_AND_ASSIGN(CacheEndpoint cache6,
                       ParseCacheUrl("redis://[::1]:7/3"));
  EXPECT_EQ(cache6.ToString(), "redis://[::1]:7/3");

  ASSERT_OK_AND_ASSIGN(DbEndpoint db,
                       ParseDbUrl("mysql://cabench@localhost/fl"));
  db.password = "pa55word";
  EXPECT_EQ(db.ToString(), "mysql://cabench@localhost:3306/fl");
  EXPECT_THAT(db.ToString(), Not(HasSubstr("pa55word")));
  ASSERT_OK_AND_ASSIGN(DbEndpoint db6, ParseDbUrl("mysql://u@[::1]:13306/s"));
  EXPECT_EQ(db6.ToString(), "mysql://u@[::1]:13306/s");
}

TEST(EndpointToStringTest, RoundTripsThroughParse) {
  for (const char* url : {"redis://127.0.0.1:16390/0", "redis://[::1]:6379/15", "redis://h:1/2",
                          "redis-cluster://127.0.0.1:26401,[::1]:26402/0"}) {
    ASSERT_OK_AND_ASSIGN(CacheEndpoint e, ParseCacheUrl(url));
    EXPECT_EQ(e.ToString(), url);
  }
  for (const char* url :
       {"mysql://cabench@127.0.0.1:13306/flughafendb", "mysql://u@[::1]:1/s"}) {
    ASSERT_OK_AND_ASSIGN(DbEndpoint e, ParseDbUrl(url));
    EXPECT_EQ(e.ToString(), url);
  }
}

TEST(IsLoopbackHostTest, RecognizesLoopbackAddressesOnly) {
  struct Case {
    const char* host;
    bool loopback;
  };
  const Case cases[] = {
      {"127.0.0.1", true},
      {"127.255.1.2", true},
      {"127.0.0.0", true},
      {"localhost", true},
      {"LocalHost", true},
      {"::1", true},
      {"[::1]", true},
      {"0:0:0:0:0:0:0:1", true},
      {"::ffff:127.0.0.1", true},
      {"128.0.0.1", false},
      {"10.0.0.1", false},
      {"0.0.0.0", false},
      {"::", false},
      {"::2", false},
      {"::ffff:10.0.0.1", false},
      {"localhost.example", false},
      {"mylocalhost", false},
      {"127.0.0.1.nip.io", false},
      {"", false},
      {"127.1", false},
      {"1270.0.0.1", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(IsLoopbackHost(c.host), c.loopback) << c.host;
  }
}

TEST(CacheEndpointFromEnvTest, UnsetOrEmptySaysHowToStartServers) {
  for (std::optional<std::string> value :
       {std::optional<std::string>(), std::optional<std::string>("")}) {
    ScopedEnv env("CABENCH_CACHE_URL", value);
    EXPECT_THAT(CacheEndpointFromEnv(),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(StartsWith("CABENCH_CACHE_URL"),
                               HasSubstr("tools/servers start"))));
  }
}

TEST(CacheEndpointFromEnvTest, ParsesOrNamesTheVariable) {
  {
    ScopedEnv env("CABENCH_CACHE_URL", "redis://127.0.0.1:16390/2");
    ASSERT_OK_AND_ASSIGN(CacheEndpoint e, CacheEndpointFromEnv());
    EXPECT_EQ(e.host, "127.0.0.1");
    EXPECT_EQ(e.port, 16390);
    EXPECT_EQ(e.db, 2);
  }
  {
    ScopedEnv env("CABENCH_CACHE_URL", "redis://x:/0");
    EXPECT_THAT(
        CacheEndpointFromEnv(),
        StatusIs(absl::StatusCode::kInvalidArgument,
                 "CABENCH_CACHE_URL: missing port number in 'redis://x:/0'"));
  }
}

TEST(CacheEndpointFromEnvTest, RestoresEnvironment) {
  // Guards the helper the other tests rely on.
  setenv("CABENCH_TEST_SCOPED_ENV", "before", 1);
  {
    ScopedEnv env("CABENCH_TEST_SCOPED_ENV", std::nullopt);
    EXPECT_EQ(std::getenv("CABENCH_TEST_SCOPED_ENV"), nullptr);
  }
  ASSERT_NE(std::getenv("CABENCH_TEST_SCOPED_ENV"), nullptr);
  EXPECT_STREQ(std::getenv("CABENCH_TEST_SCOPED_ENV"), "before");
  unsetenv("CABENCH_TEST_SCOPED_ENV");
}

// Every DbEndpointFromEnv test pins all three variables.
class DbEndpointFromEnvTest : public ::testing::Test {
 protected:
  ScopedEnv url_{"CABENCH_DB_URL",
                 "mysql://cabench@127.0.0.1:13306/flughafendb"};
  ScopedEnv password_{"CABENCH_DB_PASSWORD", std::nullopt};
  ScopedEnv password_file_{"CABENCH_DB_PASSWORD_FILE", std::nullopt};
};

TEST_F(DbEndpointFromEnvTest, UnsetSaysHowToStartServers) {
  ScopedEnv env("CABENCH_DB_URL", std::nullopt);
  EXPECT_THAT(DbEndpointFromEnv(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith("CABENCH_DB_URL"),
                             HasSubstr("tools/servers start"))));
}

TEST_F(DbEndpointFromEnvTest, NoPasswordGivesEmptyPassword) {
  ASSERT_OK_AND_ASSIGN(DbEndpoint e, DbEndpointFromEnv());
  EXPECT_EQ(e.user, "cabench");
  EXPECT_EQ(e.port, 13306);
  EXPECT_EQ(e.schema, "flughafendb");
  EXPECT_EQ(e.password, "");
}

TEST_F(DbEndpointFromEnvTest, MalformedUrlNamesVariableNotPassword) {
  ScopedEnv url("CABENCH_DB_URL",
                "mysql://cabench:topsecret99@127.0.0.1:13306/flughafendb");
  EXPECT_THAT(DbEndpointFromEnv(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith("CABENCH_DB_URL: "),
                             Not(HasSubstr("topsecret99")))));
}

TEST_F(DbEndpointFromEnvTest, PasswordFromVariableVerbatim) {
  ScopedEnv password("CABENCH_DB_PASSWORD", " pw with spaces ");
  ASSERT_OK_AND_ASSIGN(DbEndpoint e, DbEndpointFromEnv());
  EXPECT_EQ(e.password, " pw with spaces ");
  EXPECT_THAT(e.ToString(), Not(HasSubstr("pw with spaces")));
}

TEST_F(DbEndpointFromEnvTest, PasswordVariableWinsOverFile) {
  TempFile file("from-file\n");
  ScopedEnv password("CABENCH_DB_PASSWORD", "from-var");
  ScopedEnv password_file("CABENCH_DB_PASSWORD_FILE", file.path());
  ASSERT_OK_AND_ASSIGN(DbEndpoint e, DbEndpointFromEnv());
  EXPECT_EQ(e.password, "from-var");
}

TEST_F(DbEndpointFromEnvTest, PasswordFileFirstLineTrimmed) {
  struct Case {
    const char* content;
    const char* password;
  };
  const Case cases[] = {
      {"secret", "secret"},
      {"secret\n", "secret"},
      {"secret\r\n", "secret"},
      {"  secret \t\nsecond line\n", "secret"},
      {"pass word\n", "pass word"},
      {"\nsecond\n", ""},
      {"", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.content);
    TempFile file(c.content);
    ScopedEnv password_file("CABENCH_DB_PASSWORD_FILE", file.path());
    ASSERT_OK_AND_ASSIGN(DbEndpoint e, DbEndpointFromEnv());
    EXPECT_EQ(e.password, c.password);
  }
}

TEST_F(DbEndpointFromEnvTest, EmptyPasswordVariableFallsBackToFile) {
  TempFile file("from-file\n");
  ScopedEnv password("CABENCH_DB_PASSWORD", "");
  ScopedEnv password_file("CABENCH_DB_PASSWORD_FILE", file.path());
  ASSERT_OK_AND_ASSIGN(DbEndpoint e, DbEndpointFromEnv());
  EXPECT_EQ(e.password, "from-file");
}

TEST_F(DbEndpointFromEnvTest, MissingPasswordFileNamesVariable) {
  ScopedEnv password_file("CABENCH_DB_PASSWORD_FILE",
                          "/nonexistent/cabench/password");
  EXPECT_THAT(DbEndpointFromEnv(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith("CABENCH_DB_PASSWORD_FILE: "),
                             HasSubstr("/nonexistent/cabench/password"),
                             HasSubstr("No such file"), Not(HasSubstr("\n")))));
}

TEST_F(DbEndpointFromEnvTest, DirectoryAsPasswordFileIsRefused) {
  ScopedEnv password_file("CABENCH_DB_PASSWORD_FILE", "/");
  EXPECT_THAT(DbEndpointFromEnv(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith("CABENCH_DB_PASSWORD_FILE: "),
                             HasSubstr("not a regular file"))));
}

TEST_F(DbEndpointFromEnvTest, UnreadablePasswordFileDoesNotLeakContent) {
  // A path below a regular file cannot be opened (ENOTDIR), even by root; the
  // message names the variable and the path but no file content.
  TempFile file("leakedsecret\n");
  std::string path = file.path() + "/password";
  ScopedEnv password_file("CABENCH_DB_PASSWORD_FILE", path);
  EXPECT_THAT(DbEndpointFromEnv(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(StartsWith("CABENCH_DB_PASSWORD_FILE: "),
                             HasSubstr(path), HasSubstr("Not a directory"),
                             Not(HasSubstr("leakedsecret")))));
}

TEST(ReadEndpointFromEnvTest, UnsetIsNoReplica) {
  ScopedEnv cache("CABENCH_CACHE_READ_URL", std::nullopt);
  ScopedEnv db("CABENCH_DB_READ_URL", "");
  ASSERT_OK_AND_ASSIGN(std::optional<CacheEndpoint> c, CacheReadEndpointFromEnv());
  EXPECT_FALSE(c.has_value());
  ASSERT_OK_AND_ASSIGN(std::optional<DbEndpoint> d, DbReadEndpointFromEnv(DbEndpoint()));
  EXPECT_FALSE(d.has_value());
}

TEST(ReadEndpointFromEnvTest, ParsesOrNamesTheVariable) {
  DbEndpoint primary;
  primary.password = "secret";
  primary.timeouts.io_ms = 1234;
  {
    ScopedEnv cache("CABENCH_CACHE_READ_URL", "redis://127.0.0.1:16380/0");
    ScopedEnv db("CABENCH_DB_READ_URL", "mysql://cabench@127.0.0.1:13307/cabench");
    ASSERT_OK_AND_ASSIGN(std::optional<CacheEndpoint> c, CacheReadEndpointFromEnv());
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->port, 16380);
    ASSERT_OK_AND_ASSIGN(std::optional<DbEndpoint> d, DbReadEndpointFromEnv(primary));
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->port, 13307);
    EXPECT_EQ(d->password, "secret");  // the primary's
    EXPECT_EQ(d->timeouts.io_ms, 1234);
    EXPECT_EQ(d->ToString(), "mysql://cabench@127.0.0.1:13307/cabench");
  }
  {
    ScopedEnv cache("CABENCH_CACHE_READ_URL", "redis://x:/0");
    ScopedEnv db("CABENCH_DB_READ_URL", "mysql://u:pw@h:1/s");
    EXPECT_THAT(CacheReadEndpointFromEnv(),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         "CABENCH_CACHE_READ_URL: missing port number in 'redis://x:/0'"));
    EXPECT_THAT(DbReadEndpointFromEnv(primary),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         AllOf(StartsWith("CABENCH_DB_READ_URL: "), Not(HasSubstr("pw")))));
  }
}

}  // namespace
}  // namespace cabench

namespace cabench {
namespace {

TEST(ResolveEndpointsTest, FlagsReplaceVariablesAndNameThemselvesInErrors) {
  ScopedEnv cache("CABENCH_CACHE_URL", "redis://127.0.0.1:16379/0");
  ScopedEnv db("CABENCH_DB_URL", "mysql://cabench@127.0.0.1:13306/cabench");
  ScopedEnv password("CABENCH_DB_PASSWORD", "pw");
  ScopedEnv cache_read("CABENCH_CACHE_READ_URL", std::nullopt);
  ScopedEnv db_read("CABENCH_DB_READ_URL", "mysql://cabench@127.0.0.1:13307/cabench");
  EndpointOptions o;
  o.cache_url = "redis://127.0.0.1:7000/2";
  o.timeout_ms = 750;
  absl::StatusOr<SuiteEndpoints> e = ResolveEndpoints(o);
  ASSERT_THAT(e, IsOk());
  EXPECT_EQ(e->cache.port, 7000);
  EXPECT_EQ(e->cache.db, 2);
  EXPECT_EQ(e->db.port, 13306);
  EXPECT_EQ(e->db.password, "pw");
  EXPECT_EQ(e->cache.timeouts.io_ms, 750);
  EXPECT_EQ(e->db.timeouts.io_ms, 750);
  ASSERT_TRUE(e->db_read.has_value());
  EXPECT_EQ(e->db_read->password, "pw");
  EXPECT_EQ(e->db_read->timeouts.io_ms, 750);
  EXPECT_FALSE(e->cache_read.has_value());
  o.db_url = "mysql://u@127.0.0.1/a-b";
  EXPECT_THAT(ResolveEndpoints(o).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--db_url: schema 'a-b'")));
  o.db_url.clear();
  o.cache_url = "redis://10.0.0.1:6379/0";
  EXPECT_THAT(ResolveEndpoints(o).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("endpoint host '10.0.0.1' is not on loopback")));
  o.allow_remote = true;
  EXPECT_THAT(ResolveEndpoints(o), IsOk());
}

TEST(ResolveEndpointsTest, ACacheReadReplicaBesideAClusterIsRefused) {
  ScopedEnv cache("CABENCH_CACHE_URL", "redis-cluster://127.0.0.1:7000,127.0.0.1:7001/0");
  ScopedEnv db("CABENCH_DB_URL", "mysql://cabench@127.0.0.1:13306/cabench");
  ScopedEnv cache_read("CABENCH_CACHE_READ_URL", "redis://127.0.0.1:7010/0");
  ScopedEnv db_read("CABENCH_DB_READ_URL", std::nullopt);
  EXPECT_THAT(ResolveEndpoints(EndpointOptions()).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("read replicas are not supported with a cluster cache")));
}

}  // namespace
}  // namespace cabench

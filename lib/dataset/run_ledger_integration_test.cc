// Integration tests of RunLedger against a real server (CABENCH_DB_URL +
// CABENCH_DB_PASSWORD; see tools/servers). Each test builds its own marked
// schema, cabench_it_<pid>_<test>, from fixtures/schema.sql with three loaded
// bookings (2-3 character seats), and drops it at the end. Ledgers stand for
// cabench processes: each has its own dedicated connection (made as cabench
// makes it: without a default schema, then USE), and a ledger destroyed
// without Close() is a killed run. A run's bookings carry its run number, as
// its Workload sets it; "foreign" bookings, another application's, carry
// none.
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "fixtures/schema_sql.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lib/clients/sql_client.h"
#include "lib/config/endpoints.h"
#include "lib/dataset/run_ledger.h"
#include "lib/dataset/schema_mark.h"
#include "lib/dataset/sql_text.h"
#include "lib/mysql/mysql_client.h"
#include "lib/testing/status_matchers.h"

namespace cabench {
namespace {

using ::testing::_;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using Row = std::vector<std::optional<std::string>>;

constexpr int64_t kLoaded = 3;  // loaded bookings, ids 1..3

class RunLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<DbEndpoint> endpoint = DbEndpointFromEnv();
    ASSERT_TRUE(endpoint.ok())
        << endpoint.status()
        << "; start the test servers: eval \"$(tools/servers start)\"";
    endpoint_ = *endpoint;
    const std::string test_name =
        std::string(
            ::testing::UnitTest::GetInstance()->current_test_info()->name())
            .substr(0, 32);
    schema_ = absl::StrCat("cabench_it_", getpid(), "_", test_name);
    DbEndpoint server = endpoint_;
    server.schema.clear();
    ASSERT_OK_AND_ASSIGN(admin_, NewMysqlClient(server));
    ASSERT_NO_FATAL_FAILURE(CreateSchema(schema_, /*mark=*/true));
    ASSERT_OK_AND_ASSIGN(db_, Connect());
  }

  void TearDown() override {
    if (admin_ == nullptr) return;
    for (const std::string& schema : schemas_) {
      EXPECT_THAT(admin_->Execute(
                      absl::StrCat("DROP DATABASE IF EXISTS `", schema, "`")),
                  IsOk());
    }
  }

  // Creates `schema` with cabench's tables, kLoaded loaded bookings and,
  // when `mark`, a complete mark; dropped at the end of the test.
  void CreateSchema(const std::string& schema, bool mark) {
    schemas_.push_back(schema);
    ASSERT_THAT(
        admin_->Execute(absl::StrCat("DROP DATABASE IF EXISTS `", schema, "`")),
        IsOk());
    ASSERT_THAT(admin_->Execute(absl::StrCat("CREATE DATABASE `", schema,
                                             "` CHARACTER SET utf8mb4")),
                IsOk());
    DbEndpoint server = endpoint_;
    server.schema.clear();
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<SqlClient> c, NewMysqlClient(server));
    ASSERT_THAT(c->Execute(absl::StrCat("USE `", schema, "`")), IsOk());
    const SchemaStatements ddl = SplitSchema(kSchemaSql);
    for (const std::string& sql : ddl.tables)
      ASSERT_THAT(c->Execute(sql), IsOk());
    for (const std::string& sql : ddl.indexes)
      ASSERT_THAT(c->Execute(sql), IsOk());
    ASSERT_THAT(c->Execute("INSERT INTO booking (flight_id, seat, "
                           "passenger_id, price) VALUES "
                           "(1, '1A', 1, 10), (1, '12B', 2, 10), (2, '3C', 1, "
                           "10)"),
                IsOk());
    if (!mark) return;
    ASSERT_THAT(WriteMarkOwner(*c), IsOk());
    SchemaMark m;
    m.data.preset = "custom";
    m.data.passengers = 2;
    m.data.flights = 2;
    m.data.bookings = kLoaded;
    m.data.max_loaded_booking_id = kLoaded;
    m.schema_version = 1;
    m.checksum = "crc32sum1-test";
    m.loaded_at = "2026-01-01T00:00:00Z";
    ASSERT_THAT(WriteCompleteMark(*c, m), IsOk());
  }

  absl::StatusOr<std::unique_ptr<SqlClient>> Connect(
      const std::string& schema = "") {
    DbEndpoint endpoint = endpoint_;
    endpoint.schema = schema.empty() ? schema_ : schema;
    return NewMysqlClient(endpoint);
  }

  // A process with the given pid opening a ledger on `schema`, over a
  // connection made as cabench makes it (bench/suite_env.cc): without a
  // default schema (so without prepared statements), then USE.
  absl::StatusOr<std::unique_ptr<RunLedger>> OpenLedger(
      int64_t pid = 1000, const std::string& schema = "") {
    DbEndpoint server = endpoint_;
    server.schema.clear();
    absl::StatusOr<std::unique_ptr<SqlClient>> conn = NewMysqlClient(server);
    if (!conn.ok()) return conn.status();
    absl::StatusOr<int64_t> used = (*conn)->Execute(
        absl::StrCat("USE ", SqlIdentifier(schema.empty() ? schema_ : schema)));
    if (!used.ok()) return used.status();
    return RunLedger::Open(*std::move(conn), RunIdentity{"it-host", pid});
  }

  // Inserts a booking with `seat` (NULL when nullopt) through db_, carrying
  // run number `run_no` (0: none, a foreign row), and returns its id.
  int64_t Insert(const std::optional<std::string>& seat, int64_t flight = 1,
                 int64_t run_no = 0) {
    if (!seat.has_value()) {  // InsertBooking always binds a seat
      EXPECT_THAT(db_->Execute(absl::StrCat(
                      "INSERT INTO booking (flight_id, seat, passenger_id, "
                      "price, cabench_run) VALUES (",
                      flight, ", NULL, 1, 10, ",
                      run_no > 0 ? absl::StrCat(run_no) : "NULL", ")")),
                  IsOk());
      const Row id = Query(
          absl::StrCat("SELECT MAX(booking_id) FROM `", schema_, "`.booking"));
      int64_t n = -1;
      EXPECT_TRUE(id.size() == 1 && absl::SimpleAtoi(id[0].value_or(""), &n));
      return n;
    }
    NewBooking b;
    b.flight_id = flight;
    b.seat = *seat;
    b.passenger_id = 1;
    b.price_cents = 1000;
    b.run_no = run_no;
    absl::StatusOr<int64_t> id = db_->InsertBooking(b);
    EXPECT_THAT(id, IsOk()) << *seat;
    return id.ok() ? *id : -1;
  }

  // `n` bookings of run `ledger`, as its Workload would insert them.
  std::vector<int64_t> InsertRun(const RunLedger& ledger, int n,
                                 int64_t flight = 1) {
    std::vector<int64_t> ids;
    for (int i = 0; i < n; ++i) {
      ids.push_back(Insert(absl::StrCat(std::string(1, ledger.seat_tag()),
                                        absl::Dec(i, absl::kZeroPad3)),
                           flight, ledger.run_no()));
    }
    return ids;
  }

  // Foreign bookings of every seat shape on `flight`: a 4-character seat of
  // every slot (the given runs' own tags included), 2- and 3-character seats
  // starting with each of `tags`, a loader-like seat and a NULL seat. None
  // ends in the characters InsertRun() uses last ('0'-'9'), so none collides
  // with a run's.
  std::vector<int64_t> InsertForeign(const std::string& tags, int64_t flight) {
    std::vector<int64_t> ids;
    for (int i = 0; i < kRunSlots; ++i)
      ids.push_back(
          Insert(absl::StrCat(std::string(1, SlotChar(i)), "fqx"), flight));
    for (char tag : tags) {
      ids.push_back(Insert(absl::StrCat(std::string(1, tag), "Q"), flight));
      ids.push_back(Insert(absl::StrCat(std::string(1, tag), "QZ"), flight));
    }
    ids.push_back(Insert(std::string("59F"), flight));
    ids.push_back(Insert(std::nullopt, flight));
    return ids;
  }

  // The cabench_run column of booking `id` ("NULL" when NULL).
  std::string RunOf(int64_t id) {
    const Row row = Query(absl::StrCat("SELECT cabench_run FROM `", schema_,
                                       "`.booking WHERE booking_id = ", id));
    return row.size() == 1 ? row[0].value_or("NULL") : "missing";
  }

  Row Query(const std::string& sql) {
    absl::StatusOr<std::optional<Row>> row = admin_->QueryRow(sql);
    EXPECT_THAT(row, IsOk()) << sql;
    if (!row.ok() || !row->has_value()) return {};
    return **row;
  }

  int64_t Count(const std::string& where, const std::string& schema = "") {
    const Row row = Query(absl::StrCat("SELECT COUNT(*) FROM `",
                                       schema.empty() ? schema_ : schema,
                                       "`.booking WHERE ", where));
    int64_t n = -1;
    if (row.size() == 1) {
      EXPECT_TRUE(absl::SimpleAtoi(row[0].value_or(""), &n));
    }
    return n;
  }

  int64_t Present(const std::vector<int64_t>& ids) {
    int64_t n = 0;
    for (int64_t id : ids) n += Count(absl::StrCat("booking_id = ", id));
    return n;
  }

  // The cabench_runs columns `columns` of `run_id`.
  Row RunRecord(const std::string& run_id, const std::string& columns) {
    return Query(
        absl::StrCat("SELECT ", columns, " FROM `", schema_,
                     "`.cabench_runs WHERE run_id = ", SqlQuote(run_id)));
  }

  // Waits until no session holds `lock` (a killed session ends
  // asynchronously).
  void AwaitFree(const std::string& lock) {
    for (int i = 0; i < 500; ++i) {
      if (Query(absl::StrCat("SELECT IS_FREE_LOCK(", SqlQuote(lock), ")")) ==
          Row{"1"})
        return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "lock " << lock << " still held after 5 s";
  }

  // Kills the session holding `lock` and waits until the lock is free.
  void KillHolder(const std::string& lock) {
    const Row holder =
        Query(absl::StrCat("SELECT IS_USED_LOCK(", SqlQuote(lock), ")"));
    ASSERT_EQ(holder.size(), 1u);
    ASSERT_TRUE(holder[0].has_value()) << lock << " is not held";
    ASSERT_THAT(admin_->Execute(absl::StrCat("KILL CONNECTION ", *holder[0])),
                IsOk());
    AwaitFree(lock);
  }

  DbEndpoint endpoint_;
  std::string schema_;
  std::vector<std::string> schemas_;
  std::unique_ptr<SqlClient> admin_;
  std::unique_ptr<SqlClient> db_;  // a benchmark thread's connection
};

TEST_F(RunLedgerTest, TwoLedgersTakeDifferentSlotsAndKeepEachOthersRows) {
  ASSERT_OK_AND_ASSIGN(auto a, OpenLedger(1));
  const std::vector<int64_t> a_rows = InsertRun(*a, 4);
  EXPECT_EQ(RunOf(a_rows[0]), absl::StrCat(a->run_no()));
  // A second process opens while the first has rows: it removes nothing.
  ASSERT_OK_AND_ASSIGN(auto b, OpenLedger(2));
  EXPECT_NE(a->seat_tag(), b->seat_tag());
  EXPECT_NE(a->run_id(), b->run_id());
  EXPECT_GT(a->run_no(), 0);
  EXPECT_EQ(b->run_no(), a->run_no() + 1);
  EXPECT_THAT(b->leftovers(), IsEmpty());
  EXPECT_EQ(b->booking_floor(), a_rows.back());
  EXPECT_EQ(Present(a_rows), 4);
  const std::vector<int64_t> b_rows = InsertRun(*b, 3, /*flight=*/2);

  ASSERT_OK_AND_ASSIGN(int64_t removed, a->RemoveOwnBookings());
  EXPECT_EQ(removed, 4);
  EXPECT_EQ(Present(a_rows), 0);
  EXPECT_EQ(Present(b_rows), 3);
  ASSERT_THAT(a->Close(), IsOk());
  EXPECT_EQ(Present(b_rows), 3);
  ASSERT_THAT(b->Close(), IsOk());
  EXPECT_EQ(Present(b_rows), 0);
  EXPECT_EQ(Count("TRUE"), kLoaded);
}

TEST_F(RunLedgerTest, KilledRunIsCleanedByTheNextOpenAndOnlyThen) {
  ASSERT_OK_AND_ASSIGN(auto dead, OpenLedger(1));
  const std::string dead_id = dead->run_id();
  const int64_t dead_no = dead->run_no();
  const char dead_tag = dead->seat_tag();
  const std::vector<int64_t> dead_rows = InsertRun(*dead, 5);
  ASSERT_OK_AND_ASSIGN(auto live, OpenLedger(2));
  const std::vector<int64_t> live_rows = InsertRun(*live, 2, /*flight=*/2);
  EXPECT_THAT(live->leftovers(), IsEmpty());
  EXPECT_EQ(Present(dead_rows), 5);  // alive: untouched

  dead.reset();                      // the process dies without Close()
  EXPECT_EQ(Present(dead_rows), 5);  // nothing removes rows by itself
  EXPECT_EQ(RunRecord(dead_id, "state"), Row{"running"});

  ASSERT_OK_AND_ASSIGN(auto next, OpenLedger(3));
  ASSERT_EQ(next->leftovers().size(), 1u);
  const LeftoverReport& report = next->leftovers()[0];
  EXPECT_EQ(report.run_id, dead_id);
  EXPECT_EQ(report.run_no, dead_no);
  EXPECT_EQ(report.slot, dead_tag);
  EXPECT_EQ(report.host, "it-host");
  EXPECT_EQ(report.pid, 1);
  EXPECT_EQ(report.booking_floor, kLoaded);
  EXPECT_EQ(report.rows_removed, 5);
  EXPECT_FALSE(report.unmarked);
  EXPECT_THAT(DescribeLeftover(report),
              AllOf(HasSubstr("removed 5 booking(s)"), HasSubstr(dead_id),
                    HasSubstr("pid 1"),
                    HasSubstr(absl::StrCat("run number ", dead_no, ")"))));
  EXPECT_EQ(Present(dead_rows), 0);
  EXPECT_EQ(Present(live_rows), 2);
  EXPECT_EQ(RunRecord(dead_id, "state, rows_removed, removed_by"),
            (Row{"cleaned", "5", next->run_id()}));

  // Cleaned once: a further Open finds nothing.
  ASSERT_OK_AND_ASSIGN(auto later, OpenLedger(4));
  EXPECT_THAT(later->leftovers(), IsEmpty());
  EXPECT_THAT(live->Close(), IsOk());
  EXPECT_THAT(next->Close(), IsOk());
  EXPECT_THAT(later->Close(), IsOk());
  EXPECT_EQ(Count("TRUE"), kLoaded);
}

TEST_F(RunLedgerTest, RemovesManyRowsInBatchesAndLostRepliesToo) {
  ASSERT_OK_AND_ASSIGN(auto ledger, OpenLedger());
  ASSERT_OK_AND_ASSIGN(auto other, OpenLedger(2));
  // 25,000 rows in one statement: three DELETE batches of kDeleteBatch. To
  // the ledger they are like INSERTs whose reply was lost: it never saw an
  // id, only the run number they carry.
  std::string insert =
      "INSERT INTO booking (flight_id, seat, passenger_id, price, "
      "cabench_run) VALUES ";
  for (int i = 0; i < 25000; ++i) {
    absl::StrAppend(&insert, i > 0 ? "," : "", "(", 10 + i / 4000, ", '",
                    std::string(1, ledger->seat_tag()),
                    absl::Hex(i % 4000, absl::kZeroPad3), "', 1, 1, ",
                    ledger->run_no(), ")");
  }
  ASSERT_THAT(db_->Execute(insert), IsOk());
  const std::vector<int64_t> others = InsertRun(*other, 2, /*flight=*/2);
  const std::vector<int64_t> foreign =
      InsertForeign(std::string(1, ledger->seat_tag()), /*flight=*/9);
  ASSERT_OK_AND_ASSIGN(int64_t removed, ledger->RemoveOwnBookings());
  EXPECT_EQ(removed, 25000);
  EXPECT_EQ(ledger->rows_removed(), 25000);
  EXPECT_EQ(Count("flight_id BETWEEN 10 AND 16"), 0);
  EXPECT_EQ(Present(others), 2);
  EXPECT_EQ(Present(foreign), static_cast<int64_t>(foreign.size()));
  EXPECT_EQ(Count(absl::StrCat("booking_id <= ", kLoaded)), kLoaded);
  ASSERT_OK_AND_ASSIGN(removed, ledger->RemoveOwnBookings());
  EXPECT_EQ(removed, 0);
  const std::vector<int64_t> late = InsertRun(*ledger, 3);
  EXPECT_THAT(ledger->Close(), IsOk());
  EXPECT_EQ(Present(late), 0);
  EXPECT_EQ(RunRecord(ledger->run_id(), "state, rows_removed"),
            (Row{"done", "25003"}));
  EXPECT_THAT(other->Close(), IsOk());
  EXPECT_EQ(Present(foreign), static_cast<int64_t>(foreign.size()));
}

TEST_F(RunLedgerTest, RowsOfOthersSurviveEverything) {
  // Foreign 4-character seats of every slot, at or below any later floor.
  const std::vector<int64_t> old_rows = InsertForeign("", /*flight=*/3);
  ASSERT_OK_AND_ASSIGN(auto dead, OpenLedger(1));
  ASSERT_OK_AND_ASSIGN(auto live, OpenLedger(2));
  const std::string tags = {dead->seat_tag(), live->seat_tag()};
  // After the floor, while both runs insert: foreign rows of every shape,
  // the runs' own seat tags included.
  std::vector<int64_t> foreign = InsertForeign(tags, /*flight=*/2);
  InsertRun(*dead, 2);
  const std::vector<int64_t> live_rows = InsertRun(*live, 2, /*flight=*/4);
  dead.reset();
  // Between the runs, too.
  for (int64_t id : InsertForeign(tags, /*flight=*/5)) foreign.push_back(id);
  ASSERT_OK_AND_ASSIGN(auto next, OpenLedger(3));
  ASSERT_EQ(next->leftovers().size(), 1u);
  EXPECT_EQ(next->leftovers()[0].rows_removed, 2);
  EXPECT_EQ(Present(live_rows), 2);
  InsertRun(*next, 2);
  ASSERT_OK_AND_ASSIGN(int64_t removed, next->RemoveOwnBookings());
  EXPECT_EQ(removed, 2);
  EXPECT_THAT(next->Close(), IsOk());
  EXPECT_THAT(live->Close(), IsOk());
  EXPECT_EQ(Present(old_rows), static_cast<int64_t>(old_rows.size()));
  EXPECT_EQ(Present(foreign), static_cast<int64_t>(foreign.size()));
  EXPECT_EQ(Count("TRUE"),
            kLoaded + static_cast<int64_t>(old_rows.size() + foreign.size()));
  EXPECT_EQ(Count("cabench_run IS NOT NULL"), 0);
}

TEST_F(RunLedgerTest, EmptyBookingTableWorks) {
  ASSERT_THAT(db_->Execute("DELETE FROM booking"), IsOk());
  ASSERT_THAT(db_->Execute("ALTER TABLE booking AUTO_INCREMENT = 1"), IsOk());
  ASSERT_OK_AND_ASSIGN(auto dead, OpenLedger(1));
  EXPECT_EQ(dead->booking_floor(), 0);
  const std::vector<int64_t> rows = InsertRun(*dead, 3);
  EXPECT_EQ(rows[0], 1);
  dead.reset();
  ASSERT_OK_AND_ASSIGN(auto next, OpenLedger(2));
  ASSERT_EQ(next->leftovers().size(), 1u);
  EXPECT_EQ(next->leftovers()[0].rows_removed, 3);
  EXPECT_EQ(Count("TRUE"), 0);
  InsertRun(*next, 1);
  EXPECT_THAT(next->Close(), IsOk());
  EXPECT_EQ(Count("TRUE"), 0);
}

TEST_F(RunLedgerTest, MigratesASchemaOfAnOlderLoad) {
  // As an older cabench_load and cabench left it: booking without the run
  // column, cabench_runs without run_no, and a killed run whose rows carry
  // only its seat tag '5'.
  const std::string t = absl::StrCat("`", schema_, "`.");
  ASSERT_THAT(admin_->Execute(absl::StrCat("ALTER TABLE ", t,
                                           "booking DROP COLUMN cabench_run")),
              IsOk());
  ASSERT_THAT(
      admin_->Execute(absl::StrCat(
          "CREATE TABLE ", t,
          "cabench_runs (run_id VARCHAR(100) NOT NULL, slot CHAR(1) NOT NULL, "
          "host VARCHAR(64) NOT NULL, pid BIGINT NOT NULL, started_at "
          "DATETIME(3) NOT NULL, booking_floor BIGINT NOT NULL, state "
          "VARCHAR(16) NOT NULL, ended_at DATETIME(3) NULL, rows_removed "
          "BIGINT NOT NULL DEFAULT 0, removed_by VARCHAR(100) NULL, PRIMARY "
          "KEY (run_id), KEY state_slot (state, slot)) ENGINE=InnoDB")),
      IsOk());
  ASSERT_THAT(admin_->Execute(absl::StrCat(
                  "INSERT INTO ", t,
                  "cabench_runs (run_id, slot, host, pid, started_at, "
                  "booking_floor, state) VALUES ('old-9-1-5', '5', 'old', 9, "
                  "UTC_TIMESTAMP(3), ",
                  kLoaded, ", 'running')")),
              IsOk());
  const std::string insert = absl::StrCat(
      "INSERT INTO ", t, "booking (flight_id, seat, passenger_id, price) ");
  ASSERT_THAT(admin_->Execute(absl::StrCat(
                  insert, "VALUES (1, '5000', 1, 1), (1, '5001', 1, 1), ",
                  "(2, '5fqx', 1, 1), (2, 'Q9', 1, 1)")),
              IsOk());
  const int64_t before = Count("TRUE");
  ASSERT_EQ(before, kLoaded + 4);

  // Processes opening at once race to add the columns: all succeed.
  std::vector<absl::StatusOr<std::unique_ptr<RunLedger>>> opened(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] { opened[i] = OpenLedger(10 + i); });
  }
  for (std::thread& th : threads) th.join();
  std::vector<std::unique_ptr<RunLedger>> ledgers;
  int reported = 0;
  for (auto& ledger : opened) {
    ASSERT_THAT(ledger, IsOk());
    EXPECT_GT((*ledger)->run_no(), 1);  // the old record got 1
    for (const LeftoverReport& left : (*ledger)->leftovers()) {
      ++reported;
      EXPECT_EQ(left.run_id, "old-9-1-5");
      EXPECT_TRUE(left.unmarked);
      EXPECT_EQ(left.rows_removed, 0);
      EXPECT_THAT(DescribeLeftover(left),
                  AllOf(HasSubstr("old-9-1-5"), HasSubstr("left in place"),
                        HasSubstr("reload the schema with cabench_load")));
    }
    ledgers.push_back(*std::move(ledger));
  }
  EXPECT_EQ(reported, 1);  // one of them took the old run for dead
  EXPECT_EQ(RunRecord("old-9-1-5", "state, run_no, marks_rows"),
            (Row{"abandoned", "1", "0"}));
  // Nothing could tell the old run's rows from others': all are left.
  EXPECT_EQ(Count("TRUE"), before);
  EXPECT_EQ(Count("cabench_run IS NULL"), before);
  const Row column = Query(absl::StrCat(
      "SELECT column_type, is_nullable, column_default FROM "
      "information_schema.columns WHERE table_schema = '",
      schema_, "' AND table_name = 'booking' AND column_name = 'cabench_run'"));
  EXPECT_EQ(column, (Row{"int(10) unsigned", "YES", "NULL"}));

  // The new runs own exactly their rows.
  ASSERT_OK_AND_ASSIGN(db_, Connect());  // prepares the new INSERT
  const std::vector<int64_t> mine = InsertRun(*ledgers[0], 3, /*flight=*/3);
  const std::vector<int64_t> theirs = InsertRun(*ledgers[1], 2, /*flight=*/4);
  ledgers[0].reset();  // killed
  ASSERT_OK_AND_ASSIGN(auto next, OpenLedger(20));
  ASSERT_EQ(next->leftovers().size(), 1u);
  EXPECT_EQ(next->leftovers()[0].rows_removed, 3);
  EXPECT_EQ(Present(mine), 0);
  EXPECT_EQ(Present(theirs), 2);
  for (size_t i = 1; i < ledgers.size(); ++i)
    EXPECT_THAT(ledgers[i]->Close(), IsOk());
  EXPECT_THAT(next->Close(), IsOk());
  EXPECT_EQ(Count("TRUE"), before);
}

TEST_F(RunLedgerTest, UnmarkedSchemaIsRefusedAndUntouched) {
  const std::string bare = schema_ + "_x";
  ASSERT_NO_FATAL_FAILURE(CreateSchema(bare, /*mark=*/false));
  const std::string tables = absl::StrCat(
      "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '",
      bare, "'");
  const Row before = Query(tables);
  EXPECT_THAT(OpenLedger(1, bare),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("is not a cabench schema")));
  // An interrupted load: owner only.
  ASSERT_THAT(admin_->Execute(absl::StrCat(
                  "INSERT INTO `", bare,
                  "`.cabench_meta (k, v) VALUES ('owner', 'cabench')")),
              IsOk());
  EXPECT_THAT(OpenLedger(1, bare),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("cabench_meta has no 'preset'")));
  EXPECT_EQ(Query(tables), before);  // no cabench_runs
  EXPECT_EQ(Count("TRUE", bare), kLoaded);
  EXPECT_EQ(Query(absl::StrCat("SELECT IS_FREE_LOCK(",
                               SqlQuote(SlotLockName(bare, '0')), ")")),
            Row{"1"});
  EXPECT_THAT(RunLedger::Open(nullptr, RunIdentity{"h", 1}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no")));
}

TEST_F(RunLedgerTest, ThirtySeventhProcessIsRefusedNamingAHolder) {
  std::vector<std::unique_ptr<RunLedger>> ledgers;
  std::string tags;
  for (int i = 0; i < kRunSlots; ++i) {
    ASSERT_OK_AND_ASSIGN(auto ledger, OpenLedger(100 + i));
    tags += ledger->seat_tag();
    ledgers.push_back(std::move(ledger));
  }
  EXPECT_EQ(tags, "0123456789abcdefghijklmnopqrstuvwxyz");
  absl::StatusOr<std::unique_ptr<RunLedger>> refused = OpenLedger(999);
  EXPECT_THAT(refused,
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr("no free run slot"),
                             HasSubstr("all 36 are held"), HasSubstr("run "),
                             HasSubstr("host it-host"), HasSubstr("started"))));
  EXPECT_THAT(refused.status().message(), Not(HasSubstr("\n")));
  // Whichever holder it names is one of the 36.
  bool named = false;
  for (const auto& ledger : ledgers)
    named |= absl::StrContains(refused.status().message(), ledger->run_id());
  EXPECT_TRUE(named) << refused.status();

  ASSERT_THAT(ledgers[17]->Close(), IsOk());
  ASSERT_OK_AND_ASSIGN(auto late, OpenLedger(999));
  EXPECT_EQ(late->seat_tag(), SlotChar(17));
  EXPECT_THAT(late->leftovers(), IsEmpty());  // 'done', not dead
  for (auto& ledger : ledgers) EXPECT_THAT(ledger->Close(), IsOk());
  EXPECT_THAT(late->Close(), IsOk());
}

TEST_F(RunLedgerTest, CheckOwnershipTakesTheLockBackAfterAKill) {
  ASSERT_OK_AND_ASSIGN(auto ledger, OpenLedger());
  const std::string lock = SlotLockName(schema_, ledger->seat_tag());
  const std::vector<int64_t> rows = InsertRun(*ledger, 2);
  EXPECT_THAT(ledger->CheckOwnership(), IsOk());
  const Row before =
      Query(absl::StrCat("SELECT IS_USED_LOCK(", SqlQuote(lock), ")"));
  ASSERT_NO_FATAL_FAILURE(KillHolder(lock));
  EXPECT_THAT(ledger->CheckOwnership(), IsOk());
  const Row after =
      Query(absl::StrCat("SELECT IS_USED_LOCK(", SqlQuote(lock), ")"));
  ASSERT_EQ(after.size(), 1u);
  EXPECT_TRUE(after[0].has_value());
  EXPECT_NE(after, before);  // a new session holds it
  // The reconnected ledger still works (its new session selected the schema
  // again): remove and close.
  ASSERT_OK_AND_ASSIGN(int64_t removed, ledger->RemoveOwnBookings());
  EXPECT_EQ(removed, 2);
  EXPECT_EQ(Present(rows), 0);
  // A dead session is also reconnected by the removal itself.
  const std::vector<int64_t> more = InsertRun(*ledger, 1);
  ASSERT_NO_FATAL_FAILURE(KillHolder(lock));
  ASSERT_OK_AND_ASSIGN(removed, ledger->RemoveOwnBookings());
  EXPECT_EQ(removed, 1);
  EXPECT_THAT(ledger->Close(), IsOk());
  EXPECT_THAT(ledger->Close(), IsOk());  // idempotent
  EXPECT_THAT(
      ledger->CheckOwnership(),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("closed")));
  EXPECT_EQ(Query(absl::StrCat("SELECT IS_FREE_LOCK(", SqlQuote(lock), ")")),
            Row{"1"});
}

TEST_F(RunLedgerTest, LostSlotIsAborted) {
  ASSERT_OK_AND_ASSIGN(auto ledger, OpenLedger(1));
  const std::string lock = SlotLockName(schema_, ledger->seat_tag());
  const std::vector<int64_t> rows = InsertRun(*ledger, 2);
  // While its lock connection is down, a new process takes the slot and
  // removes the rows it takes for a dead run's.
  ASSERT_NO_FATAL_FAILURE(KillHolder(lock));
  ASSERT_OK_AND_ASSIGN(auto thief, OpenLedger(2));
  EXPECT_EQ(thief->seat_tag(), ledger->seat_tag());
  ASSERT_EQ(thief->leftovers().size(), 1u);
  EXPECT_EQ(Present(rows), 0);
  EXPECT_THAT(
      ledger->CheckOwnership(),
      StatusIs(absl::StatusCode::kAborted,
               AllOf(HasSubstr("lost its slot"), HasSubstr(thief->run_id()))));
  // A straggler of the loser, inserted after the thief cleaned up: the
  // loser still removes its own rows (its run number is its alone), and
  // the thief's rows, with the same seat tag, are safe from it.
  const std::vector<int64_t> mine = InsertRun(*thief, 1, /*flight=*/2);
  const std::vector<int64_t> straggler = InsertRun(*ledger, 1, /*flight=*/3);
  ASSERT_OK_AND_ASSIGN(int64_t removed, ledger->RemoveOwnBookings());
  EXPECT_EQ(removed, 1);
  EXPECT_EQ(Present(straggler), 0);
  EXPECT_THAT(ledger->Close(), StatusIs(absl::StatusCode::kAborted, _));
  EXPECT_EQ(Present(mine), 1);
  ledger.reset();
  EXPECT_THAT(thief->CheckOwnership(), IsOk());

  // Taken for dead by a process that opens in another slot: the lock comes
  // back, but the rows are gone, and the run says so.
  ASSERT_OK_AND_ASSIGN(auto spacer, OpenLedger(3));
  ASSERT_OK_AND_ASSIGN(auto other, OpenLedger(4));
  const std::vector<int64_t> other_rows = InsertRun(*other, 2, /*flight=*/2);
  ASSERT_THAT(spacer->Close(), IsOk());  // frees a lower slot
  ASSERT_NO_FATAL_FAILURE(KillHolder(SlotLockName(schema_, other->seat_tag())));
  ASSERT_OK_AND_ASSIGN(auto cleaner, OpenLedger(5));
  EXPECT_EQ(cleaner->seat_tag(), spacer->seat_tag());
  ASSERT_EQ(cleaner->leftovers().size(), 1u);
  EXPECT_EQ(cleaner->leftovers()[0].run_id, other->run_id());
  EXPECT_EQ(Present(other_rows), 0);
  EXPECT_THAT(
      other->CheckOwnership(),
      StatusIs(absl::StatusCode::kAborted,
               AllOf(HasSubstr("'cleaned'"), HasSubstr(cleaner->run_id()))));
  EXPECT_THAT(thief->Close(), IsOk());
  EXPECT_THAT(cleaner->Close(), IsOk());
}

TEST_F(RunLedgerTest, WithoutItsRecordARunRemovesNothing) {
  // As after a reload that this run missed: its number may be another's.
  ASSERT_OK_AND_ASSIGN(auto ledger, OpenLedger());
  const std::vector<int64_t> rows = InsertRun(*ledger, 2);
  ASSERT_THAT(admin_->Execute(absl::StrCat("DELETE FROM `", schema_,
                                           "`.cabench_runs WHERE run_id = ",
                                           SqlQuote(ledger->run_id()))),
              IsOk());
  ASSERT_OK_AND_ASSIGN(int64_t removed, ledger->RemoveOwnBookings());
  EXPECT_EQ(removed, 0);
  EXPECT_EQ(Present(rows), 2);
  EXPECT_THAT(ledger->Close(),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("no record")));
}

TEST_F(RunLedgerTest, LongMixedCaseSchemaName) {
  // 64 characters, the most MariaDB allows; lock names allow 64 in all.
  std::string name = absl::StrCat("Cabench_IT_", getpid(), "_");
  name += std::string(64 - name.size(), 'L');
  ASSERT_NO_FATAL_FAILURE(CreateSchema(name, /*mark=*/true));
  ASSERT_OK_AND_ASSIGN(auto dead, OpenLedger(1, name));
  EXPECT_EQ(dead->schema(), name);
  EXPECT_EQ(dead->data_set().bookings, kLoaded);
  ASSERT_OK_AND_ASSIGN(auto live, OpenLedger(2, name));
  EXPECT_NE(dead->seat_tag(), live->seat_tag());
  dead.reset();
  ASSERT_OK_AND_ASSIGN(auto next, OpenLedger(3, name));
  EXPECT_EQ(next->leftovers().size(), 1u);
  EXPECT_THAT(live->Close(), IsOk());
  EXPECT_THAT(next->Close(), IsOk());
}

TEST_F(RunLedgerTest, FindLiveRunNamesAHolder) {
  ASSERT_OK_AND_ASSIGN(std::optional<std::string> none, FindLiveRun(*db_));
  EXPECT_EQ(none, std::nullopt);
  ASSERT_OK_AND_ASSIGN(auto ledger, OpenLedger(77));
  ASSERT_OK_AND_ASSIGN(std::optional<std::string> live, FindLiveRun(*db_));
  ASSERT_TRUE(live.has_value());
  EXPECT_THAT(*live, AllOf(HasSubstr(ledger->run_id()), HasSubstr("pid 77")));
  EXPECT_THAT(ledger->Close(), IsOk());
  ASSERT_OK_AND_ASSIGN(none, FindLiveRun(*db_));
  EXPECT_EQ(none, std::nullopt);
}

}  // namespace
}  // namespace cabench

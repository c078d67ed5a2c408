#include "lib/testing/fake_sql_client.h"

#include <chrono>
#include <cstdio>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace cabench {

FakeSqlClient::FakeSqlClient() : FakeSqlClient(Options()) {}

FakeSqlClient::FakeSqlClient(Options options)
    : options_(std::move(options)), next_booking_id_(options_.first_booking_id + 1) {}

namespace {

void SetRow(std::vector<std::pair<std::string, std::string>>& rows, std::string_view name,
            std::string_view value) {
  for (auto& [row_name, row_value] : rows) {
    if (row_name == name) {
      row_value.assign(value);
      return;
    }
  }
  rows.emplace_back(std::string(name), std::string(value));
}

}  // namespace

absl::Status FakeSqlClient::Enter(SqlMethod method) {
  absl::Status status = OnCall(method);
  if (!status.ok()) return status;
  std::lock_guard<std::mutex> lock(mu_);
  switch (method) {
    case SqlMethod::kQueryBookingCount:
      ++com_select_;
      ++session_.selects;
      ++questions_;
      ++session_.questions;
      break;
    case SqlMethod::kInsertBooking:
      ++com_insert_;
      ++session_.inserts;
      ++questions_;
      ++session_.questions;
      break;
    case SqlMethod::kExecute:
    case SqlMethod::kQueryRow:
    case SqlMethod::kQueryPairs:
      ++questions_;
      ++session_.questions;
      break;
    case SqlMethod::kReconnect:
      // A new session: a new id, its counts from zero.
      session_ = SessionCounts{session_.id + 1};
      break;
    default:
      break;
  }
  return status;
}

int64_t FakeSqlClient::CountLocked(int64_t passenger_id) const {
  if (passenger_id < 1 || passenger_id > options_.passengers) return 0;
  int64_t n = options_.initial_count ? options_.initial_count(passenger_id) : passenger_id % 4;
  auto it = inserted_per_passenger_.find(passenger_id);
  if (it != inserted_per_passenger_.end()) n += it->second;
  return n;
}

std::pair<int64_t, std::string> FakeSqlClient::SeatKey(int64_t flight_id, std::string_view seat) {
  std::string lower(seat);
  for (char& ch : lower) ch = absl::ascii_tolower(static_cast<unsigned char>(ch));
  return {flight_id, std::move(lower)};
}

absl::Status FakeSqlClient::QueryBookingCount(int64_t passenger_id, BookingCount* result) {
  if (absl::Status s = Enter(SqlMethod::kQueryBookingCount); !s.ok()) return s;
  std::shared_ptr<const std::function<void(int64_t)>> hook;
  {
    std::lock_guard<std::mutex> lock(mu_);
    hook = before_query_;
  }
  if (hook != nullptr) (*hook)(passenger_id);
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t n = CountLocked(passenger_id);
    if (observer_) observer_(Observed{.insert = false, .passenger_id = passenger_id, .count = n});
    result->found = n > 0;
    result->count = n;
    result->firstname.clear();
    result->lastname.clear();
    if (n > 0) {
      // Formatted by hand into the reused buffers: no allocation per query.
      char digits[24];
      const int len =
          std::snprintf(digits, sizeof(digits), "%lld", static_cast<long long>(passenger_id));
      result->firstname.append("First").append(digits, static_cast<size_t>(len));
      result->lastname.append("Last").append(digits, static_cast<size_t>(len));
    }
    hook = after_query_;
  }
  // Outside mu_: the hook may block while other threads use the fake.
  if (hook != nullptr) (*hook)(passenger_id);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> FakeSqlClient::InsertBooking(const NewBooking& booking) {
  if (absl::Status s = Enter(SqlMethod::kInsertBooking); !s.ok()) return s;
  if (booking.seat.size() > 4) {
    return absl::InternalError(
        absl::StrCat("mysql 1406: Data too long for column 'seat': '", booking.seat, "'"));
  }
  std::shared_ptr<const std::function<void(const NewBooking&)>> before;
  {
    std::lock_guard<std::mutex> lock(mu_);
    before = before_insert_;
  }
  if (before != nullptr) (*before)(booking);
  std::shared_ptr<const std::function<void(const NewBooking&, int64_t)>> hook;
  int64_t booking_id = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (booking.passenger_id < 1 || booking.passenger_id > options_.passengers) {
      return absl::InternalError(absl::StrCat(
          "mysql 1452: Cannot add or update a child row: no passenger ", booking.passenger_id));
    }
    if (!seats_.insert(SeatKey(booking.flight_id, booking.seat)).second) {
      return absl::AlreadyExistsError(absl::StrCat("mysql 1062: Duplicate entry '",
                                                   booking.flight_id, "-", booking.seat,
                                                   "' for key 'flight_seat'"));
    }
    ++inserted_per_passenger_[booking.passenger_id];
    ++inserted_per_run_[booking.run_no];
    ++inserted_;
    if (observer_) {
      observer_(Observed{.insert = true,
                         .passenger_id = booking.passenger_id,
                         .count = CountLocked(booking.passenger_id)});
    }
    booking_id = next_booking_id_++;
    hook = after_insert_;
  }
  if (hook != nullptr) (*hook)(booking, booking_id);
  return booking_id;
}

absl::StatusOr<int64_t> FakeSqlClient::Execute(std::string_view sql) {
  if (absl::Status s = Enter(SqlMethod::kExecute); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  statements_.emplace_back(sql);
  return 0;
}

absl::StatusOr<std::optional<std::vector<std::optional<std::string>>>> FakeSqlClient::QueryRow(
    std::string_view sql) {
  if (absl::Status s = Enter(SqlMethod::kQueryRow); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  statements_.emplace_back(sql);
  return std::optional<std::vector<std::optional<std::string>>>();
}

absl::Status FakeSqlClient::Ping() { return Enter(SqlMethod::kPing); }

absl::Status FakeSqlClient::Reconnect() { return Enter(SqlMethod::kReconnect); }

absl::StatusOr<SqlSession> FakeSqlClient::Session() const {
  std::lock_guard<std::mutex> lock(mu_);
  return SqlSession{"fake-db", session_.id};
}

void FakeSqlClient::AddOtherClients(int64_t statements, int64_t active) {
  std::lock_guard<std::mutex> lock(mu_);
  other_statements_ += statements;
  other_active_ = active;
}

void FakeSqlClient::set_process_privilege(bool granted) {
  std::lock_guard<std::mutex> lock(mu_);
  process_privilege_ = granted;
}

absl::StatusOr<std::string> FakeSqlClient::ServerInfo() {
  if (absl::Status s = Enter(SqlMethod::kServerInfo); !s.ok()) return s;
  return std::string("fake-sql 1.0");
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> FakeSqlClient::QueryPairs(
    std::string_view sql) {
  if (absl::Status s = Enter(SqlMethod::kQueryPairs); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  statements_.emplace_back(sql);
  const absl::string_view text(sql.data(), sql.size());
  if (absl::StartsWithIgnoreCase(text, "SHOW GLOBAL VARIABLES")) return variables_;
  if (absl::StartsWithIgnoreCase(text, "SHOW SESSION STATUS")) {
    return std::vector<std::pair<std::string, std::string>>{
        {"Com_insert", absl::StrCat(session_.inserts)},
        {"Com_select", absl::StrCat(session_.selects)},
        {"Questions", absl::StrCat(session_.questions)},
        {"Rows_read", absl::StrCat(session_.selects)},
    };
  }
  if (absl::StrContains(text, "information_schema.USER_PRIVILEGES")) {
    return std::vector<std::pair<std::string, std::string>>{
        {"PROCESS", process_privilege_ ? "1" : "0"}};
  }
  if (absl::StrContains(text, "information_schema.PROCESSLIST")) {
    std::vector<std::pair<std::string, std::string>> rows;
    for (int64_t i = 0; i < other_active_; ++i)
      rows.emplace_back(absl::StrCat(900000 + i), "Query");
    return rows;
  }
  if (!absl::StartsWithIgnoreCase(text, "SHOW GLOBAL STATUS")) {
    return std::vector<std::pair<std::string, std::string>>();
  }
  std::vector<std::pair<std::string, std::string>> rows = {
      {"Com_insert", absl::StrCat(com_insert_)},
      {"Com_select", absl::StrCat(com_select_)},
      {"Questions", absl::StrCat(questions_ + other_statements_)},
  };
  for (const auto& [name, value] : status_) SetRow(rows, name, value);
  return rows;
}

void FakeSqlClient::set_after_query(std::function<void(int64_t passenger_id)> after_query) {
  auto hook = after_query
                  ? std::make_shared<const std::function<void(int64_t)>>(std::move(after_query))
                  : nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  after_query_ = std::move(hook);
}

void FakeSqlClient::set_after_insert(
    std::function<void(const NewBooking& booking, int64_t booking_id)> after_insert) {
  auto hook = after_insert
                  ? std::make_shared<const std::function<void(const NewBooking&, int64_t)>>(
                        std::move(after_insert))
                  : nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  after_insert_ = std::move(hook);
}

void FakeSqlClient::set_before_query(std::function<void(int64_t passenger_id)> before_query) {
  auto hook = before_query
                  ? std::make_shared<const std::function<void(int64_t)>>(std::move(before_query))
                  : nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  before_query_ = std::move(hook);
}

void FakeSqlClient::set_before_insert(
    std::function<void(const NewBooking& booking)> before_insert) {
  auto hook =
      before_insert
          ? std::make_shared<const std::function<void(const NewBooking&)>>(std::move(before_insert))
          : nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  before_insert_ = std::move(hook);
}

void FakeSqlClient::set_observer(std::function<void(const Observed& event)> observer) {
  std::lock_guard<std::mutex> lock(mu_);
  observer_ = std::move(observer);
}

void FakeSqlClient::SetStatus(std::string_view name, std::string_view value) {
  std::lock_guard<std::mutex> lock(mu_);
  SetRow(status_, name, value);
}

void FakeSqlClient::SetVariable(std::string_view name, std::string_view value) {
  std::lock_guard<std::mutex> lock(mu_);
  SetRow(variables_, name, value);
}

int64_t FakeSqlClient::BookingCountOf(int64_t passenger_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  return CountLocked(passenger_id);
}

int64_t FakeSqlClient::inserted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return inserted_;
}

int64_t FakeSqlClient::inserted_by_run(int64_t run_no) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = inserted_per_run_.find(run_no);
  return it == inserted_per_run_.end() ? 0 : it->second;
}

void FakeSqlClient::TakeSeat(int64_t flight_id, std::string_view seat) {
  std::lock_guard<std::mutex> lock(mu_);
  seats_.insert(SeatKey(flight_id, seat));
}

std::vector<std::string> FakeSqlClient::statements() const {
  std::lock_guard<std::mutex> lock(mu_);
  return statements_;
}

}  // namespace cabench

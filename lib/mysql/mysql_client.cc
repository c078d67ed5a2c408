#include "lib/mysql/mysql_client.h"

#include <mysql.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "lib/clients/own_sessions.h"

namespace cabench {
namespace {

constexpr char kReadSql[] =
    "SELECT p.firstname, p.lastname, COUNT(*) "
    "FROM passenger p JOIN booking b ON p.passenger_id = b.passenger_id "
    "WHERE p.passenger_id = ? "
    "GROUP BY p.firstname, p.lastname";
// cabench_run names the inserting run (NewBooking::run_no; NULL for 0).
constexpr char kInsertSql[] =
    "INSERT INTO booking (flight_id, seat, passenger_id, price, cabench_run) "
    "VALUES (?,?,?,?,?)";

// Client errors from errmsg.h and server errors from mysqld_error.h, spelled
// out so that the mapping does not depend on which of the two headers a
// Connector/C version ships.
constexpr unsigned kConnectionError = 2002;     // CR_CONNECTION_ERROR
constexpr unsigned kConnHostError = 2003;       // CR_CONN_HOST_ERROR
constexpr unsigned kUnknownHost = 2005;         // CR_UNKNOWN_HOST
constexpr unsigned kServerGone = 2006;          // CR_SERVER_GONE_ERROR
constexpr unsigned kServerLost = 2013;          // CR_SERVER_LOST
constexpr unsigned kServerLostExtended = 2055;  // CR_SERVER_LOST_EXTENDED
constexpr unsigned kTooManyConnections = 1040;  // ER_CON_COUNT_ERROR
constexpr unsigned kDbAccessDenied = 1044;      // ER_DBACCESS_DENIED_ERROR
constexpr unsigned kAccessDenied = 1045;        // ER_ACCESS_DENIED_ERROR
constexpr unsigned kBadDb = 1049;               // ER_BAD_DB_ERROR
constexpr unsigned kServerShutdown = 1053;      // ER_SERVER_SHUTDOWN
constexpr unsigned kDupEntry = 1062;            // ER_DUP_ENTRY
constexpr unsigned kConnectionKilled = 1927;    // ER_CONNECTION_KILLED (MariaDB)

// Per-handle deleters: one unique_ptr type per C handle.
struct MysqlCloser {
  void operator()(MYSQL* mysql) const { mysql_close(mysql); }
};
struct StmtCloser {
  void operator()(MYSQL_STMT* stmt) const { mysql_stmt_close(stmt); }
};
struct ResultFreer {
  void operator()(MYSQL_RES* result) const { mysql_free_result(result); }
};
using MysqlPtr = std::unique_ptr<MYSQL, MysqlCloser>;
using StmtPtr = std::unique_ptr<MYSQL_STMT, StmtCloser>;
using ResultPtr = std::unique_ptr<MYSQL_RES, ResultFreer>;

// True for the errors after which the connection cannot be used any more.
bool IsConnectionLost(unsigned err) {
  switch (err) {
    case kConnectionError:
    case kConnHostError:
    case kUnknownHost:
    case kServerGone:
    case kServerLost:
    case kServerLostExtended:
    case kTooManyConnections:
    case kServerShutdown:
    case kConnectionKilled:
      return true;
    default:
      return false;
  }
}

absl::Status MakeError(unsigned err, const char* text, absl::string_view context) {
  std::string message =
      absl::StrCat("mysql ", err, ": ", text == nullptr ? "" : text, " (", context, ")");
  if (IsConnectionLost(err)) return absl::UnavailableError(message);
  switch (err) {
    case kAccessDenied:
    case kDbAccessDenied:
      return absl::PermissionDeniedError(message);
    case kBadDb:
      return absl::NotFoundError(message);
    case kDupEntry:
      return absl::AlreadyExistsError(message);
    default:
      return absl::InternalError(message);
  }
}

// Seconds for a Connector/C timeout option: rounded up, at least 1.
unsigned TimeoutSeconds(int64_t ms) {
  int64_t seconds = (ms + 999) / 1000;
  return static_cast<unsigned>(std::clamp<int64_t>(seconds, 1, 24 * 3600));
}

// "10.11.19-MariaDB-0+deb12u1" -> "mariadb 10.11.19"; "8.0.36" ->
// "mysql 8.0.36".
std::string DescribeServer(const char* raw) {
  absl::string_view version = raw == nullptr ? "" : raw;
  const bool mariadb = absl::StrContains(absl::AsciiStrToLower(version), "mariadb");
  // Old MariaDB servers announce "5.5.5-10.x" for the sake of old clients.
  if (mariadb && absl::StartsWith(version, "5.5.5-")) version.remove_prefix(6);
  size_t end = 0;
  while (end < version.size() &&
         (absl::ascii_isdigit(static_cast<unsigned char>(version[end])) || version[end] == '.')) {
    ++end;
  }
  return absl::StrCat(mariadb ? "mariadb " : "mysql ", end == 0 ? version : version.substr(0, end));
}

// Writes `cents` as a decimal such as "-12.05" into buf; returns the length.
unsigned long FormatCents(int64_t cents, char* buf) {
  // Work on the unsigned magnitude so that INT64_MIN does not overflow.
  uint64_t magnitude = cents < 0 ? ~static_cast<uint64_t>(cents) + 1 : static_cast<uint64_t>(cents);
  char digits[24];
  int n = 0;
  uint64_t whole = magnitude / 100;
  do {
    digits[n++] = static_cast<char>('0' + whole % 10);
    whole /= 10;
  } while (whole != 0);
  unsigned long len = 0;
  if (cents < 0) buf[len++] = '-';
  while (n > 0) buf[len++] = digits[--n];
  buf[len++] = '.';
  buf[len++] = static_cast<char>('0' + (magnitude % 100) / 10);
  buf[len++] = static_cast<char>('0' + magnitude % 10);
  return len;
}

class MysqlClient final : public SqlClient {
 public:
  explicit MysqlClient(const DbEndpoint& endpoint)
      : endpoint_(endpoint), server_name_(absl::StrCat(endpoint.host, ":", endpoint.port)) {}

  absl::Status Connect();

  absl::Status QueryBookingCount(int64_t passenger_id, BookingCount* result) override;
  absl::StatusOr<int64_t> InsertBooking(const NewBooking& booking) override;
  absl::StatusOr<int64_t> Execute(std::string_view sql) override;
  absl::StatusOr<std::optional<std::vector<std::optional<std::string>>>> QueryRow(
      std::string_view sql) override;
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> QueryPairs(
      std::string_view sql) override;
  absl::Status Ping() override;
  absl::Status Reconnect() override;
  absl::StatusOr<std::string> ServerInfo() override;
  absl::StatusOr<SqlSession> Session() const override;

 private:
  // Sizes of the reused result buffers for the names. Longer values are read
  // with mysql_stmt_fetch_column() straight into the caller's string.
  static constexpr size_t kNameBufferSize = 512;
  static constexpr size_t kSeatBufferSize = 16;

  absl::Status PrepareStatements();
  void Close();
  absl::Status CheckUsable(absl::string_view context) const;
  absl::Status StmtError(MYSQL_STMT* stmt, absl::string_view context);
  absl::Status ConnError(absl::string_view context);
  absl::Status FetchName(int column, const char* buffer, unsigned long length, std::string* out);

  DbEndpoint endpoint_;
  const std::string server_name_;  // SqlSession::server
  int64_t session_id_ = 0;         // of the current connection
  std::string server_info_;
  bool broken_ = true;  // until Connect() succeeds

  // Declared before the statements so that the statements are closed first.
  MysqlPtr mysql_;
  StmtPtr read_stmt_;
  StmtPtr insert_stmt_;

  // Bound buffers of the read statement.
  int64_t read_passenger_id_ = 0;
  MYSQL_BIND read_param_[1];
  char firstname_buf_[kNameBufferSize];
  char lastname_buf_[kNameBufferSize];
  unsigned long firstname_len_ = 0;
  unsigned long lastname_len_ = 0;
  my_bool firstname_null_ = 0;
  my_bool lastname_null_ = 0;
  int64_t count_ = 0;
  MYSQL_BIND read_result_[3];

  // Bound buffers of the insert statement.
  int64_t insert_flight_id_ = 0;
  char insert_seat_[kSeatBufferSize];
  unsigned long insert_seat_len_ = 0;
  int64_t insert_passenger_id_ = 0;
  char insert_price_[32];
  unsigned long insert_price_len_ = 0;
  int64_t insert_run_no_ = 0;
  my_bool insert_run_null_ = 0;
  MYSQL_BIND insert_params_[5];
};

absl::Status MysqlClient::Connect() {
  Close();
  MysqlPtr mysql(mysql_init(nullptr));
  if (mysql == nullptr) return absl::ResourceExhaustedError("mysql_init: out of memory");

  const unsigned connect_timeout = TimeoutSeconds(endpoint_.timeouts.connect_ms);
  const unsigned io_timeout = TimeoutSeconds(endpoint_.timeouts.io_ms);
  const unsigned protocol = MYSQL_PROTOCOL_TCP;
  const my_bool no_reconnect = 0;  // reconnecting is explicit, never silent
  mysql_options(mysql.get(), MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
  mysql_options(mysql.get(), MYSQL_OPT_READ_TIMEOUT, &io_timeout);
  mysql_options(mysql.get(), MYSQL_OPT_WRITE_TIMEOUT, &io_timeout);
  mysql_options(mysql.get(), MYSQL_OPT_PROTOCOL, &protocol);
  mysql_options(mysql.get(), MYSQL_OPT_RECONNECT, &no_reconnect);
  mysql_options(mysql.get(), MYSQL_SET_CHARSET_NAME, "utf8mb4");

  const char* schema = endpoint_.schema.empty() ? nullptr : endpoint_.schema.c_str();
  if (mysql_real_connect(mysql.get(), endpoint_.host.c_str(), endpoint_.user.c_str(),
                         endpoint_.password.c_str(), schema, static_cast<unsigned>(endpoint_.port),
                         /*unix_socket=*/nullptr,
                         /*clientflag=*/0) == nullptr) {
    return MakeError(mysql_errno(mysql.get()), mysql_error(mysql.get()),
                     absl::StrCat("connecting to ", endpoint_.ToString()));
  }
  if (mysql_autocommit(mysql.get(), 1) != 0) {
    return MakeError(mysql_errno(mysql.get()), mysql_error(mysql.get()), "autocommit");
  }
  server_info_ = DescribeServer(mysql_get_server_info(mysql.get()));
  // The handshake's connection id is CONNECTION_ID(): no statement needed.
  session_id_ = static_cast<int64_t>(mysql_thread_id(mysql.get()));
  AddOwnDbSession(server_name_, session_id_);
  mysql_ = std::move(mysql);
  broken_ = false;
  if (!endpoint_.schema.empty()) {
    absl::Status status = PrepareStatements();
    if (!status.ok()) {
      Close();
      return status;
    }
  }
  return absl::OkStatus();
}

void MysqlClient::Close() {
  read_stmt_.reset();
  insert_stmt_.reset();
  mysql_.reset();
  broken_ = true;
}

absl::Status MysqlClient::PrepareStatements() {
  StmtPtr read(mysql_stmt_init(mysql_.get()));
  StmtPtr insert(mysql_stmt_init(mysql_.get()));
  if (read == nullptr || insert == nullptr) {
    return absl::ResourceExhaustedError("mysql_stmt_init: out of memory");
  }
  if (mysql_stmt_prepare(read.get(), kReadSql, sizeof(kReadSql) - 1) != 0) {
    return StmtError(read.get(), "preparing the read query");
  }
  if (mysql_stmt_prepare(insert.get(), kInsertSql, sizeof(kInsertSql) - 1) != 0) {
    return StmtError(insert.get(), "preparing the booking insert");
  }

  std::memset(read_param_, 0, sizeof(read_param_));
  read_param_[0].buffer_type = MYSQL_TYPE_LONGLONG;
  read_param_[0].buffer = &read_passenger_id_;

  std::memset(read_result_, 0, sizeof(read_result_));
  read_result_[0].buffer_type = MYSQL_TYPE_STRING;
  read_result_[0].buffer = firstname_buf_;
  read_result_[0].buffer_length = sizeof(firstname_buf_);
  read_result_[0].length = &firstname_len_;
  read_result_[0].is_null = &firstname_null_;
  read_result_[1].buffer_type = MYSQL_TYPE_STRING;
  read_result_[1].buffer = lastname_buf_;
  read_result_[1].buffer_length = sizeof(lastname_buf_);
  read_result_[1].length = &lastname_len_;
  read_result_[1].is_null = &lastname_null_;
  read_result_[2].buffer_type = MYSQL_TYPE_LONGLONG;
  read_result_[2].buffer = &count_;

  std::memset(insert_params_, 0, sizeof(insert_params_));
  insert_params_[0].buffer_type = MYSQL_TYPE_LONGLONG;
  insert_params_[0].buffer = &insert_flight_id_;
  insert_params_[1].buffer_type = MYSQL_TYPE_STRING;
  insert_params_[1].buffer = insert_seat_;
  insert_params_[1].buffer_length = sizeof(insert_seat_);
  insert_params_[1].length = &insert_seat_len_;
  insert_params_[2].buffer_type = MYSQL_TYPE_LONGLONG;
  insert_params_[2].buffer = &insert_passenger_id_;
  // The price goes as a decimal string, so that DECIMAL(10,2) gets exactly
  // the cents (a double would round).
  insert_params_[3].buffer_type = MYSQL_TYPE_NEWDECIMAL;
  insert_params_[3].buffer = insert_price_;
  insert_params_[3].buffer_length = sizeof(insert_price_);
  insert_params_[3].length = &insert_price_len_;
  insert_params_[4].buffer_type = MYSQL_TYPE_LONGLONG;
  insert_params_[4].buffer = &insert_run_no_;
  insert_params_[4].is_null = &insert_run_null_;

  if (mysql_stmt_param_count(read.get()) != 1 || mysql_stmt_field_count(read.get()) != 3 ||
      mysql_stmt_param_count(insert.get()) != 5) {
    return absl::InternalError("prepared statements have unexpected parameter counts");
  }
  if (mysql_stmt_bind_param(read.get(), read_param_) != 0) {
    return StmtError(read.get(), "binding the read query's parameter");
  }
  if (mysql_stmt_bind_result(read.get(), read_result_) != 0) {
    return StmtError(read.get(), "binding the read query's result");
  }
  if (mysql_stmt_bind_param(insert.get(), insert_params_) != 0) {
    return StmtError(insert.get(), "binding the insert's parameters");
  }
  read_stmt_ = std::move(read);
  insert_stmt_ = std::move(insert);
  return absl::OkStatus();
}

absl::Status MysqlClient::CheckUsable(absl::string_view context) const {
  if (broken_ || mysql_ == nullptr) {
    return absl::UnavailableError(absl::StrCat("mysql connection to ", endpoint_.ToString(),
                                               " is broken; call Reconnect() (", context, ")"));
  }
  return absl::OkStatus();
}

absl::Status MysqlClient::StmtError(MYSQL_STMT* stmt, absl::string_view context) {
  const unsigned err = mysql_stmt_errno(stmt);
  if (IsConnectionLost(err)) broken_ = true;
  return MakeError(err, mysql_stmt_error(stmt), context);
}

absl::Status MysqlClient::ConnError(absl::string_view context) {
  const unsigned err = mysql_errno(mysql_.get());
  if (IsConnectionLost(err)) broken_ = true;
  return MakeError(err, mysql_error(mysql_.get()), context);
}

absl::Status MysqlClient::FetchName(int column, const char* buffer, unsigned long length,
                                    std::string* out) {
  if (length <= kNameBufferSize) {
    out->assign(buffer, length);
    return absl::OkStatus();
  }
  // Truncated: read the whole value into the caller's string.
  out->resize(length);
  MYSQL_BIND bind;
  std::memset(&bind, 0, sizeof(bind));
  unsigned long fetched = 0;
  bind.buffer_type = MYSQL_TYPE_STRING;
  bind.buffer = out->data();
  bind.buffer_length = length;
  bind.length = &fetched;
  if (mysql_stmt_fetch_column(read_stmt_.get(), &bind, static_cast<unsigned>(column), 0) != 0) {
    return StmtError(read_stmt_.get(), "QueryBookingCount: fetching a long name");
  }
  out->resize(std::min(fetched, length));
  return absl::OkStatus();
}

absl::Status MysqlClient::QueryBookingCount(int64_t passenger_id, BookingCount* result) {
  if (absl::Status status = CheckUsable("QueryBookingCount"); !status.ok()) return status;
  if (read_stmt_ == nullptr) {
    return absl::FailedPreconditionError(
        "QueryBookingCount: the client was created without a schema");
  }
  MYSQL_STMT* stmt = read_stmt_.get();
  read_passenger_id_ = passenger_id;
  if (mysql_stmt_execute(stmt) != 0) return StmtError(stmt, "QueryBookingCount");

  int rc = mysql_stmt_fetch(stmt);
  if (rc == MYSQL_NO_DATA) {
    result->found = false;
    result->firstname.clear();
    result->lastname.clear();
    result->count = 0;
    return absl::OkStatus();
  }
  if (rc == 1) return StmtError(stmt, "QueryBookingCount");
  // rc is 0 or MYSQL_DATA_TRUNCATED (a name longer than its buffer).
  result->found = true;
  result->count = count_;
  absl::Status status =
      FetchName(0, firstname_buf_, firstname_null_ ? 0 : firstname_len_, &result->firstname);
  if (status.ok()) {
    status = FetchName(1, lastname_buf_, lastname_null_ ? 0 : lastname_len_, &result->lastname);
  }
  // Drain the rest (GROUP BY gives one row per name) so the statement is
  // ready for the next execution.
  while ((rc = mysql_stmt_fetch(stmt)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
  }
  if (rc == 1 && status.ok()) return StmtError(stmt, "QueryBookingCount");
  if (!status.ok()) mysql_stmt_free_result(stmt);
  return status;
}

absl::StatusOr<int64_t> MysqlClient::InsertBooking(const NewBooking& booking) {
  if (absl::Status status = CheckUsable("InsertBooking"); !status.ok()) return status;
  if (insert_stmt_ == nullptr) {
    return absl::FailedPreconditionError("InsertBooking: the client was created without a schema");
  }
  if (booking.seat.size() > kSeatBufferSize) {
    return absl::InvalidArgumentError(absl::StrCat("InsertBooking: seat '",
                                                   booking.seat.substr(0, kSeatBufferSize),
                                                   "...' is longer than 4 characters"));
  }
  insert_flight_id_ = booking.flight_id;
  std::memcpy(insert_seat_, booking.seat.data(), booking.seat.size());
  insert_seat_len_ = booking.seat.size();
  insert_passenger_id_ = booking.passenger_id;
  insert_price_len_ = FormatCents(booking.price_cents, insert_price_);
  insert_run_no_ = booking.run_no;
  insert_run_null_ = booking.run_no <= 0;
  if (mysql_stmt_execute(insert_stmt_.get()) != 0) {
    return StmtError(insert_stmt_.get(), "InsertBooking");
  }
  return static_cast<int64_t>(mysql_stmt_insert_id(insert_stmt_.get()));
}

absl::StatusOr<int64_t> MysqlClient::Execute(std::string_view sql) {
  if (absl::Status status = CheckUsable("Execute"); !status.ok()) return status;
  MYSQL* mysql = mysql_.get();
  if (mysql_real_query(mysql, sql.data(), sql.size()) != 0) return ConnError("Execute");
  if (mysql_field_count(mysql) != 0) {
    // The statement returned rows after all: discard them.
    ResultPtr rows(mysql_use_result(mysql));
    if (rows == nullptr) return ConnError("Execute");
    while (mysql_fetch_row(rows.get()) != nullptr) {
    }
    if (mysql_errno(mysql) != 0) return ConnError("Execute");
    return static_cast<int64_t>(mysql_num_rows(rows.get()));
  }
  return static_cast<int64_t>(mysql_affected_rows(mysql));
}

absl::StatusOr<std::optional<std::vector<std::optional<std::string>>>> MysqlClient::QueryRow(
    std::string_view sql) {
  if (absl::Status status = CheckUsable("QueryRow"); !status.ok()) return status;
  MYSQL* mysql = mysql_.get();
  if (mysql_real_query(mysql, sql.data(), sql.size()) != 0) return ConnError("QueryRow");
  if (mysql_field_count(mysql) == 0) {
    return std::optional<std::vector<std::optional<std::string>>>();
  }
  ResultPtr rows(mysql_store_result(mysql));
  if (rows == nullptr) return ConnError("QueryRow");
  MYSQL_ROW row = mysql_fetch_row(rows.get());
  if (row == nullptr) return std::optional<std::vector<std::optional<std::string>>>();
  const unsigned fields = mysql_num_fields(rows.get());
  const unsigned long* lengths = mysql_fetch_lengths(rows.get());
  std::vector<std::optional<std::string>> values;
  values.reserve(fields);
  for (unsigned i = 0; i < fields; ++i) {
    if (row[i] == nullptr) {
      values.emplace_back(std::nullopt);
    } else {
      values.emplace_back(std::string(row[i], lengths[i]));
    }
  }
  return std::optional<std::vector<std::optional<std::string>>>(std::move(values));
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> MysqlClient::QueryPairs(
    std::string_view sql) {
  if (absl::Status status = CheckUsable("QueryPairs"); !status.ok()) return status;
  MYSQL* mysql = mysql_.get();
  if (mysql_real_query(mysql, sql.data(), sql.size()) != 0) return ConnError("QueryPairs");
  // Read the result (if any) before judging its shape, so that the
  // connection is ready for the next statement either way.
  ResultPtr rows;
  if (mysql_field_count(mysql) != 0) {
    rows.reset(mysql_store_result(mysql));
    if (rows == nullptr) return ConnError("QueryPairs");
  }
  const unsigned fields = rows == nullptr ? 0 : mysql_num_fields(rows.get());
  if (fields != 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("QueryPairs: the statement returned ", fields, " columns, not 2"));
  }
  std::vector<std::pair<std::string, std::string>> pairs;
  pairs.reserve(mysql_num_rows(rows.get()));
  while (MYSQL_ROW row = mysql_fetch_row(rows.get())) {
    const unsigned long* lengths = mysql_fetch_lengths(rows.get());
    pairs.emplace_back(row[0] == nullptr ? std::string() : std::string(row[0], lengths[0]),
                       row[1] == nullptr ? std::string() : std::string(row[1], lengths[1]));
  }
  return pairs;
}

absl::Status MysqlClient::Ping() {
  if (absl::Status status = CheckUsable("Ping"); !status.ok()) return status;
  if (mysql_ping(mysql_.get()) != 0) {
    absl::Status status = ConnError("Ping");
    // Whatever the code, a failed ping means the connection is not usable.
    broken_ = true;
    return absl::UnavailableError(status.message());
  }
  return absl::OkStatus();
}

absl::Status MysqlClient::Reconnect() { return Connect(); }

absl::StatusOr<SqlSession> MysqlClient::Session() const {
  if (absl::Status status = CheckUsable("Session"); !status.ok()) return status;
  return SqlSession{server_name_, session_id_};
}

absl::StatusOr<std::string> MysqlClient::ServerInfo() {
  if (server_info_.empty()) return CheckUsable("ServerInfo");
  return server_info_;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqlClient>> NewMysqlClient(const DbEndpoint& endpoint) {
  auto client = std::make_unique<MysqlClient>(endpoint);
  if (absl::Status status = client->Connect(); !status.ok()) return status;
  return std::unique_ptr<SqlClient>(std::move(client));
}

MysqlLibrary::MysqlLibrary() {
  if (mysql_library_init(0, nullptr, nullptr) != 0) {
    status_ = absl::InternalError("mysql_library_init failed");
  }
}

MysqlLibrary::~MysqlLibrary() {
  if (status_.ok()) mysql_library_end();
}

MysqlThreadScope::MysqlThreadScope() { mysql_thread_init(); }

MysqlThreadScope::~MysqlThreadScope() { mysql_thread_end(); }

}  // namespace cabench

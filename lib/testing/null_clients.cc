#include "lib/testing/null_clients.h"

#include <utility>

namespace cabench {

NullKvClient::NullKvClient(bool hit, std::string value) : hit_(hit), value_(std::move(value)) {}

absl::StatusOr<bool> NullKvClient::Get(std::string_view, std::string* value) {
  if (!hit_) {
    value->clear();
    return false;
  }
  value->assign(value_);
  return true;
}

absl::Status NullKvClient::Set(std::string_view, std::string_view, int64_t) {
  return absl::OkStatus();
}
absl::StatusOr<bool> NullKvClient::SetIfAbsent(std::string_view, std::string_view, int64_t ttl_ms) {
  if (ttl_ms <= 0) return absl::InvalidArgumentError("null kv: ttl_ms must be > 0");
  return true;
}
absl::Status NullKvClient::Del(std::string_view) { return absl::OkStatus(); }
absl::StatusOr<bool> NullKvClient::DelIfEquals(std::string_view, std::string_view) { return true; }
absl::StatusOr<int64_t> NullKvClient::DeletePrefix(std::string_view) { return 0; }
absl::Status NullKvClient::Ping() { return absl::OkStatus(); }
absl::Status NullKvClient::Reconnect() { return absl::OkStatus(); }
absl::StatusOr<std::string> NullKvClient::ServerInfo() { return std::string("null"); }
absl::StatusOr<std::string> NullKvClient::Info(std::string_view) { return std::string(); }
absl::StatusOr<int64_t> NullKvClient::DbSize() { return 0; }

absl::Status NullSqlClient::QueryBookingCount(int64_t, BookingCount* result) {
  result->found = true;
  result->count = 3;
  result->firstname.assign("First");
  result->lastname.assign("Last");
  return absl::OkStatus();
}
absl::StatusOr<int64_t> NullSqlClient::InsertBooking(const NewBooking&) { return next_id_++; }
absl::StatusOr<int64_t> NullSqlClient::Execute(std::string_view) { return 0; }
absl::StatusOr<std::optional<std::vector<std::optional<std::string>>>> NullSqlClient::QueryRow(
    std::string_view) {
  return std::optional<std::vector<std::optional<std::string>>>();
}
absl::Status NullSqlClient::Ping() { return absl::OkStatus(); }
absl::Status NullSqlClient::Reconnect() { return absl::OkStatus(); }
absl::StatusOr<std::string> NullSqlClient::ServerInfo() { return std::string("null"); }
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> NullSqlClient::QueryPairs(
    std::string_view) {
  return std::vector<std::pair<std::string, std::string>>();
}

}  // namespace cabench

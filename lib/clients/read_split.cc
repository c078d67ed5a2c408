#include "lib/clients/read_split.h"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cabench {
namespace {

// Runs `call` on both connections (the primary first) and returns the first
// failure, after trying both: one broken connection must not keep the other
// from reconnecting.
template <typename Client, typename Call>
absl::Status OnBoth(Client& primary, Client& replica, Call call) {
  absl::Status first = call(primary);
  absl::Status second = call(replica);
  return first.ok() ? second : first;
}

}  // namespace

ReadSplitKvClient::ReadSplitKvClient(std::unique_ptr<KvClient> primary,
                                     std::unique_ptr<KvClient> replica)
    : primary_(std::move(primary)), replica_(std::move(replica)) {}

absl::StatusOr<bool> ReadSplitKvClient::Get(std::string_view key, std::string* value) {
  return replica_->Get(key, value);
}

absl::Status ReadSplitKvClient::Set(std::string_view key, std::string_view value, int64_t ttl_ms) {
  return primary_->Set(key, value, ttl_ms);
}

absl::StatusOr<bool> ReadSplitKvClient::SetIfAbsent(std::string_view key, std::string_view value,
                                                    int64_t ttl_ms) {
  return primary_->SetIfAbsent(key, value, ttl_ms);
}

absl::Status ReadSplitKvClient::Del(std::string_view key) { return primary_->Del(key); }

absl::StatusOr<bool> ReadSplitKvClient::DelIfEquals(std::string_view key, std::string_view value) {
  return primary_->DelIfEquals(key, value);
}

absl::StatusOr<int64_t> ReadSplitKvClient::DeletePrefix(std::string_view prefix) {
  return primary_->DeletePrefix(prefix);
}

absl::Status ReadSplitKvClient::Ping() {
  return OnBoth(*primary_, *replica_, [](KvClient& c) { return c.Ping(); });
}

absl::Status ReadSplitKvClient::Reconnect() {
  return OnBoth(*primary_, *replica_, [](KvClient& c) { return c.Reconnect(); });
}

absl::StatusOr<std::string> ReadSplitKvClient::ServerInfo() { return primary_->ServerInfo(); }

absl::StatusOr<std::string> ReadSplitKvClient::Info(std::string_view section) {
  return primary_->Info(section);
}

absl::StatusOr<int64_t> ReadSplitKvClient::DbSize() { return primary_->DbSize(); }

absl::StatusOr<int64_t> ReadSplitKvClient::CountPrefix(std::string_view prefix) {
  return primary_->CountPrefix(prefix);
}

absl::StatusOr<std::string> ReadSplitKvClient::ConfigGet(std::string_view name) {
  return primary_->ConfigGet(name);
}

absl::Status ReadSplitKvClient::ConfigSet(std::string_view name, std::string_view value) {
  return primary_->ConfigSet(name, value);
}

absl::StatusOr<std::string> ReadSplitKvClient::ClientList() { return primary_->ClientList(); }

absl::StatusOr<KvCommands> ReadSplitKvClient::Commands() const { return primary_->Commands(); }

ReadSplitSqlClient::ReadSplitSqlClient(std::unique_ptr<SqlClient> primary,
                                       std::unique_ptr<SqlClient> replica)
    : primary_(std::move(primary)), replica_(std::move(replica)) {}

absl::Status ReadSplitSqlClient::QueryBookingCount(int64_t passenger_id, BookingCount* result) {
  return replica_->QueryBookingCount(passenger_id, result);
}

absl::StatusOr<int64_t> ReadSplitSqlClient::InsertBooking(const NewBooking& booking) {
  return primary_->InsertBooking(booking);
}

absl::StatusOr<int64_t> ReadSplitSqlClient::Execute(std::string_view sql) {
  return primary_->Execute(sql);
}

absl::StatusOr<std::optional<std::vector<std::optional<std::string>>>> ReadSplitSqlClient::QueryRow(
    std::string_view sql) {
  return primary_->QueryRow(sql);
}

absl::Status ReadSplitSqlClient::Ping() {
  return OnBoth(*primary_, *replica_, [](SqlClient& c) { return c.Ping(); });
}

absl::Status ReadSplitSqlClient::Reconnect() {
  return OnBoth(*primary_, *replica_, [](SqlClient& c) { return c.Reconnect(); });
}

absl::StatusOr<std::string> ReadSplitSqlClient::ServerInfo() { return primary_->ServerInfo(); }

absl::StatusOr<SqlSession> ReadSplitSqlClient::Session() const { return primary_->Session(); }

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ReadSplitSqlClient::QueryPairs(
    std::string_view sql) {
  return primary_->QueryPairs(sql);
}

}  // namespace cabench

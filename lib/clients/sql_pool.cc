#include "lib/clients/sql_pool.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"

namespace cabench {
namespace {

using Clock = std::chrono::steady_clock;

int64_t NsBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(to - from).count();
}

const absl::Status& StatusOf(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

std::string Plural(int n, const char* word) {
  return absl::StrCat(n, " ", word, n == 1 ? "" : "s");
}

}  // namespace

// Each waiter has its own condition variable, so a hand-over wakes exactly
// the thread it is meant for (no thundering herd of N - M threads per
// returned connection). It lives on the waiting thread's stack: the
// notifying thread signals it while holding mu_, and the waiter cannot
// return (and destroy it) before it gets mu_ back.
struct SqlPool::Waiter {
  std::condition_variable cv;
  Waiter* prev = nullptr;
  Waiter* next = nullptr;
  int slot = -1;        // the connection handed over
  bool done = false;    // handed a connection, or failed
  bool failed = false;  // every connection broke while waiting
};

std::map<CounterId, double> SqlPoolCounters(const SqlPoolStats& stats) {
  std::map<CounterId, double> counters;
  counters[CounterId::kDbPoolSize] = stats.size;
  counters[CounterId::kDbPoolTimeouts] = static_cast<double>(stats.timeouts);
  // No wait was measured: absent, not 0 (a figure cabench cannot know is never 0).
  if (stats.wait_ns.Count() > 0) {
    counters[CounterId::kDbPoolWaitAvgUs] = stats.wait_ns.Mean() / 1e3;
    counters[CounterId::kDbPoolWaitP99Us] = stats.wait_ns.Percentile(99) / 1e3;
  }
  return counters;
}

absl::StatusOr<std::shared_ptr<SqlPool>> SqlPool::Create(int size, Factory factory,
                                                         Options options) {
  if (size < 1) {
    return absl::InvalidArgumentError(absl::StrCat("db pool: size must be at least 1, not ", size));
  }
  if (options.timeout_ms < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("db pool: timeout_ms must be at least 1, not ", options.timeout_ms));
  }
  if (!factory) return absl::InvalidArgumentError("db pool: no connection factory");
  std::vector<std::unique_ptr<SqlClient>> clients;
  clients.reserve(static_cast<size_t>(size));
  for (int i = 0; i < size; ++i) {
    absl::StatusOr<std::unique_ptr<SqlClient>> client = factory();
    if (!client.ok()) {
      return absl::Status(client.status().code(),
                          absl::StrCat("db pool: connection ", i + 1, " of ", size, ": ",
                                       client.status().message()));
    }
    if (*client == nullptr) {
      return absl::InternalError(
          absl::StrCat("db pool: connection ", i + 1, " of ", size, ": the factory returned null"));
    }
    clients.push_back(*std::move(client));
  }
  // The constructor is private, so no std::make_shared.
  return std::shared_ptr<SqlPool>(new SqlPool(std::move(clients), options.timeout_ms));
}

SqlPool::SqlPool(std::vector<std::unique_ptr<SqlClient>> clients, int64_t timeout_ms)
    : timeout_ms_(timeout_ms), slots_(std::move(clients)) {
  const int size = static_cast<int>(slots_.size());
  idle_.reserve(slots_.size());
  broken_.reserve(slots_.size());
  // Reversed, so that the first borrow takes connection 0.
  for (int i = size - 1; i >= 0; --i) idle_.push_back(i);
  stats_.size = size;
}

SqlPool::~SqlPool() {
  // Every PooledSqlClient holds the pool, so none is alive, and so no call
  // is running or waiting.
  assert(head_ == nullptr && lent_ == 0 && reconnecting_ == 0);
}

SqlPoolStats SqlPool::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  SqlPoolStats stats = stats_;
  stats.clients = clients_;
  return stats;
}

void SqlPool::ResetStats() {
  std::lock_guard<std::mutex> lock(mu_);
  const int size = stats_.size;
  stats_ = SqlPoolStats();
  stats_.size = size;
}

absl::Status SqlPool::WithEachConnection(const std::function<void(SqlClient&)>& fn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (lent_ > 0 || reconnecting_ > 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "db pool: ", lent_ + reconnecting_, " of its ", slots_.size(), " connections are in use"));
  }
  // Holding the lock keeps every call out until fn is done with them all.
  for (const std::unique_ptr<SqlClient>& conn : slots_) fn(*conn);
  return absl::OkStatus();
}

void SqlPool::CountLentLocked() {
  ++lent_;
  stats_.max_in_use = std::max(stats_.max_in_use, lent_);
}

int SqlPool::Acquire(absl::Status* error) {
  const Clock::time_point start = Clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  int slot = -1;
  if (!idle_.empty()) {
    // Hand-overs go to waiters first, so an idle connection means nobody
    // waits: taking it overtakes no one.
    assert(head_ == nullptr);
    slot = idle_.back();
    idle_.pop_back();
    CountLentLocked();
  } else if (AllBrokenLocked()) {
    ++stats_.broken_failures;
    *error = AllBrokenErrorLocked();
    return -1;
  } else {
    Waiter waiter;
    waiter.prev = tail_;
    (tail_ != nullptr ? tail_->next : head_) = &waiter;
    tail_ = &waiter;
    const Clock::time_point deadline = start + std::chrono::milliseconds(timeout_ms_);
    while (!waiter.done) {
      if (waiter.cv.wait_until(lock, deadline) == std::cv_status::timeout) break;
    }
    if (!waiter.done) {
      // Timed out, still in the list (a hand-over unlinks its waiter).
      (waiter.prev != nullptr ? waiter.prev->next : head_) = waiter.next;
      (waiter.next != nullptr ? waiter.next->prev : tail_) = waiter.prev;
      ++stats_.timeouts;
      stats_.wait_ns.Record(NsBetween(start, Clock::now()));
      *error = TimeoutErrorLocked();
      return -1;
    }
    if (waiter.failed) {
      ++stats_.broken_failures;
      *error = AllBrokenErrorLocked();
      return -1;
    }
    slot = waiter.slot;  // HandOverLocked() counted it as lent
  }
  ++stats_.borrows;
  stats_.wait_ns.Record(NsBetween(start, Clock::now()));
  return slot;
}

void SqlPool::HandOverLocked(int slot) {
  if (head_ == nullptr) {
    idle_.push_back(slot);
    return;
  }
  Waiter* waiter = head_;
  head_ = waiter->next;
  (head_ != nullptr ? head_->prev : tail_) = nullptr;
  waiter->slot = slot;
  waiter->done = true;
  CountLentLocked();
  // Under mu_: the waiter may destroy its cv as soon as it can lock mu_.
  waiter->cv.notify_one();
}

void SqlPool::FailWaitersIfAllBrokenLocked() {
  if (!AllBrokenLocked()) return;
  while (head_ != nullptr) {
    Waiter* waiter = head_;
    head_ = waiter->next;
    waiter->done = true;
    waiter->failed = true;
    waiter->cv.notify_one();
  }
  tail_ = nullptr;
}

void SqlPool::Release(int slot, const absl::Status* broke) {
  std::lock_guard<std::mutex> lock(mu_);
  --lent_;
  if (broke == nullptr) {
    HandOverLocked(slot);
    return;
  }
  ++stats_.connections_broken;
  last_break_ = *broke;
  broken_.push_back(slot);
  FailWaitersIfAllBrokenLocked();
}

absl::Status SqlPool::ReconnectBroken() {
  std::unique_lock<std::mutex> lock(mu_);
  // One after the other, each outside the lock; other threads' Reconnect()
  // calls take the other broken connections meanwhile, so M connections come
  // back in parallel when M threads saw the outage.
  while (!broken_.empty()) {
    const int slot = broken_.back();
    broken_.pop_back();
    ++reconnecting_;
    lock.unlock();
    absl::Status status = slots_[static_cast<size_t>(slot)]->Reconnect();
    lock.lock();
    --reconnecting_;
    reconnect_cv_.notify_all();
    if (!status.ok()) {
      ++stats_.reconnect_failures;
      broken_.push_back(slot);
      FailWaitersIfAllBrokenLocked();
      return status;
    }
    ++stats_.reconnects;
    HandOverLocked(slot);
  }
  // Nothing left for this thread to reconnect. If no connection is healthy
  // yet, others are reconnecting the rest: wait for the first to finish.
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeout_ms_);
  while (idle_.empty() && lent_ == 0 && reconnecting_ > 0) {
    if (reconnect_cv_.wait_until(lock, deadline) == std::cv_status::timeout) break;
  }
  if (!idle_.empty() || lent_ > 0) return absl::OkStatus();
  if (reconnecting_ > 0) {
    return absl::UnavailableError(
        absl::StrCat("db pool: no connection reconnected within ", timeout_ms_, " ms (",
                     Plural(reconnecting_, "reconnect"), " still running)"));
  }
  return AllBrokenErrorLocked();
}

absl::Status SqlPool::AllBrokenErrorLocked() const {
  return absl::UnavailableError(absl::StrCat(
      "db pool: ",
      size() == 1 ? "the connection is" : absl::StrCat("all ", size(), " connections are"),
      " broken (last error: ", last_break_.message(), "); Reconnect() brings them back"));
}

absl::Status SqlPool::TimeoutErrorLocked() const {
  return absl::ResourceExhaustedError(
      absl::StrCat("db pool: no connection free within ", timeout_ms_, " ms (",
                   Plural(size(), "connection"), " for ", Plural(clients_, "thread"), ")"));
}

PooledSqlClient::PooledSqlClient(std::shared_ptr<SqlPool> pool) : pool_(std::move(pool)) {
  assert(pool_ != nullptr);
  std::lock_guard<std::mutex> lock(pool_->mu_);
  ++pool_->clients_;
}

PooledSqlClient::~PooledSqlClient() {
  std::lock_guard<std::mutex> lock(pool_->mu_);
  --pool_->clients_;
}

template <typename Result, typename Call>
Result PooledSqlClient::OnConnection(Call call) {
  absl::Status error;
  const int slot = pool_->Acquire(&error);
  if (slot < 0) return error;
  Result result = call(*pool_->slots_[static_cast<size_t>(slot)]);
  const absl::Status& status = StatusOf(result);
  pool_->Release(slot, absl::IsUnavailable(status) ? &status : nullptr);
  return result;
}

absl::Status PooledSqlClient::QueryBookingCount(int64_t passenger_id, BookingCount* result) {
  return OnConnection<absl::Status>(
      [&](SqlClient& sql) { return sql.QueryBookingCount(passenger_id, result); });
}

absl::StatusOr<int64_t> PooledSqlClient::InsertBooking(const NewBooking& booking) {
  return OnConnection<absl::StatusOr<int64_t>>(
      [&](SqlClient& sql) { return sql.InsertBooking(booking); });
}

absl::StatusOr<int64_t> PooledSqlClient::Execute(std::string_view sql_text) {
  return OnConnection<absl::StatusOr<int64_t>>(
      [&](SqlClient& sql) { return sql.Execute(sql_text); });
}

absl::StatusOr<std::optional<std::vector<std::optional<std::string>>>> PooledSqlClient::QueryRow(
    std::string_view sql_text) {
  return OnConnection<absl::StatusOr<std::optional<std::vector<std::optional<std::string>>>>>(
      [&](SqlClient& sql) { return sql.QueryRow(sql_text); });
}

absl::Status PooledSqlClient::Ping() {
  return OnConnection<absl::Status>([](SqlClient& sql) { return sql.Ping(); });
}

absl::StatusOr<std::string> PooledSqlClient::ServerInfo() {
  return OnConnection<absl::StatusOr<std::string>>([](SqlClient& sql) { return sql.ServerInfo(); });
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> PooledSqlClient::QueryPairs(
    std::string_view sql_text) {
  return OnConnection<absl::StatusOr<std::vector<std::pair<std::string, std::string>>>>(
      [&](SqlClient& sql) { return sql.QueryPairs(sql_text); });
}

absl::Status PooledSqlClient::Reconnect() { return pool_->ReconnectBroken(); }

}  // namespace cabench

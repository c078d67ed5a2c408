#include "lib/testing/fake_kv_client.h"

#include <chrono>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "lib/clients/own_sessions.h"

namespace cabench {

FakeKvClient::FakeKvClient(VirtualClock* clock) : clock_(clock) {}

int64_t FakeKvClient::NowNs() const {
  if (clock_ != nullptr) return clock_->NowNs();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

absl::Status FakeKvClient::Enter(KvMethod method, std::string_view key) {
  absl::Status status = OnCall(method);
  std::shared_ptr<const std::function<void(KvMethod, std::string_view)>> hook;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (broken_ && method != KvMethod::kReconnect) {
      status = absl::UnavailableError("fake kv: connection is broken");
    } else if (emulate_broken_ && absl::IsUnavailable(status)) {
      broken_ = true;
    }
    if (method == KvMethod::kReconnect && status.ok()) broken_ = false;
    // A command the server ran (a reconnect is no command).
    if (status.ok() && method != KvMethod::kReconnect) ++commands_;
    switch (method) {
      case KvMethod::kGet:
      case KvMethod::kSet:
      case KvMethod::kSetIfAbsent:
      case KvMethod::kDel:
      case KvMethod::kDelIfEquals:
        if (status.ok()) hook = before_;
        break;
      default:
        break;
    }
  }
  // Outside mu_: the hook may block while other threads use the fake.
  if (hook != nullptr) (*hook)(method, key);
  return status;
}

const FakeKvClient::Entry* FakeKvClient::FindLive(std::string_view key) const {
  auto it = map_.find(key);
  if (it == map_.end()) return nullptr;
  // Redis: a key is expired once now > expire time.
  if (NowNs() > it->second.expire_at_ns) return nullptr;
  return &it->second;
}

absl::StatusOr<bool> FakeKvClient::Get(std::string_view key, std::string* value) {
  if (absl::Status s = Enter(KvMethod::kGet, key); !s.ok()) return s;
  std::shared_ptr<const std::function<void(std::string_view, const std::string*)>> hook;
  bool hit = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    hook = after_get_;
    const Entry* e = FindLive(key);
    if (e == nullptr) {
      ++keyspace_misses_;
      value->clear();
    } else {
      ++keyspace_hits_;
      value->assign(e->value);
      hit = true;
    }
  }
  if (hook != nullptr) (*hook)(key, hit ? value : nullptr);
  return hit;
}

absl::Status FakeKvClient::Set(std::string_view key, std::string_view value, int64_t ttl_ms) {
  if (absl::Status s = Enter(KvMethod::kSet, key); !s.ok()) return s;
  if (ttl_ms <= 0) return absl::InvalidArgumentError("fake kv: ttl_ms must be > 0");
  Put(key, value, ttl_ms);
  return absl::OkStatus();
}

absl::StatusOr<bool> FakeKvClient::SetIfAbsent(std::string_view key, std::string_view value,
                                               int64_t ttl_ms) {
  if (absl::Status s = Enter(KvMethod::kSetIfAbsent, key); !s.ok()) return s;
  if (ttl_ms <= 0) return absl::InvalidArgumentError("fake kv: ttl_ms must be > 0");
  std::lock_guard<std::mutex> lock(mu_);
  if (FindLive(key) != nullptr) return false;
  PutLocked(key, value, ttl_ms);
  return true;
}

void FakeKvClient::Put(std::string_view key, std::string_view value, int64_t ttl_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  PutLocked(key, value, ttl_ms);
}

void FakeKvClient::PutLocked(std::string_view key, std::string_view value, int64_t ttl_ms) {
  const int64_t expire = NowNs() + ttl_ms * 1000000;
  auto it = map_.find(key);
  if (it == map_.end()) {
    map_.emplace(std::string(key), Entry{std::string(value), expire, ttl_ms});
  } else {
    it->second.value.assign(value);
    it->second.expire_at_ns = expire;
    it->second.ttl_ms = ttl_ms;
  }
}

absl::Status FakeKvClient::Del(std::string_view key) {
  if (absl::Status s = Enter(KvMethod::kDel, key); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = map_.find(key);
  if (it != map_.end()) map_.erase(it);
  return absl::OkStatus();
}

absl::StatusOr<bool> FakeKvClient::DelIfEquals(std::string_view key, std::string_view value) {
  if (absl::Status s = Enter(KvMethod::kDelIfEquals, key); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  const Entry* e = FindLive(key);
  if (e == nullptr || e->value != value) return false;
  map_.erase(map_.find(key));
  return true;
}

absl::StatusOr<int64_t> FakeKvClient::DeletePrefix(std::string_view prefix) {
  if (absl::Status s = Enter(KvMethod::kDeletePrefix); !s.ok()) return s;
  if (prefix.empty()) return absl::InvalidArgumentError("fake kv: empty prefix");
  std::lock_guard<std::mutex> lock(mu_);
  int64_t deleted = 0;
  for (auto it = map_.begin(); it != map_.end();) {
    if (std::string_view(it->first).substr(0, prefix.size()) == prefix) {
      if (NowNs() <= it->second.expire_at_ns) ++deleted;
      it = map_.erase(it);
    } else {
      ++it;
    }
  }
  return deleted;
}

absl::StatusOr<int64_t> FakeKvClient::CountPrefix(std::string_view prefix) {
  if (absl::Status s = Enter(KvMethod::kCountPrefix); !s.ok()) return s;
  if (prefix.empty()) return absl::InvalidArgumentError("fake kv: empty prefix");
  std::lock_guard<std::mutex> lock(mu_);
  int64_t count = 0;
  for (const auto& [key, entry] : map_) {
    count +=
        std::string_view(key).substr(0, prefix.size()) == prefix && NowNs() <= entry.expire_at_ns;
  }
  return count;
}

absl::StatusOr<std::string> FakeKvClient::ConfigGet(std::string_view name) {
  if (absl::Status s = Enter(KvMethod::kConfigGet); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = config_.find(std::string(name));
  if (it == config_.end()) return absl::NotFoundError("fake kv: no such parameter");
  return it->second;
}

absl::Status FakeKvClient::ConfigSet(std::string_view name, std::string_view value) {
  if (absl::Status s = Enter(KvMethod::kConfigSet); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = config_.find(std::string(name));
  if (it == config_.end()) return absl::NotFoundError("fake kv: no such parameter");
  it->second = std::string(value);
  return absl::OkStatus();
}

absl::Status FakeKvClient::Ping() { return Enter(KvMethod::kPing); }

absl::Status FakeKvClient::Reconnect() { return Enter(KvMethod::kReconnect); }

absl::StatusOr<std::string> FakeKvClient::ServerInfo() {
  if (absl::Status s = Enter(KvMethod::kServerInfo); !s.ok()) return s;
  return std::string("fake-kv 1.0");
}

absl::StatusOr<std::string> FakeKvClient::Info(std::string_view section) {
  if (absl::Status s = Enter(KvMethod::kInfo); !s.ok()) return s;
  const std::string name = absl::AsciiStrToLower(absl::string_view(section.data(), section.size()));
  const bool all = name.empty() || name == "default" || name == "all" || name == "everything";
  std::lock_guard<std::mutex> lock(mu_);
  std::string text;
  if (all || name == "server") {
    absl::StrAppend(&text, "# Server\r\nredis_version:7.0.0\r\n");
    if (process_id_.has_value()) absl::StrAppend(&text, "process_id:", *process_id_, "\r\n");
    absl::StrAppend(&text, "uptime_in_seconds:", uptime_s_, "\r\n\r\n");
  }
  if (all || name == "memory") {
    int64_t bytes = 0;
    for (const auto& [key, e] : map_) bytes += static_cast<int64_t>(key.size() + e.value.size());
    absl::StrAppend(&text, "# Memory\r\nused_memory:", bytes, "\r\n\r\n");
  }
  if (all || name == "stats") {
    // As Redis, INFO does not count itself: it is counted once it has run.
    absl::StrAppend(&text,
                    "# Stats\r\nexpired_keys:0\r\nevicted_keys:0\r\nkeyspace_hits:", keyspace_hits_,
                    "\r\nkeyspace_misses:", keyspace_misses_,
                    "\r\ntotal_commands_processed:", commands_ - 1 + other_commands_, "\r\n");
  }
  if (name == "all" || name == "everything" || name == "commandstats") {
    absl::StrAppend(&text, "\r\n# Commandstats\r\n");
  }
  return text;
}

absl::StatusOr<std::string> FakeKvClient::ClientList() {
  if (absl::Status s = Enter(KvMethod::kClientList); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  std::string text = absl::StrCat("id=1 addr=127.0.0.1:1 name=", OwnCacheClientName(),
                                  " age=0 idle=0 flags=N db=0 cmd=client|list\n");
  for (int64_t i = 0; i < other_active_; ++i) {
    absl::StrAppend(&text, "id=", 100 + i, " addr=127.0.0.1:2 name= age=0 idle=0 flags=N db=0 ",
                    "cmd=get\n");
  }
  return text;
}

absl::StatusOr<KvCommands> FakeKvClient::Commands() const {
  std::lock_guard<std::mutex> lock(mu_);
  KvCommands commands;
  commands.sent = commands_;
  return commands;
}

void FakeKvClient::AddOtherClients(int64_t commands, int64_t active) {
  std::lock_guard<std::mutex> lock(mu_);
  other_commands_ += commands;
  other_active_ = active;
}

absl::StatusOr<int64_t> FakeKvClient::DbSize() {
  if (absl::Status s = Enter(KvMethod::kDbSize); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int64_t>(map_.size());
}

void FakeKvClient::set_process_id(std::optional<int64_t> pid) {
  std::lock_guard<std::mutex> lock(mu_);
  process_id_ = pid;
}

void FakeKvClient::set_uptime_s(int64_t uptime_s) {
  std::lock_guard<std::mutex> lock(mu_);
  uptime_s_ = uptime_s;
}

void FakeKvClient::ClearFailures() {
  ClearFaults();
  std::lock_guard<std::mutex> lock(mu_);
  broken_ = false;
}

void FakeKvClient::set_emulate_broken(bool on) {
  std::lock_guard<std::mutex> lock(mu_);
  emulate_broken_ = on;
}

void FakeKvClient::set_before(std::function<void(KvMethod method, std::string_view key)> before) {
  auto hook = before ? std::make_shared<const std::function<void(KvMethod, std::string_view)>>(
                           std::move(before))
                     : nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  before_ = std::move(hook);
}

void FakeKvClient::set_after_get(
    std::function<void(std::string_view key, const std::string* value)> after_get) {
  auto hook =
      after_get ? std::make_shared<const std::function<void(std::string_view, const std::string*)>>(
                      std::move(after_get))
                : nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  after_get_ = std::move(hook);
}

bool FakeKvClient::Contains(std::string_view key) const {
  std::lock_guard<std::mutex> lock(mu_);
  return FindLive(key) != nullptr;
}

std::optional<std::string> FakeKvClient::Peek(std::string_view key) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Entry* e = FindLive(key);
  if (e == nullptr) return std::nullopt;
  return e->value;
}

std::optional<int64_t> FakeKvClient::LastTtlMs(std::string_view key) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Entry* e = FindLive(key);
  if (e == nullptr) return std::nullopt;
  return e->ttl_ms;
}

int64_t FakeKvClient::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t n = 0;
  const int64_t now = NowNs();
  for (const auto& [key, e] : map_) n += (now <= e.expire_at_ns) ? 1 : 0;
  return n;
}

}  // namespace cabench

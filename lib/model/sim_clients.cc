#include "lib/model/sim_clients.h"

#include "lib/workload/workload.h"

namespace cabench {

SimKv::SimKv(const int64_t* now_ns, const Options& options)
    : now_ns_(now_ns), options_(options), rng_(options.seed) {}

int32_t SimKv::Intern(std::string_view key) {
  auto it = ids_.find(key);
  if (it != ids_.end()) return it->second;
  const auto id = static_cast<int32_t>(entries_.size());
  entries_.emplace_back();
  ids_.emplace(std::string(key), id);
  return id;
}

void SimKv::Use(int32_t id) {
  Entry& e = entries_[static_cast<size_t>(id)];
  const bool sorted = options_.eviction == Eviction::kLfu && e.slot >= 0;
  if (sorted) lfu_.erase(LfuKey(e.uses, e.last_use, id));
  ++e.uses;
  e.last_use = ++tick_;
  if (sorted) lfu_.insert(LfuKey(e.uses, e.last_use, id));
}

void SimKv::LruUnlink(int32_t id) {
  Entry& e = entries_[static_cast<size_t>(id)];
  if (e.prev >= 0) {
    entries_[static_cast<size_t>(e.prev)].next = e.next;
  } else {
    lru_head_ = e.next;
  }
  if (e.next >= 0) {
    entries_[static_cast<size_t>(e.next)].prev = e.prev;
  } else {
    lru_tail_ = e.prev;
  }
  e.prev = e.next = -1;
}

void SimKv::LruPushFront(int32_t id) {
  Entry& e = entries_[static_cast<size_t>(id)];
  e.prev = -1;
  e.next = lru_head_;
  if (lru_head_ >= 0) entries_[static_cast<size_t>(lru_head_)].prev = id;
  lru_head_ = id;
  if (lru_tail_ < 0) lru_tail_ = id;
}

void SimKv::Hold(int32_t id) {
  Entry& e = entries_[static_cast<size_t>(id)];
  e.slot = static_cast<int64_t>(held_.size());
  held_.push_back(id);
  ++held_count_;
  if (!bounded()) return;
  LruPushFront(id);
  if (options_.eviction == Eviction::kLfu) lfu_.insert(LfuKey(e.uses, e.last_use, id));
}

void SimKv::Drop(int32_t id) {
  Entry& e = entries_[static_cast<size_t>(id)];
  // Swap-remove from held_.
  const int32_t last = held_.back();
  held_[static_cast<size_t>(e.slot)] = last;
  entries_[static_cast<size_t>(last)].slot = e.slot;
  held_.pop_back();
  e.slot = -1;
  --held_count_;
  if (!bounded()) return;
  LruUnlink(id);
  if (options_.eviction == Eviction::kLfu) lfu_.erase(LfuKey(e.uses, e.last_use, id));
}

void SimKv::DropExpired() {
  while (!expiries_.empty() && expiries_.top().first < *now_ns_) {
    const auto [expiry, id] = expiries_.top();
    expiries_.pop();
    const Entry& e = entries_[static_cast<size_t>(id)];
    if (e.slot >= 0 && e.expiry_ns == expiry) Drop(id);
  }
}

void SimKv::CompactExpiries() {
  // Stale elements pile up when keys are SET again long before they expire;
  // rebuild from the held keys when they outnumber them.
  if (static_cast<int64_t>(expiries_.size()) <= 4 * held_count_ + 1024) return;
  std::vector<ExpiryKey> fresh;
  fresh.reserve(held_.size());
  for (int32_t id : held_) fresh.emplace_back(entries_[static_cast<size_t>(id)].expiry_ns, id);
  expiries_ = decltype(expiries_)(std::greater<ExpiryKey>(), std::move(fresh));
}

bool SimKv::EvictOne() {
  int32_t victim = -1;
  switch (options_.eviction) {
    case Eviction::kLru:
      victim = lru_tail_;
      break;
    case Eviction::kRandom:
      victim = held_[UniformBelow(rng_, held_.size())];
      break;
    case Eviction::kLfu:
      victim = std::get<2>(*lfu_.begin());
      break;
    case Eviction::kTtl:
      while (victim < 0) {
        const auto [expiry, id] = expiries_.top();
        expiries_.pop();
        const Entry& e = entries_[static_cast<size_t>(id)];
        if (e.slot >= 0 && e.expiry_ns == expiry) victim = id;
      }
      break;
    case Eviction::kNone:
      return false;
  }
  Drop(victim);
  ++evictions_;
  return true;
}

bool SimKv::IsLive(std::string_view key) const {
  auto it = ids_.find(key);
  if (it == ids_.end()) return false;
  const Entry& e = entries_[static_cast<size_t>(it->second)];
  return e.slot >= 0 && Live(e);
}

absl::StatusOr<bool> SimKv::Get(std::string_view key, std::string* value) {
  const int32_t id = Intern(key);
  Use(id);
  Entry& e = entries_[static_cast<size_t>(id)];
  bool live = false;
  if (e.slot >= 0) {
    live = Live(e);
    if (!live) {
      Drop(id);
    } else if (bounded()) {
      LruUnlink(id);
      LruPushFront(id);
    }
  }
  last_missed_ = live ? -1 : id;
  // Any value is a hit to CacheAside; the content is irrelevant here.
  value->clear();
  if (live) value->push_back('-');
  return live;
}

absl::Status SimKv::Set(std::string_view key, std::string_view, int64_t ttl_ms) {
  if (ttl_ms <= 0) return absl::InvalidArgumentError("SimKv: ttl_ms must be > 0");
  const int32_t id = Intern(key);
  if (id != last_missed_) Use(id);
  last_missed_ = -1;
  if (!nx_values_.empty()) nx_values_.erase(id);
  const int64_t expiry = *now_ns_ + ttl_ms * 1000000;
  if (entries_[static_cast<size_t>(id)].slot < 0) {
    if (bounded() && held_count_ >= options_.capacity_keys) {
      DropExpired();
      if (held_count_ >= options_.capacity_keys && !EvictOne()) {
        return absl::InternalError(
            "OOM command not allowed when used memory > 'maxmemory' (SimKv noeviction)");
      }
    }
    Hold(id);
  } else if (bounded()) {
    LruUnlink(id);
    LruPushFront(id);
  }
  entries_[static_cast<size_t>(id)].expiry_ns = expiry;
  if (bounded()) {
    expiries_.emplace(expiry, id);
    CompactExpiries();
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> SimKv::SetIfAbsent(std::string_view key, std::string_view value,
                                        int64_t ttl_ms) {
  if (ttl_ms <= 0) return absl::InvalidArgumentError("SimKv: ttl_ms must be > 0");
  const int32_t id = Intern(key);
  const int32_t missed = last_missed_;
  const Entry& e = entries_[static_cast<size_t>(id)];
  absl::StatusOr<bool> set = false;
  if (e.slot < 0 || !Live(e)) {
    absl::Status s = Set(key, value, ttl_ms);
    set = s.ok() ? absl::StatusOr<bool>(true) : absl::StatusOr<bool>(s);
    if (s.ok()) nx_values_[id] = std::string(value);
  } else {
    if (id != missed) Use(id);
    if (bounded()) {
      LruUnlink(id);
      LruPushFront(id);
    }
  }
  // Set forgot the missed key; a lock on another key must not (see the header).
  last_missed_ = id == missed ? -1 : missed;
  return set;
}

absl::Status SimKv::Del(std::string_view key) {
  last_missed_ = -1;
  auto it = ids_.find(key);
  if (it != ids_.end() && entries_[static_cast<size_t>(it->second)].slot >= 0) Drop(it->second);
  return absl::OkStatus();
}

absl::StatusOr<bool> SimKv::DelIfEquals(std::string_view key, std::string_view value) {
  last_missed_ = -1;  // as Del
  auto it = ids_.find(key);
  if (it == ids_.end()) return false;
  const int32_t id = it->second;
  const Entry& e = entries_[static_cast<size_t>(id)];
  auto held = nx_values_.find(id);
  if (e.slot < 0 || !Live(e) || held == nx_values_.end() || held->second != value) return false;
  Drop(id);
  nx_values_.erase(held);
  return true;
}

absl::StatusOr<int64_t> SimKv::DeletePrefix(std::string_view) { return 0; }

absl::Status SimSql::QueryBookingCount(int64_t, BookingCount* result) {
  result->found = true;
  result->count = 1;
  return absl::OkStatus();
}

absl::StatusOr<int64_t> SimSql::InsertBooking(const NewBooking&) { return ++next_id_; }

absl::StatusOr<int64_t> SimSql::Execute(std::string_view) { return 0; }

absl::StatusOr<std::optional<std::vector<std::optional<std::string>>>> SimSql::QueryRow(
    std::string_view) {
  return std::optional<std::vector<std::optional<std::string>>>();
}

}  // namespace cabench

#include "lib/servers/server_sampler.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace cabench {

ServerSampler::ServerSampler(ServerStatsReader* reader) : ServerSampler(reader, Options()) {}

ServerSampler::ServerSampler(ServerStatsReader* reader, Options options)
    : reader_(reader), options_(std::move(options)) {}

ServerSampler::~ServerSampler() { Join(); }

void ServerSampler::Start() {
  if (thread_.joinable()) return;
  samples_.clear();
  after_ = ServerSnapshot();
  before_ = reader_->Read();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = false;
  }
  thread_ = std::thread(&ServerSampler::Loop, this);
}

void ServerSampler::Stop() {
  if (!thread_.joinable()) return;
  Join();
  after_ = reader_->Read(/*last=*/true);
}

void ServerSampler::Join() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void ServerSampler::Loop() {
  std::shared_ptr<void> scope;
  if (options_.thread_scope) scope = options_.thread_scope();
  const int64_t period_ns = std::max<int64_t>(1, options_.period_ms) * 1000000;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    // Read just after the next multiple of the period in epoch time, so that
    // with a 1 s period each read opens a whole second (ServerSeconds()).
    // The condition variable waits on the steady clock; re-checking the wall
    // clock keeps a read from starting before its boundary.
    const int64_t next = (absl::ToUnixNanos(absl::Now()) / period_ns + 1) * period_ns;
    for (int64_t now = absl::ToUnixNanos(absl::Now()); !stop_ && now < next;
         now = absl::ToUnixNanos(absl::Now())) {
      wake_.wait_for(lock, std::chrono::nanoseconds(next - now));
    }
    if (stop_) break;
    lock.unlock();
    samples_.push_back(reader_->Read());
    lock.lock();
  }
}

ServerCounters ServerSampler::Counters(const OwnTotals& own, int64_t ops, double wall_s) const {
  return RunServerCounters(before_, after_, samples_, own, ops, wall_s);
}

std::vector<ServerSecond> ServerSampler::Seconds() const {
  return ServerSeconds(before_, samples_, after_);
}

}  // namespace cabench

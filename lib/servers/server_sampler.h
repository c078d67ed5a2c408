// File: lib/servers/server_sampler.h
//
// ServerSampler reads a ServerStatsReader before a run, about once a second
// during it (on a thread of its own), and after it, so that a run can report
// what the servers spent in total (Counters()) and second by second
// (Seconds()), and the most database connections seen at once.
//
//   ServerSampler sampler(&reader);
//   sampler.Start();          // reads `before`, starts the sampling thread
//   ... the run ...
//   sampler.Stop();           // stops the thread at once, reads `after`
//   ServerCounters counters = sampler.Counters(own_work.Totals(), ops, wall_s);
//   std::vector<ServerSecond> seconds = sampler.Seconds();
//
// Not perturbing the run: the thread reads at most once a period (default a
// second), just after each whole multiple of the period in epoch time, on the
// reader's own connections; between reads it sleeps on a condition variable,
// so Stop() never waits for the next period. Stop() waits only for a read in
// progress, which the reader's client timeouts bound. All reads, before and
// after included, go through the one reader, so the counts subtract every
// statement and command the sampler sent.
//
// Ownership: the sampler does not own the reader, which must outlive it and
// must not be used by anyone else from Start() to Stop().
// Thread safety: Start(), Stop() and the accessors must not be called
// concurrently with each other (one controlling thread at a time, which may
// change between runs); the sampling thread is internal.
#ifndef CABENCH_LIB_SERVERS_SERVER_SAMPLER_H_
#define CABENCH_LIB_SERVERS_SERVER_SAMPLER_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "lib/servers/server_stats.h"

namespace cabench {

class ServerSampler {
 public:
  struct Options {
    // Time between reads during the run, in milliseconds (at least 1).
    int64_t period_ms = 1000;
    // Called once at the start of the sampling thread; what it returns is
    // destroyed when the thread ends. With a MySQL SqlClient in the reader,
    // give it [] { return std::make_shared<MysqlThreadScope>(); }.
    std::function<std::shared_ptr<void>()> thread_scope;
  };

  // `reader` must outlive the sampler.
  explicit ServerSampler(ServerStatsReader* reader);
  ServerSampler(ServerStatsReader* reader, Options options);
  ServerSampler(const ServerSampler&) = delete;
  ServerSampler& operator=(const ServerSampler&) = delete;
  // Stops the thread if it still runs (without reading `after`).
  ~ServerSampler();

  // Forgets the previous run, reads `before` in the calling thread and starts
  // the sampling thread. Does nothing if already started. Never fails.
  void Start();

  // Stops the sampling thread (promptly, see above) and reads `after` in the
  // calling thread (the run's last read: it also counts the run's keys).
  // Does nothing if not started. Never fails.
  void Stop();

  // After Stop(): the snapshots of the run, in time order.
  const ServerSnapshot& before() const { return before_; }
  const std::vector<ServerSnapshot>& samples() const { return samples_; }
  const ServerSnapshot& after() const { return after_; }

  // After Stop(): RunServerCounters() (with the run's own work between
  // Start() and Stop(), own_work.h) and ServerSeconds() of the run.
  ServerCounters Counters(const OwnTotals& own, int64_t ops, double wall_s) const;
  std::vector<ServerSecond> Seconds() const;

 private:
  void Loop();
  // Stops and joins the thread.
  void Join();

  ServerStatsReader* const reader_;
  const Options options_;
  ServerSnapshot before_;
  ServerSnapshot after_;
  // Written by the sampling thread only while it runs, read after Join().
  std::vector<ServerSnapshot> samples_;
  std::thread thread_;
  // std::mutex, not absl::Mutex: Debian's prebuilt libabsl is not built for
  // ThreadSanitizer (see lib/testing/fake_kv_client.h).
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace cabench

#endif  // CABENCH_LIB_SERVERS_SERVER_SAMPLER_H_

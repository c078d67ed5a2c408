#!/usr/bin/env python3
"""End-to-end tests of the cabench suite against real servers.

Run by ctest (label `integration`) after `tools/servers start` and
`cabench_load --preset=small`; endpoints come from CABENCH_* variables.

  suite_integration_test.py CABENCH CABENCH_LOAD SCENARIOS_DIR

Checks:
  * every scenario runs in a smoke configuration and yields every counter
    that applies to it (a run without a cache has no hit rate), with a time
    series and a histograms file per benchmark run; throughput is operations
    over wall time (ops_per_s x wall_s = ops);
  * the booking count is identical before and after a run;
  * at the documented configuration the hit rates of concurrency, read_heavy
    and random_balanced are within 2 points of the model's prediction and of
    the published figures the scenario files quote;
  * zipf_lru and hotspot (skewed popularity into a memory-bounded cache) are
    within 3 points of the model's prediction, every miss has one cause, and
    the cache's memory settings are restored; a cache tools/servers did not
    start is not reconfigured without --allow_cache_config (those scenarios
    are left out, the others run);
  * stampedes: a cold start of 100 hot keys with 16 threads fills keys twice
    (dup_fills) with many database reads in flight; under single flight no
    fill is duplicated except after a wait that ran out, and waiting misses
    read no row; stale reads: with writes that leave the cache alone
    (ttl_only), a long TTL serves stale values and a 100 ms one far fewer,
    and the stale share is an interval (certain .. certain + uncertain);
    warm-up until steady reports what it did;
  * Google Benchmark's compare.py accepts two runs' JSON files.
"""
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import unittest

CABENCH, CABENCH_LOAD, SCENARIOS = sys.argv[1:4]
del sys.argv[1:4]

# Counters every run has, and those only runs with a cache have (names from
# lib/metrics/names.def).
EVERY_RUN = ["ops", "reads", "writes", "db_reads", "errors", "ops_per_s", "wall_s",
             "db_reads_in_flight_max",
             "db_avg_us", "db_p99_us", "p50_us", "p95_us", "p99_us", "p999_us",
             "select_avg_us", "bookings_removed"]
# ... and those of runs with writes:
WITH_WRITES = ["write_p99_us", "insert_avg_us"]
WITH_CACHE = ["cache_hits", "cache_misses", "fallback_reads", "hit_rate_pct",
              "predicted_hit_rate_pct", "get_avg_us", "key_universe", "miss_cold",
              "miss_expired", "miss_invalidated", "miss_evicted", "dup_fills",
              "stale_reads", "stale_reads_uncertain"]
MISS_CAUSES = ["miss_cold", "miss_expired", "miss_invalidated", "miss_evicted"]
# ... and, when the run had both hits and misses:
WITH_HITS_AND_MISSES = ["hit_avg_us", "speedup", "miss_vs_hit", "hit_p99_us", "miss_p99_us",
                        "set_avg_us", "stale_read_pct", "stale_read_max_pct",
                        "db_reads_per_miss"]
NO_CACHE_ONLY = ["db_read_p99_us", "db_read_avg_us"]
SERIES_KEYS = ["count", "total_time_us", "avg_time_us", "min_time_us",
               "max_time_us", "reads", "writes", "cache_hits", "cache_misses",
               "errors", "db_reads", "fallback_reads", "db_avg_us", "hit_avg_us",
               "hit_p99_us", "miss_avg_us", "db_read_avg_us", "write_p99_us"]
# The fewest samples that bound a percentile at 95% (lib/metrics/order_stats.h;
# q^n <= 0.025): with fewer, cabench reports no number for it.
MIN_SAMPLES = {"p50": 6, "p95": 72, "p99": 368, "p999": 3688}


def percentile_samples(b, key):
    """(samples, percentile) behind a percentile counter of run `b`, else None."""
    m = re.match(r"^(?:(hit|miss|write|db_read|db)_)?(p50|p95|p99|p999)_us$", key)
    if not m:
        return None
    samples = {None: b["reads"] + b["writes"], "hit": b.get("cache_hits", 0),
               "miss": b.get("cache_misses", 0), "write": b["writes"], "db_read": b["db_reads"],
               "db": b["db_reads"] + b.get("cache_misses", 0) + b.get("fallback_reads", 0)
               + b["writes"]}[m.group(1)]
    return samples, m.group(2)


# The published hit rates the scenario files quote (scenarios/*.yaml).
REFERENCE = {"concurrency": 75.6, "read_heavy": 99.5, "random_balanced": 40.5}


def run_cabench(out_dir, *flags):
    json_path = os.path.join(out_dir, "cabench.json")
    cmd = [CABENCH, "--scenarios=" + SCENARIOS, "--out_dir=" + out_dir,
           "--benchmark_out=" + json_path, "--benchmark_out_format=json", *flags]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise AssertionError("cabench failed (%d): %s\n%s" %
                             (proc.returncode, " ".join(cmd), proc.stderr[-3000:]))
    with open(json_path) as f:
        return json.load(f), proc


def booking_count():
    proc = subprocess.run([CABENCH_LOAD, "--verify"], capture_output=True, text=True,
                          timeout=600)
    if proc.returncode != 0:
        raise AssertionError("cabench_load --verify failed: " + proc.stderr)
    m = re.search(r"bookings: (\d+)", proc.stdout + proc.stderr)
    if not m:
        raise AssertionError("no booking count in: " + proc.stdout + proc.stderr)
    return int(m.group(1))


def cache_host_port():
    m = re.match(r"redis://([^:/]+):(\d+)", os.environ["CABENCH_CACHE_URL"])
    return m.group(1), m.group(2)


def cache_config():
    """The cache's maxmemory and maxmemory-policy, read with redis-cli."""
    host, port = cache_host_port()
    out = {}
    for key in ("maxmemory", "maxmemory-policy"):
        proc = subprocess.run(["redis-cli", "-h", host, "-p", port, "CONFIG", "GET",
                               key], capture_output=True, text=True, timeout=30)
        out[key] = proc.stdout.split()[-1]
    return out


def remove_cabench_keys():
    """A memory budget is most exact on a cache that holds nothing else (other keys share
    its room): remove what earlier tests' runs left (cabench's own keys only)."""
    host, port = cache_host_port()
    keys = subprocess.run(["redis-cli", "-h", host, "-p", port, "--scan", "--pattern",
                           "cabench:*"], capture_output=True, text=True, timeout=60).stdout
    for chunk in range(0, len(keys.split()), 500):
        batch = keys.split()[chunk:chunk + 500]
        subprocess.run(["redis-cli", "-h", host, "-p", port, "UNLINK", *batch],
                       capture_output=True, timeout=60)


def scenario_of(bench):
    return bench["name"].split("/")[1]


def write_policy_of(scenario):
    """The write_policy of scenarios/<scenario>.yaml (refresh by default)."""
    with open(os.path.join(SCENARIOS, scenario.split("@")[0] + ".yaml")) as f:
        m = re.search(r"^write_policy:\s*(\w+)", f.read(), re.M)
    return m.group(1) if m else "refresh"


class SuiteTest(unittest.TestCase):

    def test_every_scenario_smoke_has_every_counter_and_series(self):
        before = booking_count()
        with tempfile.TemporaryDirectory() as out:
            report, _ = run_cabench(out, "--queries=100", "--max_warmup_ops=4000")
            benches = report["benchmarks"]
            names = {scenario_of(b) for b in benches}
            expected = {f[:-5] for f in os.listdir(SCENARIOS) if f.endswith(".yaml")}
            twins = {"concurrency", "read_heavy", "random_balanced", "steady_load",
                     "pool_exhaustion"}
            self.assertEqual(names, expected | {t + "@no_cache" for t in twins})
            # Each twin runs just before its scenario, which reports against it.
            for i, b in enumerate(benches):
                if "@no_cache" in b["name"]:
                    following = benches[i + 1]
                    self.assertEqual(following["name"], b["name"].replace("@no_cache", ""))
                    for key in ("gain_ops_x", "db_load_reduction_pct", "db_cpu_reduction_pct"):
                        self.assertIn(key, following, following["name"])
            for b in benches:
                self.assertFalse(b.get("error_occurred"), b.get("error_message"))
                self.assertEqual(b["iterations"], 100 * b["threads"], b["name"])  # summed over threads
                self.assertRegex(b["name"], r"^CacheAside/\w+(@no_cache)?/read_pct:\d+/"
                                            r"ttl_ms:\d+/access:(pool|random|zipf|hotspot|trace)"
                                            r"(/maxmemory:\w+)?(/cache_keys_pct:\d+)?(/rate:\d+)?/"
                                            r"iterations:100/real_time/threads:\d+$")
                cache = "cache_hits" in b
                expected_keys = EVERY_RUN + (WITH_CACHE if cache else NO_CACHE_ONLY)
                if b["writes"] > 0:
                    expected_keys += WITH_WRITES
                if cache and b["cache_hits"] > 0 and b["cache_misses"] > 0:
                    expected_keys += WITH_HITS_AND_MISSES
                for key in expected_keys:
                    bound = percentile_samples(b, key)
                    if bound is not None and bound[0] < MIN_SAMPLES[bound[1]]:
                        # Too few samples to bound it: absent, with its interval.
                        self.assertNotIn(key, b, "%s: %s from %d samples" % (b["name"], key,
                                                                              bound[0]))
                        self.assertNotIn(key + "_ci_lo", b, b["name"])
                        continue
                    self.assertIn(key, b, "%s lacks counter %s" % (b["name"], key))
                    if bound is not None and bound[1] != "p95" and not key.startswith("db_p"):
                        # ... and with it, its 95% interval, around it.
                        self.assertLessEqual(b[key + "_ci_lo"], b[key], b["name"])
                        self.assertGreaterEqual(b[key + "_ci_hi"], b[key], b["name"])
                if cache and b["cache_hits"] == 0:
                    self.assertNotIn("hit_avg_us", b)  # absent, never a made-up 0
                    self.assertNotIn("speedup", b)
                if not cache:
                    for key in WITH_CACHE + WITH_HITS_AND_MISSES:
                        self.assertNotIn(key, b, "%s: a run without a cache has no %s" %
                                         (b["name"], key))
                self.assertNotIn("cache_hit_avg_us", b)  # one name per number
                ops = b["reads"] + b["writes"] + b["errors"]
                self.assertEqual(ops, 100 * b["threads"], b["name"])
                self.assertEqual(b["ops"], ops, b["name"])
                self.assertEqual(b["errors"], 0, b["name"])
                served = b.get("cache_hits", 0) + b.get("cache_misses", 0) + b["db_reads"]
                self.assertEqual(served + b.get("fallback_reads", 0), b["reads"], b["name"])
                # Throughput is operations over the wall time of all threads.
                self.assertGreater(b["ops_per_s"], 0)
                self.assertAlmostEqual(b["ops_per_s"] * b["wall_s"] / b["ops"], 1.0, delta=0.01,
                                       msg=b["name"])
                # The run removed exactly what it inserted.
                self.assertEqual(b["bookings_removed"], b["writes"], b["name"])
                # What the servers counted themselves agrees with the client
                # (prepared SELECTs count in Com_select; refresh writes
                # re-SELECT).
                # Single flight's waiters read no row, early refreshes do.
                read_selects = b.get("cache_misses", 0)
                if "fill_waits" in b or "early_refreshes" in b:
                    read_selects = round(b.get("db_reads_per_miss", 0) * read_selects)
                refresh = cache and write_policy_of(scenario_of(b)) == "refresh"
                selects = (read_selects + b["db_reads"] + b.get("fallback_reads", 0)
                           + (b["writes"] if refresh else 0))
                self.assertEqual(b["db_selects"], selects, b["name"])
                self.assertEqual(b["db_inserts"], b["writes"] + b["insert_retries"], b["name"])
                if cache:
                    if "fill_waits" in b:
                        # Single flight re-reads the key after taking the
                        # lock, and waiters poll it: more GETs than reads.
                        self.assertGreaterEqual(b["cache_server_hits"], b["cache_hits"])
                    else:
                        self.assertEqual(b["cache_server_hits"], b["cache_hits"], b["name"])
                    # Every miss has exactly one cause.
                    self.assertEqual(sum(b[k] for k in MISS_CAUSES), b["cache_misses"], b["name"])
                for key in ("db_queries", "db_cpu_ms", "client_cpu_ms", "db_connections"):
                    self.assertIn(key, b, b["name"])
                if "@no_cache" in b["name"]:
                    self.assertNotIn("cache_cpu_ms", b)
                elif cache:
                    self.assertIn("cache_cpu_ms", b, b["name"])
                if scenario_of(b) in ("warm_until_steady", "cache_size_sweep"):
                    # warmup: until_steady, capped at 4,000 reads here: steady or not,
                    # it says so (test_warm_until_steady_settles runs one uncapped).
                    self.assertIn(b["steady_reached"], (0, 1), b["name"])
                    self.assertLessEqual(b["warmup_ops_done"], 4000, b["name"])
                    self.assertEqual("time_to_steady_s" in b, b["steady_reached"] == 1)
                else:
                    self.assertNotIn("steady_reached", b)
                if "pool_exhaustion" in b["name"]:
                    self.assertEqual(b["db_pool_size"], 4)
                    self.assertEqual(b["db_pool_timeouts"], 0)
                    self.assertIn("db_pool_wait_p99_us", b)
                    # 16 threads, 4 pooled connections (+ the run ledger's).
                    self.assertLessEqual(b["db_connections"], 5)
            context = report["context"]
            for key in ["cache_server", "db_server", "cabench_git_rev", "cabench_build_type",
                        "data_passengers", "data_seed", "scenarios_dir"]:
                self.assertIn(key, context)
            password = os.environ.get("CABENCH_DB_PASSWORD", "")
            pw_file = os.environ.get("CABENCH_DB_PASSWORD_FILE")
            if not password and pw_file:
                with open(pw_file) as f:
                    password = f.readline().strip()
            if password:
                self.assertNotIn(password, json.dumps(report))
            series = sorted(os.listdir(os.path.join(out, "series")))
            self.assertEqual(len([s for s in series if s.endswith(".json")]), len(benches))
            histograms = sorted(os.listdir(os.path.join(out, "histograms")))
            self.assertEqual(histograms, series)
            for name in histograms:
                with open(os.path.join(out, "histograms", name)) as f:
                    keys = set(json.load(f))
                classes = {"hit", "miss", "db_read", "fallback", "write", "error"}
                # ... and the stale reads' ages and the counts no histogram holds.
                expected = {"overall", "get", "select", "set", "insert", "del", "lock",
                            "fill_wait", "stale_age", "totals"} | classes
                if "_rate-" in name:  # open loop: the times from the intended start too
                    expected |= {"intended_" + c for c in classes} | {"start_lag"}
                self.assertEqual(keys, expected, name)
            for name in series:
                if not name.endswith(".json"):
                    continue
                with open(os.path.join(out, "series", name)) as f:
                    data = json.load(f)
                self.assertTrue(data, name)
                total = 0
                for second, bucket in data.items():
                    self.assertTrue(second.isdigit())
                    for key in SERIES_KEYS:
                        self.assertIn(key, bucket, name)
                    self.assertEqual(bucket["count"],
                                     bucket["reads"] + bucket["writes"] + bucket["errors"], name)
                    total += bucket["count"]
                self.assertGreater(total, 0)
        self.assertEqual(booking_count(), before)

    def test_documented_hit_rates_match_model_and_reference(self):
        with tempfile.TemporaryDirectory() as out:
            report, _ = run_cabench(
                out, "--benchmark_filter=^CacheAside/(concurrency|read_heavy|random_balanced)/",
                "--no_twins")
            seen = set()
            for b in report["benchmarks"]:
                name = scenario_of(b)
                self.assertNotIn("@no_cache", name)  # --no_twins
                seen.add(name)
                self.assertFalse(b.get("error_occurred"), b.get("error_message"))
                self.assertEqual(b["reads"] + b["writes"], 40000, b["name"])
                self.assertAlmostEqual(b["ops_per_s"] * b["wall_s"] / b["ops"], 1.0, delta=0.01)
                hit = b["hit_rate_pct"]
                print("%-16s hit rate %.2f%%  predicted %.2f%%  reference %.1f%%" %
                      (name, hit, b["predicted_hit_rate_pct"], REFERENCE[name]),
                      file=sys.stderr)
                self.assertLessEqual(abs(hit - b["predicted_hit_rate_pct"]), 2.0, b["name"])
                self.assertLessEqual(abs(hit - REFERENCE[name]), 2.0, b["name"])
            self.assertEqual(seen, set(REFERENCE))

    def test_skewed_popularity_in_a_bounded_cache_matches_model(self):
        remove_cabench_keys()
        before = cache_config()
        with tempfile.TemporaryDirectory() as out:
            report, _ = run_cabench(out, "--benchmark_filter=^CacheAside/(zipf_lru|hotspot)/")
            seen = set()
            for b in report["benchmarks"]:
                name = scenario_of(b)
                seen.add(name)
                self.assertFalse(b.get("error_occurred"), b.get("error_message"))
                hit, predicted = b["hit_rate_pct"], b["predicted_hit_rate_pct"]
                share = 100.0 * b["cache_capacity_keys"] / b["key_universe"]
                print("%-10s hit rate %.2f%%  predicted %.2f%%  cache %.1f%% of %d keys" %
                      (name, hit, predicted, share, b["key_universe"]), file=sys.stderr)
                # The model's margin for a sampled-LRU cache (3 points) and four
                # standard errors of a hit rate over the run's reads (3.2 points
                # off was seen once on a loaded machine).
                reads = b["cache_hits"] + b["cache_misses"]
                sampling = 4 * math.sqrt(hit * (100 - hit) / max(reads, 1))
                self.assertLessEqual(abs(hit - predicted), 3.0 + sampling, b["name"])
                # The cache was bounded: it evicted, and held a fraction of the keys.
                self.assertGreater(b["cache_evicted_keys"], 0, b["name"])
                self.assertGreater(b["miss_evicted"], 0, b["name"])
                self.assertGreater(share, 2, b["name"])
                self.assertLess(share, 50, b["name"])
                self.assertEqual(sum(b[k] for k in MISS_CAUSES), b["cache_misses"], b["name"])
            self.assertEqual(seen, {"zipf_lru", "hotspot"})
        # The cache's own settings are back as they were.
        self.assertEqual(cache_config(), before)

    def test_warm_until_steady_settles(self):
        with tempfile.TemporaryDirectory() as out:
            report, _ = run_cabench(out, "--queries=500",
                                    "--benchmark_filter=^CacheAside/warm_until_steady/")
            b, = report["benchmarks"]
            # The untimed warm-up ran until the hit rate settled.
            self.assertEqual(b["steady_reached"], 1, b)
            self.assertGreater(b["warmup_ops_done"], 0)
            self.assertEqual(b["warmup_ops_done"] % 2000, 0)
            self.assertGreater(b["time_to_steady_s"], 0)
            self.assertGreater(b["hit_rate_pct"], 80, b)

    def test_cache_size_sweep_points_hold_their_share_and_lie_in_the_model_band(self):
        # Two points of the sweep (the committed full run has all six): the room measured
        # to hold 5% and 10% of the keys, warmed up until steady with shorter windows than
        # the full sweep's. Not 1%: its room (360 keys, ~65 KB) is smaller than the swing of
        # the run's five connections' buffers, which Redis counts against maxmemory (28 to
        # 98 KB between two reads while sizing), so the share it holds at the end ranges
        # from 0.4% to 1.2% run to run; the run reports what it held.
        with open(os.path.join(SCENARIOS, "cache_size_sweep.yaml")) as f:
            text = f.read()
        text = re.sub(r"cache_keys_pct: \[.*\]", "cache_keys_pct: [5, 10]", text)
        text = re.sub(r"warmup_window_ops: \d+", "warmup_window_ops: 8000", text)
        text = re.sub(r"warmup_ops: \d+", "warmup_ops: 120000", text)
        remove_cabench_keys()
        before = cache_config()
        with tempfile.TemporaryDirectory() as out:
            folder = os.path.join(out, "scenarios")
            os.mkdir(folder)
            with open(os.path.join(folder, "cache_size_sweep.yaml"), "w") as f:
                f.write(text)
            cmd = [CABENCH, "--scenarios=" + folder, "--out_dir=" + out, "--queries=2000",
                   "--benchmark_out=" + os.path.join(out, "cabench.json"),
                   "--benchmark_out_format=json"]
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
            self.assertEqual(proc.returncode, 0, proc.stderr[-3000:])
            with open(os.path.join(out, "cabench.json")) as f:
                report = json.load(f)
            shares = []
            for b in report["benchmarks"]:
                self.assertFalse(b.get("error_occurred"), b.get("error_message"))
                pct = int(re.search(r"/cache_keys_pct:(\d+)/", b["name"]).group(1))
                share = 100.0 * b["cache_capacity_keys"] / b["key_universe"]
                hit = b["hit_rate_pct"]
                lru, rnd = b["predicted_hit_rate_pct"], b["predicted_random_hit_rate_pct"]
                print("cache_keys_pct %d: held %.2f%% of the keys, hit rate %.2f%%, band "
                      "%.2f..%.2f%%" % (pct, share, hit, rnd, lru), file=sys.stderr)
                shares.append(pct)
                # The room was measured, not guessed: within a third of the share asked
                # for. The hit rate below is judged at the share held, whatever it was.
                close = 0.67
                self.assertGreater(share, pct * close, b["name"])
                self.assertLess(share, pct * 1.5, b["name"])
                self.assertEqual(b["steady_reached"], 1, b["name"])
                # Redis's sampled LRU lies between random eviction and exact LRU.
                self.assertGreaterEqual(hit, rnd - 3.0, b["name"])
                self.assertLessEqual(hit, lru + 3.0, b["name"])
            self.assertEqual(shares, [5, 10])
        self.assertEqual(cache_config(), before)

    def test_a_cache_tools_servers_did_not_start_is_not_reconfigured(self):
        before = cache_config()
        env = dict(os.environ)
        env.pop("CABENCH_SERVERS_DIR", None)
        with tempfile.TemporaryDirectory() as out:
            proc = subprocess.run(
                [CABENCH, "--scenarios=" + SCENARIOS, "--out_dir=" + out,
                 "--benchmark_filter=^CacheAside/zipf_lru/", "--queries=10"],
                capture_output=True, text=True, timeout=300, env=env)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, proc.stderr)
        self.assertIn("zipf_lru", lines[0])
        self.assertIn("--allow_cache_config", lines[0])
        self.assertEqual(cache_config(), before)

    def test_on_a_foreign_cache_the_other_scenarios_still_run(self):
        before = cache_config()
        env = dict(os.environ)
        env.pop("CABENCH_SERVERS_DIR", None)
        with tempfile.TemporaryDirectory() as out:
            json_path = os.path.join(out, "cabench.json")
            proc = subprocess.run(
                [CABENCH, "--scenarios=" + SCENARIOS, "--out_dir=" + out,
                 "--benchmark_filter=^CacheAside/(zipf_lru|short_ttl)/", "--queries=10",
                 "--benchmark_out=" + json_path, "--benchmark_out_format=json"],
                capture_output=True, text=True, timeout=300, env=env)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertIn("cabench: not running zipf_lru sets the cache's maxmemory", proc.stderr)
            with open(json_path) as f:
                ran = {scenario_of(b) for b in json.load(f)["benchmarks"]}
        self.assertEqual(ran, {"short_ttl"})
        self.assertEqual(cache_config(), before)

    def test_stampede_and_single_flight(self):
        with tempfile.TemporaryDirectory() as out:
            report, _ = run_cabench(
                out, "--queries=1500",
                "--benchmark_filter=^CacheAside/(stampede|stampede_single_flight)/")
            runs = {scenario_of(b): b for b in report["benchmarks"]}
            plain = runs["stampede"]
            # 16 threads start on 100 empty keys at once: some fill a key
            # another thread is filling, many database reads at once.
            self.assertGreater(plain["dup_fills"], 0, plain)
            self.assertGreaterEqual(plain["db_reads_in_flight_max"], 4, plain)
            self.assertAlmostEqual(plain["db_reads_per_miss"], 1.0, delta=1e-9)
            self.assertNotIn("fill_waits", plain)
            sf = runs["stampede_single_flight"]
            # A fill is duplicated only by a reader whose wait ran out.
            self.assertLessEqual(sf["dup_fills"], sf["fill_wait_timeouts"], sf)
            self.assertGreater(sf["fill_waits"], 0, sf)
            self.assertLess(sf["db_reads_per_miss"], 1.0, sf)
            self.assertIn("fill_wait_avg_us", sf)
            self.assertIn("lock_avg_us", sf)
            self.assertEqual(sf["errors"], 0)
            # The per-second series carries the stampede figures.
            for name in os.listdir(os.path.join(out, "series")):
                with open(os.path.join(out, "series", name)) as f:
                    seconds = json.load(f).values()
                self.assertTrue(all("db_reads_in_flight_max" in b and "dup_fills" in b
                                    for b in seconds), name)
                self.assertEqual(max(b["db_reads_in_flight_max"] for b in seconds),
                                 runs["stampede_single_flight" if "single_flight" in name
                                      else "stampede"]["db_reads_in_flight_max"], name)

    def test_stale_reads_grow_with_the_ttl_when_writes_leave_the_cache(self):
        with tempfile.TemporaryDirectory() as out:
            report, _ = run_cabench(out, "--queries=2500",
                                    "--benchmark_filter=^CacheAside/stale_ttl_sweep/"
                                    "read_pct:90/ttl_ms:(100|10000)/")
            by_ttl = {int(re.search(r"/ttl_ms:(\d+)/", b["name"]).group(1)): b
                      for b in report["benchmarks"]}
            short, long = by_ttl[100], by_ttl[10000]
            for b in (short, long):
                self.assertEqual(b["errors"], 0)
                self.assertIn("stale_reads", b)
                # The stale share of hits is an interval: certain .. certain + uncertain.
                self.assertLessEqual(b["stale_read_pct"], b["stale_read_max_pct"])
                self.assertAlmostEqual(
                    b["stale_read_max_pct"],
                    100.0 * (b["stale_reads"] + b["stale_reads_uncertain"]) / b["cache_hits"],
                    places=6)
            self.assertGreater(long["stale_reads"], 0, long)
            self.assertGreater(long["stale_read_pct"], short["stale_read_pct"])
            self.assertGreater(long["hit_rate_pct"], short["hit_rate_pct"])
            # Ages are percentiles: reported once the stale reads can bound them.
            if long["stale_reads"] >= MIN_SAMPLES["p99"]:
                self.assertLessEqual(long["stale_age_p50_ms"], long["stale_age_p99_ms"])
                self.assertLess(long["stale_age_p99_ms"], 10000 + 1000)
            else:
                self.assertNotIn("stale_age_p99_ms", long)
            if long["stale_reads"] >= MIN_SAMPLES["p50"]:
                self.assertLess(long["stale_age_p50_ms"], 10000 + 1000)

    def test_compare_py_accepts_two_runs(self):
        compare = "/usr/share/benchmark/compare.py"
        self.assertTrue(os.path.exists(compare), "install libbenchmark-tools")
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            flags = ["--queries=200", "--benchmark_filter=^CacheAside/concurrency/"]
            run_cabench(a, *flags)
            run_cabench(b, *flags)
            proc = subprocess.run(
                ["/usr/bin/python3", compare, "benchmarks",
                 os.path.join(a, "cabench.json"), os.path.join(b, "cabench.json")],
                capture_output=True, text=True, timeout=300)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertIn("CacheAside/concurrency", proc.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)

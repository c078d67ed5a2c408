#!/usr/bin/env python3
"""cabench against a local Valkey/Redis Cluster, started by this test.

  cluster_integration_test.py CABENCH CABENCH_LOAD SERVERS INTEGRATION_TESTS SCENARIOS_DIR

Starts its OWN servers with `tools/servers start --cache-cluster=3` (three
primaries on consecutive ports and a database, on ports derived from its
pid; never the servers in CABENCH_*), loads the small preset, and checks:
  * the cluster client's gtest cases (ClusterClient*) pass against it;
  * every scenario, a short run each, has the hit rate the model predicts
    (within its sampling error and the model's margin, as on one server),
    spreads its commands over the three primaries, reports the routing
    counters, logs each node's commands and keeps them in its record;
  * slots moved during a run (`redis-cli --cluster reshard`) lose no
    operation (errors == 0) and show in moved_redirects/ask_redirects;
  * a node restarted during a run (tools/servers restart cache2) fails the
    operations that needed it, as a single server's restart does, and the
    threads reconnect (the faults start once the run's timed loop is under
    way, its first progress line, and the run must outlast them);
  * a slot map with holes and a server that is not a cluster are refused
    with one line (exit 1).
Stops its servers at the end.
"""
import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

CABENCH, CABENCH_LOAD, SERVERS, INTEGRATION_TESTS, SCENARIOS = sys.argv[1:6]
del sys.argv[1:6]

RUN_TIMEOUT_S = 300
# Operations per thread of each scenario in the every-scenario run.
QUERIES = 1500
ENV = {}  # CABENCH_* of our servers (set in setUpModule)
NODES = []  # the cluster's ports


def base_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("CABENCH_")}
    env.update(ENV)
    return env


def servers(*args, check=True):
    proc = subprocess.run([SERVERS, *args], capture_output=True, text=True, env=base_env(),
                          timeout=180)
    if check and proc.returncode != 0:
        raise AssertionError("tools/servers %s failed: %s" % (" ".join(args), proc.stderr))
    return proc


def cli(port, *args):
    proc = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), *args],
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise AssertionError("redis-cli %s failed: %s" % (" ".join(args), proc.stderr))
    return proc.stdout


def node_id(port):
    return cli(port, "cluster", "myid").strip()


def owned_slots(port):
    """The first slot range `port` serves, from its own CLUSTER NODES line."""
    for line in cli(port, "cluster", "nodes").splitlines():
        if "myself" in line:
            first = line.split()[8]
            lo, _, hi = first.partition("-")
            return int(lo), int(hi or lo)
    raise AssertionError("no myself line")


def setUpModule():
    global ENV, NODES
    pid = os.getpid()
    last_error = ""
    # CABENCH_CLUSTER_TEST_PORTS=CACHE,DB pins the ports (one attempt).
    pinned = os.environ.get("CABENCH_CLUSTER_TEST_PORTS")
    for attempt in range(1 if pinned else 6):
        # Three nodes from cache_port, their cluster bus ports 10000 above.
        cache_port = 21000 + (pid * 13 + attempt * 151) % 8000
        db_port = cache_port + 5
        if pinned:
            cache_port, db_port = (int(p) for p in pinned.split(","))
        ENV = {"CABENCH_CACHE_PORT": str(cache_port), "CABENCH_DB_PORT": str(db_port)}
        proc = subprocess.run([SERVERS, "start", "--cache-cluster=3"], capture_output=True,
                              text=True, env=base_env(), timeout=180)
        if proc.returncode == 0:
            break
        last_error = proc.stderr
    else:
        raise AssertionError("could not start a cluster: " + last_error)
    for line in proc.stdout.splitlines():
        m = re.match(r"export (CABENCH_\w+)=(.*)$", line)
        if m:
            ENV[m.group(1)] = m.group(2).strip("'").replace("\\,", ",")
    ENV.pop("CABENCH_DB_PASSWORD", None)
    NODES = [int(p) for p in re.findall(r":(\d+)", ENV["CABENCH_CACHE_URL"])]
    assert len(NODES) == 3, ENV["CABENCH_CACHE_URL"]
    load = subprocess.run([CABENCH_LOAD, "--preset=small"], capture_output=True, text=True,
                          env=base_env(), timeout=600)
    if load.returncode != 0:
        servers("stop", check=False)
        raise AssertionError("cabench_load failed: " + load.stderr)


def tearDownModule():
    if ENV:
        servers("stop", check=False)


def wait_cluster_ok(timeout=60):
    """Returns once every node says cluster_state:ok: a node answers
    CLUSTERDOWN for a moment after a restart or a change of its slots, and
    the next test must not start in that moment."""
    deadline = time.monotonic() + timeout
    while True:
        states = {port: re.search(r"cluster_state:(\w+)", cli(port, "cluster", "info")).group(1)
                  for port in NODES}
        if all(state == "ok" for state in states.values()):
            return
        if time.monotonic() > deadline:
            raise AssertionError("the cluster is not ok after %d s: %s" % (timeout, states))
        time.sleep(0.1)


def cabench_command(tmp, flags, scenario=None):
    """cabench's command line for a run writing into `tmp`, and its JSON's path."""
    scenarios = SCENARIOS
    if scenario is not None:
        scenarios = os.path.join(tmp, "scenarios")
        os.makedirs(scenarios)
        with open(os.path.join(scenarios, scenario["name"] + ".yaml"), "w") as f:
            f.write("".join("%s: %s\n" % kv for kv in scenario.items()))
    out = os.path.join(tmp, "cabench.json")
    return [CABENCH, "--scenarios=" + scenarios, "--out_dir=" + tmp, "--benchmark_out=" + out,
            "--benchmark_out_format=json", *flags], out


def benchmarks(out):
    if not os.path.exists(out):
        return []
    with open(out) as f:
        return json.load(f)["benchmarks"]


def run_cabench(tmp, flags, scenario=None):
    """Runs cabench to its end; returns (exit status, stderr, benchmarks)."""
    cmd, out = cabench_command(tmp, flags, scenario)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=base_env(),
                          timeout=RUN_TIMEOUT_S)
    return proc.returncode, proc.stderr, benchmarks(out)


def run_during(fault, seconds=12, rate=4000):
    """An open-loop run of `seconds` (2 threads, `rate` ops/s in all, 90%
    reads over 2,000 keys) with fault() called once its timed loop has run
    for ~2 s (its first progress line), so that the fault lands inside the
    run however long the start took; fails unless the run was still going
    when fault() returned. Returns its benchmark and stderr."""
    scenario = {"name": "cluster_fault", "threads": 2, "read_pct": 90, "pool_size": 2000,
                "queries_per_thread": seconds * rate // 2, "rate_per_s": rate,
                "key_prefix": '"cabench:cluster:"', "clean_end": "true"}
    with tempfile.TemporaryDirectory() as tmp:
        cmd, out = cabench_command(tmp, ["--no_twins"], scenario)
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True, env=base_env())
        lines = []
        looping = threading.Event()

        def read_stderr():
            for line in proc.stderr:
                lines.append(line)
                if re.search(r"cabench: CacheAside/.*: \d+% \(", line):
                    looping.set()

        reader = threading.Thread(target=read_stderr)
        reader.start()
        try:
            deadline = time.monotonic() + RUN_TIMEOUT_S
            while not looping.wait(0.1):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("no progress line from cabench (exit %s): %s" %
                                         (proc.poll(), "".join(lines)[-3000:]))
            fault()
            outlasted = proc.poll() is None
            rc = proc.wait(RUN_TIMEOUT_S)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            reader.join()
            proc.stderr.close()
        stderr = "".join(lines)
        if not outlasted:
            raise AssertionError("the %d s run ended before the fault was over: lengthen it" %
                                 seconds)
        if rc != 0:
            raise AssertionError("cabench failed (%d): %s" % (rc, stderr[-3000:]))
        (b,) = benchmarks(out)
    assert not b.get("error_occurred"), b.get("error_message")
    return b, stderr


class ClusterTest(unittest.TestCase):

    def setUp(self):
        wait_cluster_ok()

    def test_cluster_client_gtests(self):
        proc = subprocess.run([INTEGRATION_TESTS, "--gtest_filter=ClusterClientTest.*"],
                              capture_output=True, text=True, env=base_env(), timeout=120)
        self.assertEqual(proc.returncode, 0, proc.stdout[-3000:])
        self.assertRegex(proc.stdout, r"\[  PASSED  \] 5 tests")
        self.assertNotIn("SKIPPED", proc.stdout)

    def test_every_scenario_matches_the_model_as_on_one_server(self):
        # Every scenario, a short run each: the cluster serves what one server
        # does, so each hit rate is the model's within its sampling error, and the
        # primaries share the work.
        with tempfile.TemporaryDirectory() as tmp:
            rc, stderr, report = run_cabench(
                tmp, ["--no_twins", "--allow_cache_config", "--queries=%d" % QUERIES,
                      "--max_warmup_ops=%d" % QUERIES])
            news = [line for line in stderr.splitlines()
                    if not re.search(r": (\d+% \(|not reported: |commands per node: )", line)]
            self.assertEqual(rc, 0, "\n".join(news)[-5000:])
            scenarios = {os.path.splitext(n)[0] for n in os.listdir(SCENARIOS)
                         if n.endswith(".yaml")}
            # A cache sized by its keys needs one server: left out, with a line.
            self.assertIn("cabench: not running cache_size_sweep sizes the cache by its keys "
                          "(cache_keys_pct), which needs one cache server", stderr)
            self.assertEqual({b["name"].split("/")[1] for b in report} |
                             {"no_cache_baseline", "cache_size_sweep"}, scenarios)
            # Alone, refused.
            rc, alone, _ = run_cabench(tmp, ["--benchmark_filter=^CacheAside/cache_size_sweep/",
                                             "--allow_cache_config"])
            self.assertEqual(rc, 2, alone)
            self.assertRegex(alone, r"^cabench: cache_size_sweep sizes the cache by its keys")
            self.assertEqual(len(alone.strip().splitlines()), 1, alone)
            # A run's commands per node in its log and in its record.
            self.assertRegex(stderr, r"commands per node: 127\.0\.0\.1:%d [\d,]+ \(\d+\.\d%%\)"
                             % NODES[0])
            routed = 0
            for name in os.listdir(os.path.join(tmp, "histograms")):
                with open(os.path.join(tmp, "histograms", name)) as f:
                    routing = json.load(f).get("routing")
                if routing is not None:
                    self.assertRegex(routing, r"^cabench-routing 1 primaries=3 .*node=")
                    routed += 1
            self.assertEqual(routed, sum("cache_hits" in b for b in report))
        checked = 0
        for b in report:
            self.assertFalse(b.get("error_occurred"), b.get("error_message"))
            self.assertEqual(b["errors"], 0, b["name"])
            if "hit_rate_pct" not in b:
                continue  # a run without a cache
            self.assertEqual(b["cluster_nodes"], 3, b["name"])
            self.assertEqual(b["moved_redirects"], 0, b["name"])
            self.assertEqual(b["ask_redirects"], 0, b["name"])
            hit, predicted = b["hit_rate_pct"], b["predicted_hit_rate_pct"]
            reads = b["cache_hits"] + b["cache_misses"]
            # Four standard errors of a hit rate over `reads` reads, and the
            # model's own margin: 2 points, 3 for a bounded (evicting) cache split
            # into three (three LRU caches of a third each).
            margin = 3.0 if b.get("cache_capacity_keys") else 2.0
            sampling = 400.0 * math.sqrt(max(predicted, 1) * max(100 - predicted, 1)) / 100 \
                / math.sqrt(max(reads, 1))
            print("%-70s hit %.2f%%  model %.2f%%  +-%.2f  nodes %.1f-%.1f%%" %
                  (b["name"][:70], hit, predicted, margin + sampling,
                   b["node_ops_min_pct"], b["node_ops_max_pct"]), file=sys.stderr)
            self.assertLessEqual(abs(hit - predicted), margin + sampling, b["name"])
            # CRC16 spreads the keys: each primary takes about a third.
            self.assertGreater(b["node_ops_min_pct"], 20, b["name"])
            self.assertLess(b["node_ops_max_pct"], 47, b["name"])
            # The server's statistics are summed over the primaries (a single
            # flight's waiters read the key again: more server hits than hits).
            if b.get("server_figures_shared") == 0 and "fill_waits" not in b:
                self.assertEqual(b["cache_server_hits"], b["cache_hits"], b["name"])
            checked += 1
        self.assertGreater(checked, 15)

    def test_a_memory_bounded_cache_is_split_over_the_primaries(self):
        before = [cli(port, "config", "get", "maxmemory") for port in NODES]
        with tempfile.TemporaryDirectory() as tmp:
            # Not without --allow_cache_config: no process_id to compare with cache.pid.
            rc, stderr, _ = run_cabench(tmp, ["--benchmark_filter=^CacheAside/zipf_lru/"])
            self.assertEqual(rc, 2, stderr)
            self.assertRegex(stderr, r"^cabench: zipf_lru sets the cache's maxmemory.*the cache "
                                     r"is a cluster")
            rc, stderr, report = run_cabench(tmp, ["--benchmark_filter=^CacheAside/zipf_lru/",
                                                   "--allow_cache_config", "--queries=8000"])
        self.assertEqual(rc, 0, stderr[-3000:])
        (b,) = report
        print("zipf_lru: hit rate %.2f%%  predicted %.2f%%  held %d keys" %
              (b["hit_rate_pct"], b["predicted_hit_rate_pct"], b["cache_capacity_keys"]),
              file=sys.stderr)
        self.assertEqual(b["errors"], 0, b)
        self.assertGreater(b["cache_evicted_keys"], 0, b)
        # Three LRU caches of a third each: the model's tolerance for skewed runs.
        self.assertLessEqual(abs(b["hit_rate_pct"] - b["predicted_hit_rate_pct"]), 3.0, b)
        self.assertEqual([cli(port, "config", "get", "maxmemory") for port in NODES], before)

    def test_slots_moved_during_a_run_lose_no_operation(self):
        src, dst = NODES[0], NODES[1]
        lo, hi = owned_slots(src)
        count = min(1000, hi - lo + 1)

        def reshard(a, b):
            cli(a, "--cluster", "reshard", "127.0.0.1:%d" % a, "--cluster-from", node_id(a),
                "--cluster-to", node_id(b), "--cluster-slots", str(count), "--cluster-yes")

        b, _ = run_during(lambda: reshard(src, dst))
        try:
            print("reshard: moved %d ask %d errors %d" %
                  (b["moved_redirects"], b["ask_redirects"], b["errors"]), file=sys.stderr)
            self.assertEqual(b["errors"], 0, b)
            self.assertGreater(b["moved_redirects"] + b["ask_redirects"], 0, b)
            self.assertEqual(b["reads"] + b["writes"], b["iterations"], b)
        finally:
            reshard(dst, src)

    def test_a_node_restarted_mid_run_is_errors_and_reconnects(self):
        b, stderr = run_during(lambda: servers("restart", "cache2"))
        print("restart: errors %d reconnects %d retries %d" %
              (b["errors"], b["reconnects"], b["cluster_retries"]), file=sys.stderr)
        self.assertGreater(b["errors_cache"], 0, b)
        self.assertEqual(b["errors_db"], 0, b)
        self.assertGreaterEqual(b["reconnects"], 1, b)
        self.assertEqual(b["reads"] + b["writes"] + b["errors"], b["iterations"], b)
        self.assertIn("operation(s) failed", stderr)
        # The other primaries kept serving: far from every operation failed.
        self.assertLess(b["errors"], b["iterations"] / 2, b)

    def test_a_slot_map_with_holes_is_refused(self):
        port = NODES[2]
        lo, _ = owned_slots(port)
        cli(port, "cluster", "delslots", str(lo))
        try:
            with tempfile.TemporaryDirectory() as tmp:
                rc, stderr, _ = run_cabench(tmp, ["--cache_url=redis-cluster://127.0.0.1:%d/0" %
                                                  port, "--benchmark_filter=^CacheAside/read_heavy/"])
        finally:
            cli(port, "cluster", "addslots", str(lo))
        self.assertEqual(rc, 1, stderr)
        lines = stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, stderr)
        self.assertRegex(lines[0], r"^cabench: .*slot map has holes: 1 of 16384 slots have no "
                                   r"node \(first: slot %d\)" % lo)

    def test_a_server_that_is_not_a_cluster_is_refused(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = shutil.which("valkey-server") or shutil.which("redis-server")
        proc = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                 "--appendonly", "no"], stdout=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True,
                                 text=True).stdout.strip() != "PONG":
                self.assertLess(time.monotonic(), deadline, "redis-server did not start")
                time.sleep(0.05)
            with tempfile.TemporaryDirectory() as tmp:
                rc, stderr, _ = run_cabench(tmp, ["--cache_url=redis-cluster://127.0.0.1:%d/0" %
                                                  port, "--benchmark_filter=^CacheAside/read_heavy/"])
        finally:
            proc.terminate()
            proc.wait(30)
        self.assertEqual(rc, 1, stderr)
        lines = stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, stderr)
        self.assertRegex(lines[0], r"^cabench: .*is not a cluster \(CLUSTER SLOTS: ERR This "
                                   r"instance has cluster support disabled\); use redis://")


if __name__ == "__main__":
    unittest.main()

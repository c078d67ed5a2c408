"""Tests of tools/capacity against a FAKE cabench (no servers, no build).

The fake (FAKE_CABENCH below, written into each test's scratch folder) takes
cabench's flags and writes Google Benchmark JSON with a synthetic latency
curve: a run's intended p99 is `base_ms` up to the curve's knee rate and grows
steeply past it, p99_ms(r) = base_ms * (1 + STEEP * (r / knee - 1)), so the
highest rate meeting an objective X is knee * (1 + (X / base_ms - 1) / STEEP).
The cache run and its no-cache twin have different knees. Options add noise
(lognormal on p99), stalls (one invocation's p99 x 100), errors, a failed run,
garbled JSON and exit codes. Every invocation's flags go to a log file.

capacity_short_ttl.json in data/ is the JSON of a run against this fake (knees
8,000/s and 1,000/s, objective 5 ms; test_fixture_is_reproducible remakes it),
so the plot form has a committed result file to draw.
"""
import json
import math
import os
import random
import sys
import unittest
import xml.etree.ElementTree as ET

from helpers import TOOLS, ToolTestCase, data, load, run_path, write_json

sys.path.insert(0, TOOLS)
from cabench_py import capacity, monotone, names  # noqa: E402

TOOL_PATH = os.path.join(TOOLS, "capacity")
FIXTURE = "capacity_short_ttl.json"
STEEP = 200.0
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

FAKE_CABENCH = r'''#!/usr/bin/python3
"""Fake cabench: synthetic open-loop results (see tools/tests/test_capacity.py)."""
import json, math, os, random, re, sys

cfg = json.load(open(os.environ["FAKE_CABENCH_CONFIG"]))
flags = {}
for a in sys.argv[1:]:
    if a == "--no_twins":
        flags["no_twins"] = "true"
        continue
    if not a.startswith("--") or "=" not in a:
        print("cabench: unknown flag '%s'" % a, file=sys.stderr); sys.exit(2)
    k, v = a[2:].split("=", 1)
    flags[k] = v
known = {"scenarios", "benchmark_filter", "rate_per_s", "queries", "out_dir", "benchmark_out",
         "benchmark_out_format", "benchmark_list_tests", "no_twins", "max_warmup_ops"}
if set(flags) - known:
    print("cabench: unknown flag", file=sys.stderr); sys.exit(2)
state = cfg["state"]
calls = json.load(open(state)) if os.path.exists(state) else []
calls.append(flags)
json.dump(calls, open(state, "w"))
n = len(calls)
if n in cfg.get("exit_code_at", []):
    print("cabench: told to fail", file=sys.stderr); sys.exit(cfg["exit_code"])
rate = int(flags.get("rate_per_s", "0"))
q = int(flags.get("queries", "10000"))
filt = re.compile(flags.get("benchmark_filter", "."))
names = []
for s, sc in sorted(cfg["scenarios"].items()):
    for t in sc["threads"]:
        tail = "read_pct:90/ttl_ms:100/access:random/%siterations:%d/real_time/threads:%d" % (
            "rate:%d/" % rate if rate else "", q, t)
        cache = "CacheAside/%s/%s" % (s, tail)
        twin = "CacheAside/%s@no_cache/%s" % (s, tail)
        if (sc.get("twin") and "no_twins" not in flags
                and (filt.search(twin) or filt.search(cache))):
            names.append((s, "no_cache", t, twin))   # registered just before the scenario
        if filt.search(cache):
            names.append((s, "cache", t, cache))
# As cabench: every planned benchmark's parameters, beside the output and in the context.
planned = {}
for s, sc in sorted(cfg["scenarios"].items()):
    for t in sc["threads"]:
        tail = "read_pct:90/ttl_ms:100/access:random/%siterations:%d/real_time/threads:%d" % (
            "rate:%d/" % rate if rate else "", q, t)
        for curve in (["no_cache"] if sc.get("twin") and "no_twins" not in flags else []) + ["cache"]:
            nm = "CacheAside/%s%s/%s" % (s, "@no_cache" if curve == "no_cache" else "", tail)
            p = {"scenario": s, "threads": t, "read_pct": 90, "ttl_ms": 100, "access": "random",
                 "cache": curve == "cache"}
            if curve == "no_cache":
                p["twin"] = True
            planned[nm] = p
if flags.get("out_dir"):
    os.makedirs(flags["out_dir"], exist_ok=True)
    with open(os.path.join(flags["out_dir"], "benchmarks.json"), "w") as f:
        json.dump({nm.replace("/", "_").replace(":", "-"): dict(p, benchmark=nm)
                   for nm, p in planned.items()}, f)
if not names:
    print("cabench: no benchmark matches --benchmark_filter='%s'" % filt.pattern,
          file=sys.stderr); sys.exit(2)
if flags.get("benchmark_list_tests") == "true":
    print("\n".join(nm for _, _, _, nm in names)); sys.exit(0)
rng = random.Random(cfg.get("seed", 1) * 100003 + n)
entries, failed = [], 0
for s, curve, t, nm in names:
    sc = cfg["scenarios"][s]
    knee, closed, base = sc["knee"][curve], sc["closed"][curve], sc["base_ms"][curve]
    e = {"name": nm, "family_index": 0, "per_family_instance_index": 0, "run_name": nm,
         "run_type": "iteration", "repetitions": 1, "repetition_index": 0, "threads": t,
         "iterations": q, "time_unit": "ns"}
    if n in cfg.get("error_occurred_at", []):
        e.update(error_occurred=True, error_message="cache server unreachable for 10 s")
        entries.append(e); failed += 1; continue
    ops = q * t
    achieved = closed if not rate else min(rate, closed / 0.98) * 0.9995
    p99 = base * (1 + sc.get("steep", 200.0) * max(0.0, rate / knee - 1)) if rate else None
    if p99 is not None:
        p99 *= math.exp(rng.gauss(0, cfg.get("noise", 0.0)))
        if n in cfg.get("stall_at", []):
            p99 *= 100
    errors = 3 if rate and sc.get("errors_above") and rate > sc["errors_above"] else 0
    wall = ops / achieved
    e.update(real_time=wall * 1e9, cpu_time=wall * 1e9, ops=ops, ops_per_s=achieved,
             wall_s=wall, errors=errors, p99_us=sc.get("service_ms", 0.5) * 1000)
    if curve == "cache":
        # As cabench: warmup: until_steady (in the scenario file, capped by
        # --max_warmup_ops) starts the run at its steady hit rate; from a flush it is lower.
        with open(os.path.join(flags["scenarios"], s + ".yaml")) as f:
            steady = re.search(r"^warmup: until_steady$", f.read(), re.M)
        if steady and "max_warmup_ops" in flags:
            e.update(hit_rate_pct=90.0, steady_reached=1,
                     warmup_ops_done=min(45000, int(flags["max_warmup_ops"])))
        else:
            e["hit_rate_pct"] = 55.0
    if rate:
        e.update(target_rate_per_s=rate, target_missed=1 if achieved < 0.99 * rate else 0,
                 late_ops=0, intended_p50_us=p99 * 300, intended_p99_us=p99 * 1000,
                 intended_p999_us=p99 * 2000, db_queries_per_s=achieved * 0.1)
    entries.append(e)
out = flags.get("benchmark_out")
if out:
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out, "w") as f:
        if n in cfg.get("garble_at", []):
            f.write('{"context": {"date": "x"}, "benchmarks": [')
        else:
            json.dump({"context": {"cabench_git_rev": "fake", "cabench_build_type": "Release",
                                   "data_preset": "small", "out_dir": flags.get("out_dir", "")},
                       "benchmarks": entries}, f)
sys.exit(1 if failed else 0)
'''


def crossing(knee, base_ms, objective_ms, steep=STEEP):
    """The highest rate whose noise-free p99 meets the objective."""
    return knee * (1 + (objective_ms / base_ms - 1) / steep)


def scenario(knee_cache=8000, knee_twin=1000, twin=True, threads=(4,), base_ms=1.0,
             service_ms=0.5, **extra):
    sc = {"threads": list(threads), "twin": twin,
          "knee": {"cache": knee_cache, "no_cache": knee_twin},
          "closed": {"cache": knee_cache * 1.3, "no_cache": knee_twin * 1.3},
          "base_ms": {"cache": base_ms, "no_cache": base_ms}, "service_ms": service_ms}
    sc.update(extra)
    return sc


class CapacityTest(ToolTestCase):
    TOOL = "capacity"

    def setUp(self):
        super().setUp()
        self.bin = os.path.join(self.tmp, "bin")
        os.makedirs(self.bin)
        self.fake = os.path.join(self.bin, "cabench")
        with open(self.fake, "w") as f:
            f.write(FAKE_CABENCH)
        with open(os.path.join(self.bin, "cabench_load"), "w") as f:
            f.write("#!/bin/sh\necho loaded \"$@\"\n")
        for name in ("cabench", "cabench_load"):
            os.chmod(os.path.join(self.bin, name), 0o755)
        self.scenarios = os.path.join(self.tmp, "scenarios")
        os.makedirs(self.scenarios)
        self.state = os.path.join(self.tmp, "calls.json")
        self.out = os.path.join(self.tmp, "out")

    def configure(self, scenarios=None, **cfg):
        scenarios = scenarios or {"short_ttl": scenario()}
        for name in scenarios:
            with open(os.path.join(self.scenarios, name + ".yaml"), "w") as f:
                f.write(f"name: {name}\n")
        cfg.update(scenarios=scenarios, state=self.state)
        self.config = write_json(self.tmp, "fake.json", cfg)

    def capacity(self, *args, env=None):
        full = {"FAKE_CABENCH_CONFIG": self.config, "CABENCH_CACHE_URL": "redis://127.0.0.1:1/0",
                "CABENCH_DB_URL": "mysql://cabench@127.0.0.1:1/cabench",
                "MPLCONFIGDIR": os.path.join(self.tmp, "mpl"), "NO_COLOR": "1"}
        full.update(env or {})
        return run_path(TOOL_PATH, *args, env=full)

    def search(self, *args, scenario_name="short_ttl", p99="5", env=None):
        return self.capacity(scenario_name, f"--p99-ms={p99}", f"--cabench={self.fake}",
                             f"--scenarios={self.scenarios}", f"--out={self.out}",
                             "--color=never", *args, env=env)

    def result(self):
        with open(os.path.join(self.out, "capacity.json")) as f:
            return json.load(f)

    def calls(self):
        with open(self.state) as f:
            return json.load(f)

    def assert_within_resolution(self, curve, expected, growth=1.5, steps=3, slack=0.0):
        """The capacity is the last passing rate below the first failing one, and the
        bisection brought that bracket to the resolution it promises."""
        cap = curve["capacity"]["rate_per_s"]
        hi = curve["lowest_failing_rate_per_s"]
        self.assertIsNotNone(hi, curve)
        self.assertLessEqual(cap, expected * (1 + slack), curve)
        self.assertGreater(hi, expected * (1 - slack), curve)
        self.assertLessEqual(hi - cap, math.ceil(cap * (growth - 1) / 2 ** steps) + 1, curve)
        self.assertEqual(curve["resolution_per_s"], hi - cap)

    # -- the search

    def test_finds_each_knee_within_the_bisection_resolution(self):
        self.configure()
        proc = self.search()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        doc = self.result()
        want = {"cache": crossing(8000, 1.0, 5.0), "no_cache": crossing(1000, 1.0, 5.0)}
        for key, expected in want.items():
            curve = doc["curves"][key]
            self.assertEqual(curve["status"], "found", curve)
            self.assertTrue(curve["confirmed"], curve)
            self.assert_within_resolution(curve, expected)
            # Each curve starts at 25% of its closed-loop ops_per_s.
            closed = doc["calibration"][key]["ops_per_s"]
            self.assertEqual(curve["start_rate_per_s"], round(0.25 * closed))
        ratio = doc["ratio"]
        self.assertEqual(ratio["bound"], "exact")
        self.assertAlmostEqual(ratio["value"], doc["curves"]["cache"]["capacity"]["rate_per_s"]
                               / doc["curves"]["no_cache"]["capacity"]["rate_per_s"])
        self.assertAlmostEqual(ratio["value"], 8.0, delta=0.8)
        # The table on stdout.
        self.assertIn("Capacity of short_ttl, 4 threads", proc.stdout)
        self.assertIn("intended p99 <= 5 ms", proc.stdout)
        for key in ("cache", "no_cache"):
            cap = doc["curves"][key]["capacity"]["rate_per_s"]
            row = [ln for ln in proc.stdout.splitlines()
                   if ln.strip().startswith(capacity.LABELS[key])][-1]
            self.assertIn(f"{cap:,}/s", row)
            self.assertIn("found", row)
        self.assertIn(f"survives {ratio['value']:.1f} times the traffic", proc.stdout)
        # Each capacity's interval holds the planted crossing (noise-free: exact), and
        # the ratio's is cache lo / no-cache hi .. cache hi / no-cache lo.
        caps = {k: doc["curves"][k]["capacity"] for k in want}
        for key, expected in want.items():
            self.assertLessEqual(caps[key]["rate_ci_lo"], expected)
            self.assertGreater(caps[key]["rate_ci_hi"], expected)
            self.assertEqual(caps[key]["rate_ci_lo"], caps[key]["rate_per_s"])
            self.assertEqual(doc["curves"][key]["interval_note"], "")
        self.assertAlmostEqual(ratio["ci_lo"], caps["cache"]["rate_ci_lo"]
                               / caps["no_cache"]["rate_ci_hi"])
        self.assertAlmostEqual(ratio["ci_hi"], caps["cache"]["rate_ci_hi"]
                               / caps["no_cache"]["rate_ci_lo"])
        self.assertLess(ratio["ci_lo"], ratio["value"])
        self.assertGreater(ratio["ci_hi"], ratio["value"])
        self.assertIn(f"{caps['cache']['rate_ci_lo']:,}..{caps['cache']['rate_ci_hi']:,}/s",
                      proc.stdout)
        self.assertIn(f"interval {ratio['ci_lo']:.1f}..{ratio['ci_hi']:.1f}x", proc.stdout)
        # The terminal chart, with its title and the objective's line.
        self.assertIn("Intended p99 against achieved throughput", proc.stdout)
        self.assertIn("objective p99 <= 5 ms", proc.stdout)
        # One progress line per step, both curves on it.
        progress = [ln for ln in proc.stderr.splitlines() if " rate " in ln and "step" in ln]
        self.assertEqual(len(progress), len(doc["steps"]))
        self.assertTrue(all("with cache" in ln and "no cache" in ln for ln in progress))

    def test_warm_up_is_requested_unless_cold(self):
        self.configure()
        proc = self.search("--warmup-max-ops=50000")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        doc = self.result()
        warm = os.path.join(self.out, capacity.WARM_FOLDER)
        with open(os.path.join(warm, "short_ttl.yaml")) as f:
            self.assertRegex(f.read(), r"(?m)^warmup: until_steady$")
        for call in self.calls():   # the listing, the closed loop, every step
            self.assertEqual(call["scenarios"], warm)
            self.assertEqual(call["max_warmup_ops"], "50000")
        self.assertEqual(doc["search"]["warmup"], {"mode": "until_steady", "max_ops": 50000})
        for step in doc["steps"]:   # the fake's warm cache: 90% hits, steady
            if "cache" in step["runs"]:
                self.assertEqual(step["runs"]["cache"]["hit_rate_pct"], 90.0)
                self.assertEqual(step["runs"]["cache"]["steady_reached"], 1)
                self.assertEqual(step["runs"]["cache"]["warmup_ops_done"], 45000)
            if "no_cache" in step["runs"]:  # the twin: no warm-up, no hit rate
                self.assertIsNone(step["runs"]["no_cache"]["steady_reached"])
                self.assertIsNone(step["runs"]["no_cache"]["hit_rate_pct"])
        # --cold: the scenario as written, no warm-up flag; the fake's cold cache.
        os.remove(self.state)
        proc = self.search("--cold")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        doc = self.result()
        for call in self.calls():
            self.assertEqual(call["scenarios"], self.scenarios)
            self.assertNotIn("max_warmup_ops", call)
        self.assertIsNone(doc["search"]["warmup"])
        cache_runs = [s["runs"]["cache"] for s in doc["steps"] if "cache" in s["runs"]]
        self.assertTrue(cache_runs)
        for run in cache_runs:
            self.assertEqual(run["hit_rate_pct"], 55.0)
            self.assertIsNone(run["steady_reached"])

    def test_warm_scenario_replaces_the_scenarios_own_warm_up(self):
        with open(os.path.join(capacity.ROOT, "scenarios", "read_heavy.yaml")) as f:
            text = f.read()
        self.assertRegex(text, r"(?m)^warmup_ops: 40000$")
        warm = capacity.warm_scenario_text(text, "read_heavy")
        lines = warm.splitlines()
        self.assertEqual([ln for ln in lines if ln.startswith("warmup")],
                         ["warmup: until_steady"])
        # Everything else is kept, in order.
        self.assertEqual([ln for ln in lines if not ln.startswith(("warmup", "# tools/capacity",
                                                                   "# (the cap"))],
                         [ln for ln in text.splitlines() if not ln.startswith("warmup_ops")])
        self.assertIn("warmup_window_ops: 2000",
                      capacity.warm_scenario_text("name: x\nwarmup: ops\nwarmup_ops: 5\n"
                                                  "warmup_window_ops: 2000\n", "x"))

    def test_one_run_per_rate_leaves_the_interval_absent_in_the_table(self):
        # Confidence 0.5: one run decides a rate, but a bound from one run is 1/2 at
        # best, which excludes nothing.
        self.configure()
        proc = self.search("--confidence=0.5", "--max-runs=1")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        doc = self.result()
        for key, curve in doc["curves"].items():
            self.assertIsNone(curve["capacity"]["rate_ci_lo"], curve)
            self.assertIsNone(curve["capacity"]["rate_ci_hi"], curve)
            self.assertIn("no lower end: no rate passes at 50% confidence", curve["interval_note"])
        self.assertIsNone(doc["ratio"]["ci_lo"])
        self.assertIn("; no interval:", proc.stdout)
        row = [ln for ln in proc.stdout.splitlines() if ln.strip().startswith("with cache ")][-1]
        self.assertEqual(row.split()[3], "-", row)   # the interval column
        self.assertIn("with cache: interval: no lower end", proc.stdout)

    def test_a_step_of_the_cache_curve_alone_runs_without_the_twin(self):
        self.assertEqual(capacity.twin_flags([capacity.CACHE]), ["--no_twins"])
        self.assertEqual(capacity.twin_flags([capacity.CACHE, capacity.TWIN]), [])
        self.assertEqual(capacity.twin_flags([capacity.TWIN]), [])

    def test_json_records_every_step_of_both_curves(self):
        self.configure()
        proc = self.search()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        doc = self.result()
        self.assertEqual(doc["format"], capacity.FORMAT)
        self.assertEqual((doc["scenario"], doc["threads"], doc["twin"]), ("short_ttl", 4, True))
        self.assertEqual(doc["objective"]["intended_p99_ms"], 5.0)
        self.assertEqual(doc["stopped"], "done")
        self.assertEqual(doc["context"]["cabench_git_rev"], "fake")
        calls = [c for c in self.calls() if c.get("benchmark_list_tests") != "true"]
        self.assertEqual(calls[0]["rate_per_s"], "0")  # the closed-loop run
        self.assertEqual(len(doc["steps"]), len(calls) - 1)
        for step, call in zip(doc["steps"], calls[1:]):
            self.assertEqual(str(step["rate_per_s"]), call["rate_per_s"])
            self.assertEqual(step["filter"], call["benchmark_filter"])
            # A step lasts --step-seconds: Q = rate x 5 s / 4 threads, >= 1,000 operations.
            self.assertEqual(step["queries"], max(math.ceil(5 * step["rate_per_s"] / 4), 250))
            self.assertTrue(os.path.isfile(os.path.join(self.out, step["file"])))
            for key, run in step["runs"].items():
                self.assertEqual(run["target_rate_per_s"], step["rate_per_s"])
                self.assertEqual(run["passed"], not run["reasons"])
                self.assertIn(run["phase"], ("start", "grow", "bisect", "repeat", "descend",
                                             "bound", "extra"))
        # The twin alone (its own filter), and the cache run with the twin as an extra.
        twin_only = [s for s in doc["steps"] if list(s["runs"]) == ["no_cache"]]
        self.assertTrue(twin_only)
        self.assertTrue(all("@no_cache/" in s["filter"] for s in twin_only))
        extras = [s for s in doc["steps"] if s["runs"].get("no_cache", {}).get("phase") == "extra"]
        self.assertTrue(extras)
        self.assertTrue(all(s["runs"]["cache"]["phase"] != "extra" for s in extras))
        # Failing runs say why; the twin's extra runs far past its knee miss the target.
        reasons = {r for s in doc["steps"] for run in s["runs"].values() for r in run["reasons"]}
        self.assertLessEqual({"p99", "target_missed"}, reasons)
        phases = {run["phase"] for s in doc["steps"] for run in s["runs"].values()}
        self.assertLessEqual({"start", "grow", "bisect", "repeat"}, phases)
        # Every rate of a curve's own search ran until decided (3 agreeing runs at the
        # default confidence 0.8) or --max-runs (5) times.
        for key, curve in doc["curves"].items():
            own = {}
            for st in doc["steps"]:
                run = st["runs"].get(key)
                if run and run["phase"] != "extra":
                    own.setdefault(st["rate_per_s"], []).append(run["passed"])
            for rate, outcomes in own.items():
                self.assertTrue(len(outcomes) in (3, 4, 5), (key, rate, outcomes))
                self.assertEqual(len(outcomes) == 3, len(set(outcomes)) == 1, (rate, outcomes))
            fitted = {p["rate_per_s"]: p for p in curve["rates"]}
            self.assertLessEqual(set(own), set(fitted))
            self.assertEqual(sum(p["runs"] for p in curve["rates"]),
                             sum(key in st["runs"] for st in doc["steps"]))

    def test_noise_and_a_stall_are_absorbed_by_repeats(self):
        # Invocation 4 (a growth step of the twin, far below its knee) stalls: its p99
        # is 100x. The retry passes, so the stall does not end the growth there.
        self.configure(noise=0.05, seed=7, stall_at=[4])
        proc = self.search()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        doc = self.result()
        stalled = doc["steps"][1]  # invocation 4: list, closed loop, steps 1, 2
        self.assertTrue(any(not r["passed"] for r in stalled["runs"].values()), stalled)
        for key, knee in (("cache", 8000), ("no_cache", 1000)):
            # Noise of 5% on p99 moves the crossing by well under 2% of the rate.
            self.assert_within_resolution(doc["curves"][key], crossing(knee, 1.0, 5.0),
                                          slack=0.02)
        # Deciding on one run (confidence 0.5) the same stall ends that curve's growth
        # far too early.
        self.configure(noise=0.05, seed=7, stall_at=[4])
        os.remove(self.state)
        proc = self.search("--confidence=0.5", "--max-runs=1")
        self.assertIn(proc.returncode, (0, 1), proc.stderr)
        doc = self.result()
        low = [c for c in doc["curves"].values()
               if c["capacity"] and c["capacity"]["rate_per_s"] < 0.8 * (
                   1000 if c["label"].startswith("no cache") else 8000)]
        self.assertTrue(low, doc["curves"])

    def test_given_min_rate_skips_the_closed_loop_run_and_shares_steps(self):
        self.configure()
        proc = self.search("--min-rate=500", "--bisect-steps=2", "--growth=2")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        doc = self.result()
        self.assertIsNone(doc["calibration"])
        self.assertNotIn("0", [c.get("rate_per_s") for c in self.calls()])
        first = doc["steps"][0]
        self.assertEqual(first["rate_per_s"], 500)
        self.assertEqual({r["phase"] for r in first["runs"].values()}, {"start"})
        for key, knee in (("cache", 8000), ("no_cache", 1000)):
            self.assert_within_resolution(doc["curves"][key], crossing(knee, 1.0, 5.0),
                                          growth=2, steps=2)

    def test_scenario_without_a_twin_has_one_curve(self):
        self.configure({"read_heavy": scenario(twin=False, knee_cache=3000)})
        proc = self.search(scenario_name="read_heavy")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        doc = self.result()
        self.assertEqual(list(doc["curves"]), ["cache"])
        self.assertFalse(doc["twin"])
        self.assertIsNone(doc["ratio"])
        self.assertIn("one curve", proc.stderr)
        self.assertIn("no `baseline: no_cache` twin", proc.stdout)
        self.assert_within_resolution(doc["curves"]["cache"], crossing(3000, 1.0, 5.0))
        self.assertTrue(all("@no_cache" not in s["filter"] for s in doc["steps"]))

    def test_several_thread_counts_need_threads(self):
        self.configure({"thread_sweep": scenario(threads=(1, 2, 4))})
        proc = self.search(scenario_name="thread_sweep")
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertRegex(proc.stderr.splitlines()[-1], r"^tools/capacity: error: scenario "
                         r"'thread_sweep' runs at threads 1, 2, 4: choose one with --threads=N")
        self.assertEqual(len(self.calls()), 1)  # the listing only
        proc = self.search("--threads=2", "--max-seconds=60", scenario_name="thread_sweep")
        self.assertIn(proc.returncode, (0, 1), proc.stderr)
        self.assertEqual(self.result()["threads"], 2)
        self.assertTrue(all(s["filter"].endswith("/threads:2$") for s in self.result()["steps"]))

    def test_no_passing_rate_says_so_and_exits_1(self):
        # Queueing only (service time fine): the search descends 4 times, then gives up.
        self.configure({"short_ttl": scenario(base_ms=8.0)})
        proc = self.search()
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("no rate met the objective for", proc.stderr.splitlines()[-1])
        self.assertIn("NO PASSING RATE", proc.stdout)
        doc = self.result()
        for curve in doc["curves"].values():
            self.assertEqual(curve["status"], "no_passing_rate")
            self.assertIsNone(curve["capacity"])
            self.assertIn("fails even at", curve["note"])
        descents = [s for s in doc["steps"] if any(r["phase"] == "descend"
                                                   for r in s["runs"].values())]
        self.assertEqual(len({(s["rate_per_s"]) for s in descents}),
                         2 * capacity.MAX_DESCENTS)
        # The service time alone over the objective: no descent at all.
        os.remove(self.state)
        self.configure({"short_ttl": scenario(base_ms=8.0, service_ms=7.0)})
        proc = self.search()
        self.assertEqual(proc.returncode, 1, proc.stderr)
        doc = self.result()
        self.assertFalse([s for s in doc["steps"] if any(r["phase"] == "descend"
                                                         for r in s["runs"].values())])
        self.assertIn("service-time p99", doc["curves"]["cache"]["note"])

    def test_errors_fail_a_step(self):
        self.configure({"short_ttl": scenario(errors_above=2000, twin=False)})
        proc = self.search()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        doc = self.result()
        self.assert_within_resolution(doc["curves"]["cache"], 2000)
        failing = [r for s in doc["steps"] for r in s["runs"].values() if "errors" in r["reasons"]]
        self.assertTrue(failing)
        self.assertIn("3 errors", proc.stderr)

    def test_time_cap_stops_and_reports_what_it_has(self):
        self.configure()
        # The fake answers at once, so only the predicted lengths count: the cache at
        # 2,600/s (5 s, and the twin saturated at ~1,325/s, ~10 s) fits in 18 s (less
        # the time already spent, up to 3 s), and
        # the twin alone at 325/s (5 s) too, each 3 times (3 passes decide); the next
        # step (the cache growing to 3,900/s, with the twin ~15 s) does not.
        proc = self.search("--max-seconds=18")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        doc = self.result()
        self.assertEqual([s["rate_per_s"] for s in doc["steps"]], [2600, 325] * 3)
        self.assertRegex(doc["stopped"], r"^time cap: the next step \(3,900/s, about 2[0-9] s\)")
        self.assertIn("stopped early: time cap", proc.stdout)
        for curve in doc["curves"].values():  # lower bounds: neither curve failed yet
            self.assertEqual(curve["status"], "stopped")
            self.assertIsNone(curve["lowest_failing_rate_per_s"])
            self.assertEqual(curve["capacity"]["rate_per_s"], curve["start_rate_per_s"])
            self.assertEqual(curve["capacity"]["rate_ci_lo"], curve["start_rate_per_s"])
        self.assertEqual(doc["ratio"]["bound"], "unknown")
        # The cache curve never failed: no upper end, and the table says why. The twin's
        # extra runs at 2,600/s (3 fails) are fitted: they bound it although its own
        # search has not failed yet.
        self.assertIsNone(doc["curves"]["cache"]["capacity"]["rate_ci_hi"])
        self.assertIn("with cache: interval: no upper end: no rate failed", proc.stdout)
        self.assertEqual(doc["curves"]["no_cache"]["capacity"]["rate_ci_hi"], 2600)

    # -- output files and the plot form

    def assert_images(self, paths):
        for path in paths:
            self.assertTrue(os.path.isfile(path), path)
            if path.endswith(".png"):
                with open(path, "rb") as f:
                    self.assertEqual(f.read(8), PNG_SIGNATURE)
            else:
                self.assertTrue(ET.parse(path).getroot().tag.endswith("svg"))

    def test_png_and_svg_are_written(self):
        self.configure()
        json_path = os.path.join(self.tmp, "elsewhere", "mine.json")
        proc = self.search("--png", "--svg", f"--json={json_path}", "-q")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        stem = os.path.join(self.out, "mine." + capacity.IMAGE_SUFFIX)
        self.assert_images([stem + ".png", stem + ".svg"])
        self.assertTrue(os.path.isfile(json_path))
        self.assertNotIn("Intended p99 against", proc.stdout)  # -q: no terminal chart
        self.assertIn("Capacity of short_ttl", proc.stdout)

    def test_plot_redraws_a_saved_file(self):
        proc = run_path(TOOL_PATH, "plot", data(FIXTURE), "--color=never",
                        env={"MPLCONFIGDIR": os.path.join(self.tmp, "mpl")})
        self.assertEqual(proc.returncode, 0, proc.stderr)
        doc = load(FIXTURE)
        self.assertEqual("\n".join(capacity.table(doc)),
                         proc.stdout.rstrip("\n").split("\n\n")[-1])
        self.assertIn("Intended p99 against achieved throughput", proc.stdout)
        self.assertTrue(any(0x2800 < ord(c) < 0x2900 for c in proc.stdout))
        # --out alone implies --png --svg, as in tools/plot.
        out = os.path.join(self.tmp, "plots")
        proc = run_path(TOOL_PATH, "plot", data(FIXTURE), "--out", out, "-q",
                        env={"MPLCONFIGDIR": os.path.join(self.tmp, "mpl")})
        self.assertEqual(proc.returncode, 0, proc.stderr)
        stem = os.path.join(out, "capacity_short_ttl." + capacity.IMAGE_SUFFIX)
        self.assert_images([stem + ".png", stem + ".svg"])

    def test_plot_of_a_run_equals_the_run_output(self):
        self.configure()
        proc = self.search()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        replot = run_path(TOOL_PATH, "plot", os.path.join(self.out, "capacity.json"),
                          "--color=never", env={"MPLCONFIGDIR": os.path.join(self.tmp, "mpl")})
        self.assertEqual(replot.returncode, 0, replot.stderr)
        self.assertEqual(replot.stdout, proc.stdout)

    def test_fixture_is_reproducible(self):
        """data/capacity_short_ttl.json is this fake's run (its table and curves)."""
        self.configure(noise=0.03, seed=3)
        proc = self.search()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        fresh = self.result()
        if os.environ.get("CABENCH_REMAKE_FIXTURES"):  # after a change of the format
            fresh["search"].update(cabench="tools/tests/test_capacity.py's fake cabench",
                                   scenarios_dir="scenarios")
            write_json(os.path.dirname(data(FIXTURE)), FIXTURE, fresh)
        with open(data(FIXTURE)) as f:
            fixture = json.load(f)
        self.assertEqual(capacity.table(fresh), capacity.table(fixture))
        self.assertEqual([(s["rate_per_s"], sorted(s["runs"])) for s in fresh["steps"]],
                         [(s["rate_per_s"], sorted(s["runs"])) for s in fixture["steps"]])

    # -- bad input and failures: one line, exit 2 (usage, input) or 1 (a failure)

    def test_bad_arguments_exit_2_with_one_line(self):
        self.configure()
        cases = [(["short_ttl", "--p99-ms=0"], "--p99-ms must be > 0"),
                 (["short_ttl", "--p99-ms=-3"], "--p99-ms must be > 0"),
                 (["short_ttl"], "--p99-ms=X is required"),
                 (["nosuch", "--p99-ms=5"], "unknown scenario 'nosuch'"),
                 (["short_ttl", "--p99-ms=5", "--growth=1"], "--growth"),
                 (["short_ttl", "--p99-ms=5", "--preset=huge"], "--preset"),
                 (["short_ttl", "--p99-ms=5", "--confidence=1.5"],
                  "--confidence=1.5 must be between 0 and 1"),
                 (["short_ttl", "--p99-ms=5", "--confidence=0"], "--confidence=0 must be"),
                 (["short_ttl", "--p99-ms=5", "--confidence=0.95", "--max-runs=4"],
                  "--max-runs=4 cannot decide a rate at --confidence=0.95: that takes at "
                  "least 5 agreeing runs"),
                 (["short_ttl", "--p99-ms=x"], "--p99-ms"),
                 (["--frobnicate"], "frobnicate"),
                 (["plot"], "plot CAPACITY.json")]
        for args, fragment in cases:
            proc = self.capacity(*args, f"--scenarios={self.scenarios}",
                                 f"--cabench={self.fake}")
            self.assert_one_line_error(proc, fragment, code=2)
        self.assertFalse(os.path.exists(self.state))  # cabench never ran

    def test_plot_of_bad_files_exits_2(self):
        bad = write_json(self.tmp, "other.json", {"context": {}, "benchmarks": []})
        for path, fragment in ((os.path.join(self.tmp, "none.json"), "no such file"),
                               (self.truncated(FIXTURE), "not valid JSON"),
                               (bad, "not a tools/capacity result file")):
            proc = run_path(TOOL_PATH, "plot", path)
            self.assert_one_line_error(proc, fragment, code=2)

    def test_missing_cabench_exits_1(self):
        self.configure()
        proc = self.capacity("short_ttl", "--p99-ms=5", f"--scenarios={self.scenarios}",
                             f"--cabench={self.tmp}/nope/cabench")
        self.assert_one_line_error(proc, "nope/cabench is missing", code=1)
        proc = self.capacity("short_ttl", "--p99-ms=5", f"--scenarios={self.scenarios}",
                             env={"CABENCH_BUILD_DIR": os.path.join(self.tmp, "nobuild")})
        self.assert_one_line_error(proc, "nobuild/bin/cabench is missing", code=1)

    def test_build_dir_names_the_binaries(self):
        self.configure()
        proc = self.capacity("short_ttl", "--p99-ms=5", f"--scenarios={self.scenarios}",
                             f"--out={self.out}", "--min-rate=4000", "--max-seconds=30",
                             env={"CABENCH_BUILD_DIR": self.tmp})
        self.assertIn(proc.returncode, (0, 1), proc.stderr)
        self.assertIn("loaded --preset=default", proc.stderr)
        self.assertEqual(self.result()["search"]["cabench"], self.fake)

    def test_failed_steps(self):
        cases = [({"garble_at": [3]}, 1, "wrote no usable JSON"),
                 ({"error_occurred_at": [3]}, 1, "cache server unreachable"),
                 ({"exit_code_at": [3], "exit_code": 2}, 2, "cabench rejected step"),
                 ({"exit_code_at": [3], "exit_code": 3}, 1, "cabench exited 3")]
        for cfg, code, fragment in cases:
            if os.path.exists(self.state):
                os.remove(self.state)
            self.configure(**cfg)
            proc = self.search()
            self.assertEqual(proc.returncode, code, (cfg, proc.stderr))
            last = proc.stderr.strip().splitlines()[-1]
            self.assertTrue(last.startswith("tools/capacity: error: "), last)
            self.assertIn(fragment, last)

    def test_help_states_the_exit_rule(self):
        proc = run_path(TOOL_PATH, "--help")
        self.assertEqual(proc.returncode, 0)
        text = " ".join(proc.stdout.split())
        self.assertIn("Exit status (the rule of every cabench tool): 0", text)
        self.assertRegex(text, r"\b1 a failure")
        self.assertRegex(text, r"\b2 usage")


class CurveSearchTest(unittest.TestCase):
    """The search of one curve against a pass/fail oracle, without cabench."""

    def drive(self, passes, start, growth=1.5, steps=3, confidence=0.8, max_runs=5,
              service=None):
        rule = monotone.Sequential(confidence, max_runs)
        s = capacity.CurveSearch(start, growth, steps, rule, objective_us=5000)
        runs = 0
        while True:
            nxt = s.next()
            if nxt is None:
                return s, runs
            rate, phase = nxt
            runs += 1
            self.assertLess(runs, 400)
            s.add(rate, phase, {"passed": passes(rate, runs), "p99_us": service})

    def test_knees_are_bracketed_to_the_promised_resolution(self):
        for knee in (7, 100, 999, 1000, 1001, 12345, 250000):
            for start in (1, 50, 3000):
                s, _ = self.drive(lambda r, _: r <= knee, start)
                lo, hi = s.bracket()
                if knee < start / 1.5 ** capacity.MAX_DESCENTS:
                    self.assertEqual(s.status, "no_passing_rate", (knee, start))
                    continue
                self.assertEqual(s.status, "found", (knee, start))
                self.assertLessEqual(lo, knee)
                self.assertGreater(hi, knee)
                self.assertLessEqual(hi - lo, math.ceil(lo * 0.5 / 8) + 1, (knee, start, lo, hi))
                self.assertEqual(s.counts(lo), (3, 0))  # decided by 3 passes
                self.assertEqual(s.counts(hi), (0, 3))

    def test_verdicts(self):
        # Confidence 0.8, at most 5 runs: 3 agreeing runs decide; a borderline rate runs
        # to the cap and goes by its majority (a tie fails).
        s = capacity.CurveSearch(100, 1.5, 3, monotone.Sequential(0.8, 5), 5000)
        T, F = True, False
        for outcomes, verdict in (([T], None), ([T, T], None), ([T, T, T], T),
                                  ([F, F, F], F), ([T, F, T], None), ([T, F, T, T], None),
                                  ([T, F, T, T, T], T), ([T, F, T, F, T], T),
                                  ([F, T, F, T, F], F)):
            s.runs = {100: [(o, "x", None) for o in outcomes]}
            self.assertIs(s.verdict(100), verdict, outcomes)
        s.runs = {100: [(T, "x", None), (F, "x", None), (T, "x", None), (F, "x", None)]}
        s.rule = monotone.Sequential(0.8, 4)
        self.assertIs(s.verdict(100), False)   # 2 of 4 at the cap: a tie fails

    def test_sequential_stops_early_when_clear_and_repeats_when_borderline(self):
        def runs_until_decided(p_pass, seed, confidence=0.9, max_runs=9):
            rule = monotone.Sequential(confidence, max_runs)
            rng = random.Random(seed)
            passes = n = 0
            while n < max_runs:
                n += 1
                passes += rng.random() < p_pass
                if rule.decide(passes, n) is not None:
                    return n, rule.decide(passes, n)
            return n, None
        # Clear rates (p = 1, p = 0) stop at the fewest runs that can decide: 2^-4 <= 0.1.
        self.assertEqual(runs_until_decided(1.0, 1), (4, True))
        self.assertEqual(runs_until_decided(0.0, 1), (4, False))
        # Borderline rates (p = 1/2) mostly run more, and on average much more.
        lengths = [runs_until_decided(0.5, seed)[0] for seed in range(200)]
        self.assertGreater(sum(lengths) / len(lengths), 6.0)
        self.assertGreater(sum(n == 9 for n in lengths), 100)
        # The rule's error: a rate with p = 1/2 declared passing, exactly over all paths.
        for confidence, max_runs in ((0.8, 5), (0.8, 9), (0.9, 9), (0.95, 12)):
            rule = monotone.Sequential(confidence, max_runs)
            self.assertLessEqual(rule.error(rule.level), 1 - confidence + 1e-12)
        # Looking after every run at the plain level 0.2 would err more often (0.22):
        # the calibrated level is lower.
        rule = monotone.Sequential(0.8, 5)
        self.assertGreater(rule.error(0.2), 0.2)
        self.assertEqual(rule.level, 0.125)
        # Monte Carlo check of the exact figure: p = 1/2 declared passing <= 20% + noise.
        rng = random.Random(5)
        declared = 0
        for _ in range(4000):
            passes = 0
            for n in range(1, 6):
                passes += rng.random() < 0.5
                d = rule.decide(passes, n)
                if d is not None:
                    declared += d
                    break
        self.assertLess(declared / 4000, 0.2 + 0.02)

    def test_a_lucky_pass_is_caught_by_the_confirmation(self):
        # 1,400 passes once by luck, then fails: the capacity is below it.
        def passes(rate, run):
            return rate <= 1000 or (rate == 1400 and passes.lucky.pop(0))
        passes.lucky = [True, False, False, False, False]
        s, _ = self.drive(passes, 1000, growth=1.4, steps=0)
        self.assertEqual(s.bracket(), (1000, 1400))
        self.assertEqual(s.status, "found")
        self.assertEqual(s.counts(1400), (1, 4))   # undecided at --max-runs: majority

    def test_a_borderline_failing_rate_gets_a_bound_above_it(self):
        # 1,400 passes 2 of 5 (undecided: its majority fails it); 1,960 always fails. The
        # search runs 1,960 (x growth) until decided, so the interval has an upper end.
        def passes(rate, run):
            return rate <= 1000 or (rate == 1400 and passes.border.pop(0))
        passes.border = [True, False, True, False, False]
        s, _ = self.drive(passes, 1000, growth=1.4, steps=0)
        self.assertEqual(s.bracket(), (1000, 1400))
        self.assertEqual(s.counts(1400), (2, 3))
        self.assertIsNone(s.decided(1400))
        self.assertEqual(s.counts(1960), (0, 3))
        self.assertEqual(s.phases("bound"), {1960})
        self.assertEqual(s.status, "found")
        f = monotone.fit([(r, s.counts(r)[0], sum(s.counts(r))) for r in s.runs], 0.8)
        self.assertEqual((f["capacity"], f["lo"], f["hi"]), (1000, 1000, 1960))

    def test_growth_stops_at_the_largest_rate(self):
        s, _ = self.drive(lambda r, _: True, capacity.MAX_RATE // 2, growth=3)
        self.assertEqual(s.status, "max_rate")
        self.assertEqual(s.bracket(), (capacity.MAX_RATE, None))

    def test_counters_are_names_of_the_table(self):
        for counter in capacity.STEP_COUNTERS:
            self.assertTrue(names.is_known(counter), counter)

    def test_isotonic_fit_of_a_planted_non_monotone_sequence(self):
        # Pass fractions 1, 1/3, 2/3, 0 over rates 10..40, 3 runs each: PAVA pools the
        # violating pair into 1/2 (3 of 6), which is the least-squares monotone answer.
        pts = [(10, 3, 3), (20, 1, 3), (30, 2, 3), (40, 0, 3)]
        self.assertEqual(monotone.pava(pts), [(0, 0, 3, 3), (1, 2, 3, 6), (3, 3, 0, 3)])
        f = monotone.fit(pts, 0.8)
        self.assertEqual([p["p_fit"] for p in f["points"]], [1.0, 0.5, 0.5, 0.0])
        self.assertEqual(f["capacity"], 30)   # the highest rate with fitted p >= 1/2
        # Exact bounds: 3/3 -> 0.2^(1/3) = 0.585 >= 1/2 at 10; 0/3 -> 0.415 < 1/2 at 40.
        self.assertAlmostEqual(f["points"][0]["p_lo"], 0.2 ** (1 / 3))
        self.assertAlmostEqual(f["points"][3]["p_hi"], 1 - 0.2 ** (1 / 3))
        self.assertEqual((f["lo"], f["hi"]), (10, 40))
        # A longer violation chain pools back across several blocks.
        pts = [(1, 2, 2), (2, 0, 2), (3, 1, 2), (4, 2, 2), (5, 0, 2)]
        self.assertEqual([p["p_fit"] for p in monotone.fit(pts, 0.8)["points"]],
                         [1.0, 0.5, 0.5, 0.5, 0.0])
        # Already monotone (with equal neighbours): the fit is the data.
        pts = [(1, 4, 4), (2, 4, 4), (3, 2, 4), (4, 2, 4), (5, 0, 4)]
        self.assertEqual([p["p_fit"] for p in monotone.fit(pts, 0.8)["points"]],
                         [1.0, 1.0, 0.5, 0.5, 0.0])

    def test_interval_of_a_planted_curve_holds_its_threshold(self):
        # A planted pass probability falling from 1 to 0 around 1,000/s (0.5 at 1,000):
        # rates on a grid, runs drawn with that probability, the fit's interval [lo, hi)
        # must hold 1,000 at both ends' confidence; over 200 seeds the misses stay
        # below the promised 1 - (2 x 0.9 - 1) = 20%.
        def p_pass(rate):
            return min(1.0, max(0.0, 0.5 - (rate - 1000) / 400))
        grid = list(range(400, 1700, 100))
        misses = widths = 0
        for seed in range(200):
            rng = random.Random(seed)
            pts = []
            for rate in grid:
                k = sum(rng.random() < p_pass(rate) for _ in range(5))
                pts.append((rate, k, 5))
            f = monotone.fit(pts, 0.9)
            self.assertIsNotNone(f["lo"], pts)
            self.assertIsNotNone(f["hi"], pts)
            self.assertLessEqual(f["lo"], f["capacity"])
            self.assertLess(f["capacity"], f["hi"])
            misses += not (f["lo"] <= 1000 < f["hi"])
            widths += f["hi"] - f["lo"]
        self.assertLess(misses, 200 * 0.2)
        self.assertLess(widths / 200, 900)   # it bounds: well inside the 1,200 grid
        # The noise-free curve: the interval is the grid cell of the threshold's sides.
        pts = [(r, 5 if p_pass(r) >= 0.8 else 0 if p_pass(r) <= 0.2 else 2, 5) for r in grid]
        f = monotone.fit(pts, 0.9)
        self.assertEqual((f["lo"], f["hi"]), (800, 1200))
        # One run per rate cannot bound it, at any confidence: absent, with the reason.
        for confidence in (0.6, 0.8, 0.95):
            f = monotone.fit([(r, int(p_pass(r) >= 0.5), 1) for r in grid], confidence)
            self.assertEqual(f["capacity"], 1000)
            self.assertIsNone(f["lo"])
            self.assertIsNone(f["hi"])
            self.assertIn("no rate passes at", f["lo_reason"])
            self.assertIn("no rate fails at", f["hi_reason"])
        # A curve that never failed has no upper end.
        f = monotone.fit([(100, 3, 3), (200, 3, 3)], 0.8)
        self.assertEqual((f["capacity"], f["lo"], f["hi"], f["hi_reason"]),
                         (200, 200, None, "no rate failed"))

    def test_filters(self):
        both = capacity.bench_filter("short_ttl", ["cache", "no_cache"], 4)
        self.assertEqual(both, "^CacheAside/short_ttl(@no_cache)?/.*/threads:4$")
        self.assertEqual(capacity.bench_filter("s", ["no_cache"], 2),
                         "^CacheAside/s@no_cache/.*/threads:2$")
        # Which curve a benchmark is, from its recorded parameters (never its name).
        self.assertEqual(capacity.curve_of({"scenario": "s", "threads": 8, "twin": True}),
                         ("s", "no_cache", 8))
        self.assertEqual(capacity.curve_of({"scenario": "s", "threads": 4}), ("s", "cache", 4))


if __name__ == "__main__":
    unittest.main()

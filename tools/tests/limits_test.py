#!/usr/bin/env python3
"""Unit tests of tools/limits' parsing and arithmetic (no servers, no tools).

Run: python3 tools/tests/limits_test.py   (Python 3 standard library only)
"""
import contextlib
import importlib.machinery
import importlib.util
import io
import json
import os
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
LIMITS = os.path.join(os.path.dirname(HERE), "limits")


def load_limits():
    loader = importlib.machinery.SourceFileLoader("cabench_limits", LIMITS)
    spec = importlib.util.spec_from_loader("cabench_limits", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


limits = load_limits()

REDIS7_CSV = (
    '"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms",'
    '"p95_latency_ms","p99_latency_ms","max_latency_ms"\n'
    '"GET cabench:limits:rb:__rand_int__","43516.10","0.078","0.008","0.023",'
    '"0.039","2.791","8.807"\n')
REDIS6_CSV = '"GET","87642.41"\n'
MYSQLSLAP = """Benchmark
\tAverage number of seconds to run all queries: 1.543 seconds
\tMinimum number of seconds to run all queries: 1.543 seconds
\tMaximum number of seconds to run all queries: 1.543 seconds
\tNumber of clients running queries: 4
\tAverage number of queries per client: 5000

"""
TIME_V = """\tCommand being timed: "cabench"
\tMaximum resident set size (kbytes): 11576
\tExit status: 0
"""


class ParseArgsTest(unittest.TestCase):
    def test_defaults(self):
        o = limits.parse_args([])
        self.assertEqual((o["threads"], o["ops"], o["only"], o["scaling"]),
                         (4, 100000, "abcd", False))

    def test_values(self):
        o = limits.parse_args(["--threads=8", "--ops=5000", "--only=d,a", "--repeat=2",
                               "--scaling", "--threads-list=1,2,16", "--scenarios=read_heavy"])
        self.assertEqual(o["threads"], 8)
        self.assertEqual(o["ops"], 5000)
        self.assertEqual(o["only"], "ad")
        self.assertEqual(o["repeat"], 2)
        self.assertTrue(o["scaling"])
        self.assertEqual(o["threads_list"], [1, 2, 16])
        self.assertEqual(o["scenarios"], ["read_heavy"])

    def test_rejects_bad_usage(self):
        for bad in (["--threads=0"], ["--threads=x"], ["--ops=-1"], ["--only=e"],
                    ["--frobnicate"], ["--preset=huge"], ["--threads=8", "--ops=4"],
                    ["--threads-list=1,,2"], ["--scenarios=../x"], ["--json="]):
            with self.assertRaises(ValueError, msg=bad):
                limits.parse_args(bad)


class ParseOutputTest(unittest.TestCase):
    def test_redis_benchmark_csv(self):
        self.assertAlmostEqual(limits.parse_redis_benchmark_csv(REDIS7_CSV), 43516.10)
        self.assertAlmostEqual(limits.parse_redis_benchmark_csv(REDIS6_CSV), 87642.41)
        with self.assertRaises(ValueError):
            limits.parse_redis_benchmark_csv("ERROR: connection refused\n")

    def test_mysqlslap(self):
        self.assertEqual(limits.parse_mysqlslap(MYSQLSLAP), (1.543, 4, 5000))
        self.assertAlmostEqual(limits.mysqlslap_qps(MYSQLSLAP), 20000 / 1.543)
        with self.assertRaises(ValueError):
            limits.parse_mysqlslap("mysqlslap: Error when connecting to server\n")
        with self.assertRaises(ValueError):
            limits.mysqlslap_qps(MYSQLSLAP.replace("1.543 seconds", "0.000 seconds", 1))

    def test_max_rss(self):
        self.assertEqual(limits.parse_max_rss_kb(TIME_V), 11576)
        with self.assertRaises(ValueError):
            limits.parse_max_rss_kb("no such line")

    def test_micro_json_median_of_repetitions(self):
        runs = [{"name": "BM_CacheAside_Mixed/threads:1", "run_name": "BM_CacheAside_Mixed/threads:1",
                 "run_type": "iteration", "cpu_time": c, "real_time": r, "time_unit": "ns"}
                for c, r in ((130.0, 200.0), (120.0, 150.0), (140.0, 400.0))]
        runs.append({"name": "BM_CacheAside_Mixed/threads:1_mean",
                     "run_name": "BM_CacheAside_Mixed/threads:1", "run_type": "aggregate",
                     "cpu_time": 1.0, "real_time": 1.0, "time_unit": "ns"})
        text = json.dumps({"context": {}, "benchmarks": runs})
        self.assertEqual(limits.parse_micro_json(text, "BM_CacheAside_Mixed/threads:1"),
                         (130.0, 200.0, 3))
        with self.assertRaises(ValueError):
            limits.parse_micro_json(text, "BM_Other")

    def test_cabench_json(self):
        ok = {"context": {}, "benchmarks": [{"name": "CacheAside/x", "run_type": "iteration",
                                             "ops_per_s": 1234.5}]}
        self.assertEqual(limits.parse_cabench_json(json.dumps(ok))["ops_per_s"], 1234.5)
        failed = {"context": {}, "benchmarks": [{"name": "CacheAside/x", "error_occurred": True,
                                                 "error_message": "cache down"}]}
        with self.assertRaisesRegex(limits.LimitsError, "cache down"):
            limits.parse_cabench_json(json.dumps(failed))
        with self.assertRaises(ValueError):
            limits.parse_cabench_json('{"context": {}, "benchm')
        with self.assertRaisesRegex(limits.ToolError, "not Google Benchmark JSON"):
            limits.parse_cabench_json('{"hello": 1}')

    def test_cabench_json_in_todays_and_older_names(self):
        # limits reads counters by names.def's names; an older file is read through
        # the aliases (its run of read_heavy has hit_avg_us, access:pool).
        for name in ("single.json", "new_single.json"):
            with open(os.path.join(HERE, "data", name), encoding="utf-8") as f:
                doc = json.load(f)
            doc["benchmarks"] = [b for b in doc["benchmarks"] if "/read_heavy/" in b["name"]]
            run = limits.parse_cabench_json(json.dumps(doc))
            self.assertIn("/access:pool/", run["name"])
            self.assertIn("hit_avg_us", run)
            self.assertNotIn("cache_hit_avg_us", run)
            self.assertGreater(limits.scaling_run("read_heavy", 0, run)["qps"], 0)

    def test_scaling_run_of_a_run_without_a_cache(self):
        with open(os.path.join(HERE, "data", "new_single.json"), encoding="utf-8") as f:
            doc = json.load(f)
        run = next(b for b in doc["benchmarks"] if "/no_cache_baseline/" in b["name"])
        r = limits.scaling_run("no_cache_baseline", 0, run)
        self.assertIsNone(r["hit_rate_pct"])  # absent, not 0
        rows = limits.aggregate_scaling([r, dict(r, repetition=1, qps=r["qps"] * 2)])
        self.assertIsNone(rows[0]["hit_rate_pct"])
        self.assertEqual(rows[0]["qps"], r["qps"] * 1.5)
        meta = {"machine": {"nproc": 2}, "repetitions": 2, "scenarios": ["no_cache_baseline"],
                "threads_list": [4]}
        table = limits.scaling_table(rows, meta)
        self.assertRegex(table, r"\| no_cache_baseline \| 4 \| [0-9]+ \| [0-9.]+ \| - \| - \|")


class PlotTest(unittest.TestCase):
    def test_scaling_plot_through_the_shared_helpers(self):
        import tempfile
        rows = [{"scenario": s, "threads": t, "repetitions": 1, "qps": 100.0 * t,
                 "qps_min": 90.0 * t, "qps_max": 110.0 * t,
                 "hit_rate_pct": None if s == "nc" else 50.0, "predicted_hit_rate_pct": None,
                 "p50_us": 10.0, "p99_us": 100.0, "errors": 0}
                for s in ("c", "nc") for t in (1, 2)]
        meta = {"machine": {"nproc": 2}, "repetitions": 1, "scenarios": ["c", "nc"],
                "threads_list": [1, 2]}
        with tempfile.TemporaryDirectory() as tmp:
            os.environ.setdefault("MPLCONFIGDIR", tmp)
            written = limits.plot_scaling(rows, meta, os.path.join(tmp, "scaling"))
            self.assertEqual(written, [os.path.join(tmp, "scaling.png")])
            with open(written[0], "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")


class ExitStatusTest(unittest.TestCase):
    def test_usage_is_2_and_help_states_the_rule(self):
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            self.assertEqual(limits.main(["--frobnicate"]), 2)
            self.assertEqual(limits.main(["--threads=0"]), 2)
            self.assertEqual(limits.main(["--help"]), 0)
        self.assertIn("Exit status (the rule of every cabench tool): 0", limits.__doc__)

    def test_a_target_missed_is_1(self):
        opts = limits.parse_args(["--only=c"])
        results = {"c": {"value": 151.0, "real_ns": 160.0, "repetitions": 3, "benchmark": "x"}}
        with contextlib.redirect_stdout(io.StringIO()) as out:
            self.assertEqual(limits.report(opts, results, []), 1)
            results["c"]["value"] = 149.0
            self.assertEqual(limits.report(opts, results, []), 0)
            self.assertEqual(limits.report(opts, {"c": {"error": "no cabench_micro"}}, ["c"]), 1)
        self.assertIn("MISSED", out.getvalue())
        self.assertIn("FAILED TO MEASURE: no cabench_micro", out.getvalue())


class MissingToolTest(unittest.TestCase):
    def test_names_the_debian_package(self):
        with self.assertRaisesRegex(limits.LimitsError, "install the Debian package redis-tools"):
            limits.need_tool(["cabench-no-such-tool-xyz"], "redis-tools")
        self.assertTrue(limits.need_tool(["cabench-no-such-tool-xyz", "python3"], "x"))


class ArithmeticTest(unittest.TestCase):
    def test_targets(self):
        self.assertTrue(limits.check("a", 0.9))
        self.assertFalse(limits.check("a", 0.89))
        self.assertTrue(limits.check("b", 1.5))
        self.assertTrue(limits.check("c", 150.0))
        self.assertFalse(limits.check("c", 150.1))
        self.assertTrue(limits.check("d", 1.05))
        self.assertFalse(limits.check("d", 1.2))
        self.assertEqual(limits.target_text("a"), ">= 0.9")
        self.assertEqual(limits.target_text("c"), "<= 150")

    def test_median_ratio(self):
        self.assertAlmostEqual(limits.median_ratio([(90, 100), (200, 100), (50, 100)]), 0.9)
        self.assertAlmostEqual(limits.median_ratio([(1, 2), (3, 2)]), 1.0)

    def test_aggregate_scaling_takes_medians_per_point(self):
        def run(name, threads, qps, hit, p99, errors=0):
            return {"scenario": name, "threads": threads, "qps": qps, "hit_rate_pct": hit,
                    "predicted_hit_rate_pct": 50.0, "p50_us": 10.0, "p99_us": p99,
                    "errors": errors}
        runs = [run("a", 1, 100, 40, 900), run("b", 1, 7, 0, 5), run("a", 1, 300, 42, 700, 1),
                run("a", 2, 50, 60, 1), run("a", 1, 200, 41, 800)]
        rows = limits.aggregate_scaling(runs)
        self.assertEqual([(r["scenario"], r["threads"]) for r in rows], [("a", 1), ("b", 1), ("a", 2)])
        a1 = rows[0]
        self.assertEqual((a1["repetitions"], a1["qps"], a1["qps_min"], a1["qps_max"]), (3, 200, 100, 300))
        self.assertEqual((a1["hit_rate_pct"], a1["p99_us"], a1["errors"]), (41, 800, 1))

    def test_set_threads(self):
        text = "name: x\nthreads: 4\nread_pct: 100\n"
        self.assertEqual(limits.set_threads(text, 8), "name: x\nthreads: 8\nread_pct: 100\n")
        self.assertEqual(limits.set_threads(text, [1, 2, 16]),
                         "name: x\nthreads: [1, 2, 16]\nread_pct: 100\n")
        self.assertEqual(limits.set_threads("name: x\n", 2), "name: x\nthreads: 2\n")
        # An indented "threads:" (inside a description) is not the key.
        self.assertIn("  threads: many", limits.set_threads("d: >-\n  threads: many\nthreads: 1\n", 3))

    def test_committed_scenarios_have_a_threads_line(self):
        folder = os.path.join(os.path.dirname(HERE), "..", "scenarios", "limits")
        for name in ("limits_hits", "limits_db"):
            with open(os.path.join(folder, name + ".yaml"), encoding="utf-8") as f:
                text = f.read()
            self.assertIn("name: %s\n" % name, text)
            self.assertIn("threads: 7\n", limits.set_threads(text, 7))


if __name__ == "__main__":
    unittest.main()

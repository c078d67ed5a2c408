"""Tests of tools/compare on fixture result files from real cabench runs."""
import copy
import importlib.machinery
import importlib.util
import json
import os
import re
import sys
import unittest

from helpers import (ROOT, TOOLS, ToolTestCase, data, load, modified, new_name,
                     run_tool, write_json)

sys.path.insert(0, TOOLS)
from cabench_py import names  # noqa: E402

READ_HEAVY = "CacheAside/read_heavy/"
CONCURRENCY = "CacheAside/concurrency/"


def counter_row(stdout, bench_prefix, counter):
    """The table row of `counter` in the counter table of the benchmark `bench_prefix`."""
    section = stdout.split("\n== " + bench_prefix, 1)[1].split("\n== ", 1)[0]
    for line in section.splitlines():
        if line.split() and line.split()[0] == counter:
            return line
    raise AssertionError(f"no row {counter} for {bench_prefix}")


class CompareTest(ToolTestCase):
    TOOL = "compare"

    def setUp(self):
        super().setUp()
        self.single = load("single.json")

    def write(self, name, obj):
        return write_json(self.tmp, name, obj)

    # -- exit status 0 and 1

    def test_identical_files_exit_0(self):
        proc = run_tool("compare", data("single.json"), data("single.json"))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("No checked counter regressed", proc.stdout)
        self.assertNotIn("REGRESSION", proc.stdout)
        # compare.py's time table is there, and so is a counter table per benchmark.
        self.assertIn("Comparing", proc.stdout)
        self.assertIn("OVERALL_GEOMEAN", proc.stdout)
        for entry in self.single["benchmarks"]:  # old names, shown in today's spelling
            self.assertIn("== " + new_name(entry["name"]), proc.stdout)

    def test_planted_throughput_regression_exits_1_naming_benchmark_and_counter(self):
        b = self.write("b.json", modified(self.single, READ_HEAVY, "ops_per_s", lambda v: v * 0.7))
        proc = run_tool("compare", data("single.json"), b)
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        regressions = [l for l in proc.stdout.splitlines() if "REGRESSION " in l]
        self.assertEqual(len(regressions), 1, proc.stdout)
        name = next(new_name(e["name"]) for e in self.single["benchmarks"]
                    if e["name"].startswith(READ_HEAVY))
        self.assertIn(name, regressions[0])
        self.assertIn("ops_per_s", regressions[0])
        self.assertIn("-30.0%", regressions[0])
        self.assertIn("REGRESSED", counter_row(proc.stdout, READ_HEAVY, "ops_per_s"))

    def test_lower_is_better_counter_regresses_upwards_only(self):
        worse = self.write("worse.json",
                           modified(self.single, CONCURRENCY, "p99_us", lambda v: v * 1.5))
        proc = run_tool("compare", data("single.json"), worse)
        self.assertEqual(proc.returncode, 1, proc.stdout)
        self.assertRegex(proc.stdout, r"REGRESSION CacheAside/concurrency/\S+: p99_us")
        # Within the default +25%, and a large improvement: both fine.
        for factor in (1.2, 0.3):
            b = self.write("b.json",
                           modified(self.single, CONCURRENCY, "p99_us", lambda v: v * factor))
            proc = run_tool("compare", data("single.json"), b)
            self.assertEqual(proc.returncode, 0, (factor, proc.stdout))
        self.assertIn("improved", counter_row(proc.stdout, CONCURRENCY, "p99_us"))

    def test_hit_rate_threshold_is_absolute_points(self):
        for delta, want in ((-1.5, 0), (-2.5, 1), (+5.0, 0)):
            b = self.write("b.json", modified(self.single, CONCURRENCY, "hit_rate_pct",
                                              lambda v: v + delta))
            proc = run_tool("compare", data("single.json"), b)
            self.assertEqual(proc.returncode, want, (delta, proc.stdout))

    def test_any_new_error_is_a_regression(self):
        b = self.write("b.json", modified(self.single, READ_HEAVY, "errors", lambda v: v + 1))
        proc = run_tool("compare", data("single.json"), b)
        self.assertEqual(proc.returncode, 1, proc.stdout)
        self.assertRegex(proc.stdout, r"REGRESSION CacheAside/read_heavy/\S+: errors 0 -> 1")

    def test_thresholds_are_configurable_per_counter(self):
        b = self.write("b.json", modified(self.single, READ_HEAVY, "ops_per_s", lambda v: v * 0.7))
        a = data("single.json")
        self.assertEqual(run_tool("compare", "--threshold", "ops_per_s=-50%", a, b).returncode, 0)
        self.assertEqual(run_tool("compare", "--threshold", "ops_per_s=off", a, b).returncode, 0)
        self.assertEqual(run_tool("compare", "--threshold", "ops_per_s=5", a, b).returncode, 1)
        # A counter without a default threshold gets one, and is then checked.
        c = self.write("c.json", modified(self.single, READ_HEAVY, "hit_p50_us", lambda v: v * 2))
        self.assertEqual(run_tool("compare", a, c).returncode, 0)
        proc = run_tool("compare", "--threshold", "hit_p50_us=+50%", a, c)
        self.assertEqual(proc.returncode, 1, proc.stdout)
        self.assertRegex(proc.stdout, r"REGRESSION CacheAside/read_heavy/\S+: hit_p50_us")
        # An absolute threshold in microseconds.
        proc = run_tool("compare", "--threshold", "hit_p50_us=1000abs", a, c)
        self.assertEqual(proc.returncode, 0, proc.stdout)

    def test_only_selected_counters_are_checked(self):
        b = self.write("b.json", modified(self.single, READ_HEAVY, "ops_per_s", lambda v: v * 0.7))
        proc = run_tool("compare", "--counters=db_avg_us,hit_rate_pct", data("single.json"), b)
        self.assertEqual(proc.returncode, 0, proc.stdout)
        self.assertNotIn("ops_per_s", proc.stdout.split("== Counters", 1)[1])

    def test_benchmarks_in_one_file_only_are_listed_not_fatal(self):
        b = json.loads(json.dumps(self.single))
        dropped = b["benchmarks"].pop(0)["name"]
        proc = run_tool("compare", data("single.json"), self.write("b.json", b))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("only in A: " + new_name(dropped), proc.stdout)

    def test_a_run_that_fails_in_b_is_a_regression(self):
        b = json.loads(json.dumps(self.single))
        entry = b["benchmarks"][0]
        for key in [k for k in entry if k.endswith("_us") or k in ("ops_per_s", "errors")]:
            del entry[key]
        entry.update(error_occurred=True, error_message="cache: connection refused")
        proc = run_tool("compare", data("single.json"), self.write("b.json", b))
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn("the run failed in B: cache: connection refused", proc.stdout)

    # -- repetitions and the Mann-Whitney U test

    def test_repetitions_print_mann_whitney_p_values(self):
        from scipy.stats import mannwhitneyu
        proc = run_tool("compare", data("reps_a.json"), data("reps_b.json"))
        self.assertIn(proc.returncode, (0, 1), proc.stderr)
        self.assertIn("3 vs 3 repetitions", proc.stdout)
        self.assertIn("p-value", proc.stdout)
        a, b = load("reps_a.json"), load("reps_b.json")

        def reps(results, prefix, counter):
            return [e[counter] for e in results["benchmarks"]
                    if e["name"].startswith(prefix) and e["run_type"] == "iteration"]

        for prefix in (CONCURRENCY, READ_HEAVY):
            for counter in ("ops_per_s", "p99_us", "hit_rate_pct"):
                xa, xb = reps(a, prefix, counter), reps(b, prefix, counter)
                self.assertEqual(len(xa), 3)
                want = mannwhitneyu(xa, xb, alternative="two-sided").pvalue
                row = counter_row(proc.stdout, prefix, counter)
                self.assertIn(f"{want:.4f}", row.split(), (prefix, counter, row))
                mean_a, mean_b = sum(xa) / 3, sum(xb) / 3
                shown_a, shown_b = (float(c.replace(",", "")) for c in row.split()[1:3])
                self.assertAlmostEqual(shown_a / mean_a, 1.0, delta=5e-3, msg=row)
                self.assertAlmostEqual(shown_b / mean_b, 1.0, delta=5e-3, msg=row)

    def test_intervals_are_shown_beside_the_values(self):
        # Repetitions: the mean with the ci95_lo / ci95_hi aggregates cabench writes.
        doc = load("reps_a.json")
        run_name = next(e["run_name"] for e in doc["benchmarks"]
                        if e["name"].startswith(CONCURRENCY))
        for agg, value in (("ci95_lo", 1234.0), ("ci95_hi", 5678.0)):
            doc["benchmarks"].append({"name": run_name + "_" + agg, "run_name": run_name,
                                      "run_type": "aggregate", "aggregate_name": agg,
                                      "repetitions": 3, "threads": 4, "iterations": 1,
                                      "real_time": 1.0, "cpu_time": 1.0, "time_unit": "ns",
                                      "ops_per_s": value})
        a = self.write("a.json", doc)
        proc = run_tool("compare", a, a)
        self.assertIn(proc.returncode, (0, 1), proc.stderr)
        row = counter_row(proc.stdout, CONCURRENCY, "ops_per_s")
        self.assertEqual(row.count("[1,234..5,678]") + row.count("[1234..5678]"), 2, row)
        # One run: a percentile with its own interval (order statistics).
        single = copy.deepcopy(self.single)
        for e in single["benchmarks"]:
            if e["name"].startswith(READ_HEAVY):
                e.update(p99_us_ci_lo=100.0, p99_us_ci_hi=900.0)
        b = self.write("b.json", single)
        proc = run_tool("compare", b, b)
        self.assertIn("[100..900]", counter_row(proc.stdout, READ_HEAVY, "p99_us"))

    def test_an_invalid_run_is_warned_about(self):
        doc = copy.deepcopy(self.single)
        for e in doc["benchmarks"]:
            if e["name"].startswith(READ_HEAVY):
                e.update(valid=0.0, label="invalid: not_steady")
            else:
                e["valid"] = 1.0
        b = self.write("b.json", doc)
        proc = run_tool("compare", data("single.json"), b)
        warnings = [l for l in proc.stdout.splitlines() if l.startswith("warning: ")]
        self.assertEqual(len(warnings), 1, proc.stdout)
        self.assertRegex(warnings[0], r"^warning: B: CacheAside/read_heavy/\S+: invalid: "
                                      r"not_steady: its numbers cannot carry a conclusion$")

    def test_planted_regression_across_repetitions(self):
        b = self.write("b.json", modified(load("reps_a.json"), CONCURRENCY, "ops_per_s",
                                          lambda v: v * 0.5))
        proc = run_tool("compare", data("reps_a.json"), b)
        self.assertEqual(proc.returncode, 1, proc.stdout)
        self.assertRegex(proc.stdout, r"REGRESSION CacheAside/concurrency/\S+: ops_per_s")
        # 3 repetitions each, all halved: the smallest two-sided p of 3 vs 3.
        self.assertIn("0.1000", counter_row(proc.stdout, CONCURRENCY, "ops_per_s").split())

    # -- refusals and bad input: exit 2, one line

    def test_refuses_non_release_cabench_builds(self):
        self.assertEqual(self.single["context"]["library_build_type"], "debug")  # Debian's; fine
        for build in ("Debug", "Release (assertions on)"):
            b = json.loads(json.dumps(self.single))
            b["context"]["cabench_build_type"] = build
            proc = run_tool("compare", data("single.json"), self.write("b.json", b))
            self.assert_one_line_error(proc, build, "Release")
        proc = run_tool("compare", "--allow-non-release", data("single.json"),
                        self.write("b.json", b))
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def test_garbled_and_missing_files_exit_2_with_one_line(self):
        truncated = self.truncated("single.json")
        not_gbench = self.write("other.json", {"hello": 1})
        binary = os.path.join(self.tmp, "binary.json")
        with open(binary, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n\x00\xff")
        good = data("single.json")
        self.assert_one_line_error(run_tool("compare", good, truncated), "truncated.json",
                                   "not valid JSON")
        self.assert_one_line_error(run_tool("compare", not_gbench, good), "other.json",
                                   "not Google Benchmark JSON")
        self.assert_one_line_error(run_tool("compare", good, binary), "binary.json")
        self.assert_one_line_error(run_tool("compare", good, "/nonexistent/x.json"),
                                   "no such file")
        self.assert_one_line_error(run_tool("compare", good, self.tmp), "folder")

    def test_bad_usage_exits_2_with_one_line(self):
        good = data("single.json")
        self.assert_one_line_error(run_tool("compare", good), "two files")
        self.assert_one_line_error(run_tool("compare", "--bogus", good, good))
        self.assert_one_line_error(run_tool("compare", "--threshold", "ops_per_s=fast", good,
                                            good), "not a number")
        self.assert_one_line_error(run_tool("compare", "--threshold", "reads=5%", good, good),
                                   ":higher")
        self.assert_one_line_error(run_tool("compare", "--counters=no_such", good, good),
                                   "unknown counter 'no_such'")
        other = json.loads(json.dumps(self.single))
        for e in other["benchmarks"]:
            e["name"] = e["run_name"] = e["name"].replace("iterations:2000", "iterations:9")
        self.assert_one_line_error(run_tool("compare", good, self.write("b.json", other)),
                                   "no benchmark in common")

    def test_missing_compare_py_is_a_failure_naming_the_packages(self):
        proc = run_tool("compare", data("single.json"), data("single.json"),
                        env={"CABENCH_COMPARE_PY": "/nonexistent/compare.py"})
        self.assert_one_line_error(proc, "apt-get install libbenchmark-tools python3-scipy",
                                   code=1)

    def test_baseline_compares_with_the_committed_baseline(self):
        baseline = os.path.join(ROOT, "results", "baseline", "cabench.json")
        if not os.path.exists(baseline):
            self.skipTest("no committed baseline")
        proc = run_tool("compare", "--baseline", os.path.abspath(baseline))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("results/baseline/cabench.json", proc.stdout.splitlines()[0])
        self.assertIn("No checked counter regressed", proc.stdout)
        self.assert_one_line_error(run_tool("compare", "--baseline"), "one file")

    # -- names from lib/metrics/names.def

    def test_defaults_are_names_of_the_table(self):
        loader = importlib.machinery.SourceFileLoader("cabench_compare",
                                                      os.path.join(TOOLS, "compare"))
        spec = importlib.util.spec_from_loader("cabench_compare", loader)
        compare = importlib.util.module_from_spec(spec)
        loader.exec_module(compare)
        for counter in compare.default_counters():
            self.assertTrue(names.is_known(counter), counter)
            self.assertIsNotNone(names.direction(counter), counter)
        self.assertEqual(compare.default_counters()[0], "ops_per_s")
        self.assertIn("hit_avg_us", compare.default_counters())
        self.assertNotIn("cache_hit_avg_us", compare.default_counters())
        for counter, th in compare.DEFAULT_THRESHOLDS.items():
            self.assertEqual(th.direction, names.direction(counter), counter)
        # An old spelling given by a user means today's counter.
        name, th = compare.parse_threshold("cache_hit_avg_us=10%")
        self.assertEqual((name, th.direction), ("hit_avg_us", "lower"))

    def test_an_old_file_compares_with_a_new_one(self):
        # single.json (old names, access:0) and new_single.json (today's names) hold
        # the same runs of read_heavy and no_cache_baseline: they match and agree.
        proc = run_tool("compare", data("single.json"), data("new_single.json"))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("Compared 2 benchmarks", proc.stdout)
        self.assertIn("only in A: CacheAside/concurrency/read_pct:80/ttl_ms:300000/"
                      "access:pool/", proc.stdout)
        self.assertIn("single.json was written before lib/metrics/names.def", proc.stdout)
        self.assertNotIn("new_single.json was written before", proc.stdout)
        # compare.py matched them too: its time table has both, by today's names.
        time_table = proc.stdout.split("== Counters")[0]
        self.assertIn("CacheAside/read_heavy/read_pct:99/ttl_ms:300000/access:pool/", time_table)
        row = counter_row(proc.stdout, READ_HEAVY, "hit_avg_us")
        self.assertIn("0.0%", row)
        self.assertNotIn("hit_rate_pct", proc.stdout.split("== CacheAside/no_cache_baseline")[1]
                         .split("== ")[0])
        # A new file's regression is found against an old baseline.
        b = json.loads(json.dumps(load("new_single.json")))
        for e in b["benchmarks"]:
            if "hit_p99_us" in e:
                e["hit_p99_us"] *= 3
        proc = run_tool("compare", "--threshold", "cache_hit_p99_us=50%", data("single.json"),
                        self.write("b.json", b))
        self.assertEqual(proc.returncode, 1, proc.stdout)
        self.assertRegex(proc.stdout, r"REGRESSION CacheAside/read_heavy/\S+: hit_p99_us")

    def test_help_documents_the_defaults(self):
        proc = run_tool("compare", "--help")
        self.assertEqual(proc.returncode, 0)
        for fragment in ("ops_per_s      -10%", "hit_rate_pct   -2 points", "p99_us         +25%",
                         "errors         any increase"):
            self.assertIn(fragment, proc.stdout)
        self.assertTrue(re.search(r"Exit status.*: 0 ok.* 1 a regression.*2 usage or bad input",
                                  proc.stdout, re.S), proc.stdout)


if __name__ == "__main__":
    unittest.main()

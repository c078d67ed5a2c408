"""Tests of tools/summarize on today's and older result files."""
import unittest

from helpers import ToolTestCase, data, load, new_name, run_tool, write_json


def row_of(stdout, scenario):
    return next(l for l in stdout.splitlines() if l.startswith(f"CacheAside/{scenario}/"))


class SummarizeTest(ToolTestCase):
    TOOL = "summarize"

    def columns(self, stdout):
        header = next(l for l in stdout.splitlines() if l.startswith("benchmark"))
        return header

    def test_todays_file(self):
        proc = run_tool("summarize", data("new_single.json"))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        header = self.columns(proc.stdout)
        for col in ("QPS", "wall s", "hit%", "pred%", "hit avg us", "p99 us", "hit p99 us", "miss/hit",
                    "db avg us", "db p99 us", "speedup", "errors"):
            self.assertIn(col, header)
        runs = {e["name"].split("/")[1]: e for e in load("new_single.json")["benchmarks"]}
        rh = row_of(proc.stdout, "read_heavy").split()
        e = runs["read_heavy"]
        self.assertEqual(rh[1:], [str(e["threads"]), f"{e['ops_per_s']:.0f}",
                                  f"{e['wall_s']:.2f}", f"{e['hit_rate_pct']:.1f}",
                                  f"{e['predicted_hit_rate_pct']:.1f}", f"{e['hit_avg_us']:.1f}",
                                  f"{e['p99_us']:.0f}",
                                  f"{e['hit_p99_us']:.1f}", f"{e['miss_vs_hit']:.1f}x",
                                  f"{e['db_avg_us']:.1f}", f"{e['db_p99_us']:.1f}",
                                  f"{e['speedup']:.1f}x", "0", "-"])
        # No cache: no hit rate, hit latency, miss/hit or speedup ("-", not 0).
        nc = row_of(proc.stdout, "no_cache_baseline").split()
        self.assertEqual(nc[4:7], ["-"] * 3)
        self.assertEqual(nc[8:10], ["-"] * 2)
        self.assertEqual(nc[12], "-")

    def test_the_runs_verdict_on_itself_is_the_last_column(self):
        doc = load("new_single.json")
        base = next(e for e in doc["benchmarks"] if e["name"].split("/")[1] == "read_heavy")
        good = dict(base, valid=1.0)
        bad = dict(base, name=base["name"].replace("read_heavy", "stampede"), valid=0.0,
                   label="invalid: not_steady, few_samples")
        doc["benchmarks"] = [good, bad]
        proc = run_tool("summarize", write_json(self.tmp, "valid.json", doc))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertTrue(row_of(proc.stdout, "read_heavy").endswith("  ok"))
        self.assertTrue(row_of(proc.stdout, "stampede").endswith("INVALID: not_steady, few_samples"))

    def test_intervals_are_shown_beside_their_values(self):
        doc = load("new_single.json")
        base = next(e for e in doc["benchmarks"] if e["name"].split("/")[1] == "read_heavy")
        # A percentile with its own interval (order statistics of the run).
        one = dict(base, p99_us=435.0, p99_us_ci_lo=420.0, p99_us_ci_hi=450.0)
        # Repetitions: the mean row with the ci95_lo / ci95_hi aggregates.
        agg = dict(base, run_type="aggregate", run_name=base["name"], repetitions=3)
        mean = dict(agg, name=base["name"] + "_mean", aggregate_name="mean", ops_per_s=3000.0)
        lo = dict(agg, name=base["name"] + "_ci95_lo", aggregate_name="ci95_lo", ops_per_s=2500.0)
        hi = dict(agg, name=base["name"] + "_ci95_hi", aggregate_name="ci95_hi", ops_per_s=3600.0)
        doc["benchmarks"] = [one, mean, lo, hi]
        proc = run_tool("summarize", write_json(self.tmp, "ci.json", doc))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        rows = [l for l in proc.stdout.splitlines() if l.startswith("CacheAside/read_heavy")]
        self.assertIn("435 [420..450]", rows[0])
        self.assertIn("3000 [2500..3600]", rows[1])
        self.assertIn("_ci95_lo", rows[2])  # the bounds' own rows stay
        self.assertIn(" 2500 ", rows[2])

    def test_with_and_without_the_cache(self):
        doc = load("new_single.json")
        base = next(e for e in doc["benchmarks"] if e["name"].split("/")[1] == "read_heavy")
        run = dict(base, ops_per_s=4000.0, gain_ops_x=2.0, db_queries_per_s=500.0,
                   db_load_reduction_pct=75.0, db_cpu_reduction_pct=60.0, p99_us=900.0)
        parts = base["name"].split("/")
        twin = dict(base, name="/".join(parts[:1] + ["read_heavy@no_cache"] + parts[2:]),
                    run_name="/".join(parts[:1] + ["read_heavy@no_cache"] + parts[2:]),
                    ops_per_s=2000.0, db_queries_per_s=2000.0, p99_us=1500.0)
        doc["benchmarks"] = [twin, run]
        path = write_json(self.tmp, "twins.json", doc)
        proc = run_tool("summarize", path)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("With and without the cache", proc.stdout)
        line = next(l for l in proc.stdout.splitlines() if l.startswith("read_heavy "))
        self.assertEqual(line.split()[2:], ["2000", "4000", "2.00x", "2000", "500", "75.0",
                                            "60.0", "1500", "900"])
        # Without twins, no second table.
        proc = run_tool("summarize", data("new_single.json"))
        self.assertNotIn("With and without the cache", proc.stdout)

    def test_stale_reads_and_stampedes(self):
        doc = load("new_single.json")
        base = next(e for e in doc["benchmarks"] if e["name"].split("/")[1] == "read_heavy")
        sf = dict(base, stale_reads=12.0, stale_reads_uncertain=30.0, stale_read_pct=0.125,
                  stale_read_max_pct=0.4375, stale_age_p50_ms=1.25,
                  stale_age_p99_ms=40.0, dup_fills=0.0, db_reads_in_flight_max=7.0,
                  db_reads_per_miss=0.5, fill_waits=30.0)
        plain = dict(base, name=base["name"].replace("read_heavy", "stampede"), stale_reads=0.0,
                     stale_read_pct=0.0, dup_fills=9.0, db_reads_in_flight_max=16.0,
                     db_reads_per_miss=1.0)
        doc["benchmarks"] = [sf, plain]
        proc = run_tool("summarize", write_json(self.tmp, "stale.json", doc))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("Stale reads and stampedes", proc.stdout)
        rows = [l for l in proc.stdout.splitlines() if l.startswith("CacheAside/")]
        # The first table's two rows, then this table's two.
        self.assertEqual(len(rows), 4)
        self.assertEqual(rows[2].split()[1:], [str(base["threads"]), "12", "30", "0.12",
                                               "0.44", "1.2", "40.0", "0", "7", "0.50", "30",
                                               "-"])
        # A file from before the uncertain count: "-" in its columns.
        self.assertEqual(rows[3].split()[1:], [str(base["threads"]), "0", "-", "0.00", "-", "-",
                                               "-", "9", "16", "1.00", "-", "-"])
        # Files without the counters: no third table.
        proc = run_tool("summarize", data("new_single.json"))
        self.assertNotIn("Stale reads and stampedes", proc.stdout)

    def test_older_file_reads_through_the_aliases(self):
        proc = run_tool("summarize", data("single.json"))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        old = {e["name"].split("/")[1]: e for e in load("single.json")["benchmarks"]}
        row = row_of(proc.stdout, "read_heavy")
        self.assertTrue(row.startswith(new_name(old["read_heavy"]["name"]).rsplit(
            "/real_time", 1)[0]))
        cells = row.split()
        self.assertEqual(cells[6], f"{old['read_heavy']['cache_hit_avg_us']:.1f}")
        self.assertEqual(cells[3], "-")  # no wall_s in older files
        nc = row_of(proc.stdout, "no_cache_baseline").split()
        self.assertEqual(nc[4], "-")  # the old zeros of a run without a cache: not shown

    def test_a_failed_run_exits_1_and_still_prints_the_table(self):
        doc = load("new_single.json")
        entry = doc["benchmarks"][1]
        doc["benchmarks"][1] = {k: entry[k] for k in ("name", "run_name", "run_type",
                                                       "threads", "iterations")}
        doc["benchmarks"][1].update(error_occurred=True, error_message="db: connection refused")
        proc = run_tool("summarize", write_json(self.tmp, "failed.json", doc))
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("ERROR: db: connection refused", proc.stdout)
        self.assertIn("read_heavy", proc.stdout)
        self.assertIn("1 of 2 runs failed", proc.stderr)

    def test_bad_usage_and_bad_files_exit_2_with_one_line(self):
        truncated = self.truncated("new_single.json")
        empty_list = write_json(self.tmp, "none.json", {"context": {}, "benchmarks": []})
        cases = [
            ([], "expected exactly one FILE.json"),
            (["--bogus"], "unknown option '--bogus'"),
            ([data("new_single.json"), data("single.json")], "expected exactly one"),
            (["/nonexistent/x.json"], "no such file"),
            ([truncated], "not valid JSON"),
            ([write_json(self.tmp, "other.json", {"hello": 1})], "not Google Benchmark JSON"),
            ([empty_list], "holds no benchmark runs"),
        ]
        for args, fragment in cases:
            proc = run_tool("summarize", *args)
            self.assert_one_line_error(proc, fragment)
            self.assertTrue(proc.stderr.startswith("tools/summarize: error: "), proc.stderr)
            self.assertEqual(proc.stdout, "")

    def test_help_states_the_exit_rule(self):
        proc = run_tool("summarize", "--help")
        self.assertEqual(proc.returncode, 0)
        self.assertIn("Exit status (the rule of every cabench tool): 0 ok", proc.stdout)
        self.assertIn("1 some run reported an error", proc.stdout)
        self.assertIn("2 usage or bad", proc.stdout)
        self.assertNotIn("cache_hit_avg_us  ", proc.stdout)


if __name__ == "__main__":
    unittest.main()

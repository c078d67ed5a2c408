"""Tests of tools/plot on time series and histograms recorded by real cabench runs."""
import os
import sys
import unittest
import xml.etree.ElementTree as ET

from helpers import TOOLS, ToolTestCase, data, load, run_tool, write_json

sys.path.insert(0, TOOLS)
from cabench_py import histogram  # noqa: E402

SERIES = "series_random_balanced.json"   # older format
NEW_SERIES = "series_new_cache.json"      # today's format
NO_CACHE_SERIES = ("series_no_cache.json", "series_new_no_cache.json")
VIEW_TITLES = {
    "db": "Database-path latency over time",
    "hit": "Cache-hit latency over time",
    "db_vs_cache": "Database vs cache: average latency",
    "throughput": "Throughput over time",
    "hit_rate": "Cache hit rate over time",
}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def fmt3(x):
    return f"{x:,.3f}"


class PlotTest(ToolTestCase):
    TOOL = "plot"

    def assert_valid_images(self, paths):
        for path in paths:
            self.assertTrue(os.path.isfile(path), path)
            self.assertGreater(os.path.getsize(path), 0, path)
            if path.endswith(".png"):
                with open(path, "rb") as f:
                    self.assertEqual(f.read(8), PNG_SIGNATURE, path)
            else:
                root = ET.parse(path).getroot()
                self.assertTrue(root.tag.endswith("svg"), (path, root.tag))

    # -- the five views

    def test_pair_draws_a_run_and_its_twin(self):
        proc = run_tool("plot", "pair", data("series_new_cache.json"),
                        data("series_new_no_cache.json"), "--color=never")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        for title in ("operations / s", "database queries / s", "average latency"):
            self.assertIn(title, proc.stdout)
        rows = {l.split()[0] + l.split()[1]: l.split() for l in proc.stdout.splitlines()
                if l.startswith("  with cache") or l.startswith("  no cache")}
        cache = load("series_new_cache.json")
        ops = sum(v["count"] for v in cache.values())
        self.assertEqual(rows["withcache"][3], f"{ops:,}")
        proc = run_tool("plot", "pair", data("series_new_cache.json"))
        self.assertEqual(proc.returncode, 2)
        self.assertIn("usage", proc.stderr)

    def test_every_view_renders_in_the_terminal(self):
        for series in (SERIES, NEW_SERIES) + NO_CACHE_SERIES:
            for view, title in VIEW_TITLES.items():
                proc = run_tool("plot", data(series), "--view", view, "--color", "never")
                self.assertEqual(proc.returncode, 0, (series, view, proc.stderr))
                self.assertIn(title, proc.stdout, (series, view))
                # Only the chosen view, and with chart characters.
                for other, other_title in VIEW_TITLES.items():
                    if other != view:
                        self.assertNotIn(other_title, proc.stdout)
                chars = "█▏▎▍▌▋▊▉" if view in ("throughput", "hit_rate") else \
                    "".join(chr(c) for c in range(0x2801, 0x2900))
                if series not in NO_CACHE_SERIES or view not in ("hit", "hit_rate"):
                    self.assertTrue(any(c in chars for c in proc.stdout), (series, view))
                else:  # a run without a cache: said so, no zeros drawn
                    self.assertIn("no cache", proc.stdout, (series, view))
                    self.assertNotIn("0.0%", proc.stdout)
                    self.assertFalse(any(c in chars for c in proc.stdout), (series, view))
        proc = run_tool("plot", data(SERIES), "--color", "always")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("\x1b[", proc.stdout)
        for title in VIEW_TITLES.values():
            self.assertIn(title, proc.stdout)

    def test_db_view_uses_the_database_paths_own_min_and_max(self):
        # Files written since the series gained db_min_us/db_max_us: the db view
        # draws those, not the second's min/max over every operation.
        series = load(SERIES)
        for i, s in enumerate(series.values()):
            s["db_min_us"] = 1000.0 + i
            s["db_max_us"] = 90000.0 + i
        path = write_json(self.tmp, "series_with_db_min_max.json", series)
        proc = run_tool("plot", path, "--view", "db", "--color", "never")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("db max", proc.stdout)
        self.assertIn("db min", proc.stdout)
        self.assertNotIn("all ops", proc.stdout)
        self.assertIn("90,0", proc.stdout)  # the y axis reaches the db max
        # An older file keeps the labelled fallback.
        proc = run_tool("plot", data(SERIES), "--view", "db", "--color", "never")
        self.assertIn("max (all ops)", proc.stdout)

    def test_db_view_of_todays_files_spans_the_whole_database_path(self):
        for series in (NEW_SERIES, "series_new_no_cache.json"):
            proc = run_tool("plot", data(series), "--view", "db", "--color", "never")
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertIn("misses + db reads + fallback reads + writes", proc.stdout)
            self.assertIn("db avg (misses+db reads+fallbacks+writes)", proc.stdout)
            self.assertIn("db max", proc.stdout)
            self.assertNotIn("all ops", proc.stdout)
        # An older file's db_avg_us spanned misses + writes, and is labelled so.
        proc = run_tool("plot", data(SERIES), "--view", "db", "--color", "never")
        self.assertIn("db avg (misses+writes)", proc.stdout)
        proc = run_tool("plot", "--help")
        self.assertNotIn("(cache misses + writes)", proc.stdout)

    def test_hit_view_reads_hit_fields_of_both_formats(self):
        # The same numbers under today's names (hit_avg_us) and the old ones
        # (cache_hit_avg_us) draw the same chart.
        old = run_tool("plot", data(SERIES), "--view", "hit,db_vs_cache", "--color", "never")
        series = load(NEW_SERIES)
        for s in series.values():
            for key in ("db_min_us", "db_max_us", "hit_min_us", "hit_max_us"):
                del s[key]
        path = write_json(self.tmp, "s.json", series)
        new = run_tool("plot", path, "--view", "hit,db_vs_cache", "--color", "never")
        self.assertEqual(new.returncode, 0, new.stderr)
        strip = [l for l in old.stdout.splitlines() if "[" not in l or "┤" in l]
        self.assertEqual(strip, [l for l in new.stdout.splitlines() if "[" not in l or "┤" in l])
        self.assertIn("hit p99", new.stdout)

    def test_bars_show_the_files_numbers(self):
        secs = sorted(load(SERIES).items())
        proc = run_tool("plot", data(SERIES), "--view", "throughput,hit_rate", "--color", "never")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        throughput, hit_rate = proc.stdout.split("Cache hit rate over time")
        for i, (_, s) in enumerate(secs):
            row = next(l for l in throughput.splitlines() if l.strip().startswith(f"+{i}s "))
            self.assertTrue(row.endswith(f"{s['count']:,}"), row)
            row = next(l for l in hit_rate.splitlines() if l.strip().startswith(f"+{i}s "))
            rate = 100.0 * s["cache_hits"] / (s["cache_hits"] + s["cache_misses"])
            self.assertIn(f"{rate:5.1f}%", row)

    def test_png_and_svg_files_are_valid(self):
        proc = run_tool("plot", data(SERIES), "--png", "--svg", "--out", self.tmp, "-q")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, "")
        stem = SERIES[:-5]
        want = [os.path.join(self.tmp, f"{stem}.{v}.{ext}")
                for v in list(VIEW_TITLES) + ["overview"] for ext in ("png", "svg")]
        self.assert_valid_images(want)
        self.assertEqual(sorted(os.listdir(self.tmp)), sorted(os.path.basename(p) for p in want))

    def test_images_of_a_series_without_cache_hits(self):
        for series in NO_CACHE_SERIES:
            out = os.path.join(self.tmp, series)
            proc = run_tool("plot", data(series), "--view", "hit,db_vs_cache,hit_rate",
                            "--png", "--svg", "--out", out, "-q")
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assert_valid_images([os.path.join(out, f) for f in os.listdir(out)])
            self.assertEqual(len(os.listdir(out)), 8)  # 3 views + overview, png and svg
            stem = series[:-5]
            with open(os.path.join(out, f"{stem}.hit_rate.svg")) as f:
                self.assertIn("no cache", f.read())

    # -- explain

    def test_explain_numbers_equal_the_files(self):
        series = load(SERIES)
        for offset, (epoch, s) in enumerate(sorted(series.items())):
            proc = run_tool("plot", "explain", data(SERIES), str(offset))
            self.assertEqual(proc.returncode, 0, proc.stderr)
            out = proc.stdout
            self.assertIn(f"Window {epoch} (+{offset} s", out)
            avg = s["total_time_us"] / s["count"]
            self.assertAlmostEqual(avg, s["avg_time_us"], delta=0.0006)
            self.assertIn(f"= {fmt3(s['total_time_us'])} / {s['count']:,} = {fmt3(avg)} µs", out)
            hits, misses = s["cache_hits"], s["cache_misses"]
            rate = 100.0 * hits / (hits + misses)
            self.assertIn(f"= {hits:,} / ({hits:,} + {misses:,}) x 100 = {rate:.2f}%", out)
            self.assertIn(f"count / 1 s = {s['count']:,} / 1 = {s['count']:,} ops/s", out)
            speedup = s["db_avg_us"] / s["cache_hit_avg_us"]  # an older file's name
            self.assertIn(f"= {fmt3(s['db_avg_us'])} / {fmt3(s['cache_hit_avg_us'])} = "
                          f"{speedup:.2f}x", out)
            self.assertIn(f"reads {s['reads']:,} + writes {s['writes']:,} = "
                          f"{s['reads'] + s['writes']:,}", out)
            self.assertIn(f"{fmt3(s['min_time_us'])} / {fmt3(s['max_time_us'])} µs", out)
            if offset == 0:
                by_epoch = run_tool("plot", "explain", data(SERIES), epoch)
                self.assertEqual(by_epoch.stdout, out)

    def test_explain_without_cache_hits(self):
        for series in NO_CACHE_SERIES:
            proc = run_tool("plot", "explain", data(series), "1")
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertIn("hit rate        - (no cache in this run)", proc.stdout)
            self.assertIn("speedup         - (needs both", proc.stdout)
        s = sorted(load("series_new_no_cache.json").items())[1][1]
        self.assertIn(f"db reads        {s['db_reads']:,}", proc.stdout)
        self.assertIn(f"db_read avg {fmt3(s['db_read_avg_us'])}", proc.stdout)

    def test_explain_of_todays_file_counts_errors_apart(self):
        # Today's files: reads and writes succeeded, so count = reads + writes + errors.
        series = sorted(load(NEW_SERIES).items())
        for offset, (epoch, s) in enumerate(series):
            proc = run_tool("plot", "explain", data(NEW_SERIES), str(offset))
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertEqual(s["count"], s["reads"] + s["writes"] + s["errors"])
            self.assertIn(f"(reads {s['reads']:,} + writes {s['writes']:,} + errors "
                          f"{s['errors']:,} = {s['count']:,})", proc.stdout)
            speedup = s["db_avg_us"] / s["hit_avg_us"]
            self.assertIn(f"= {fmt3(s['db_avg_us'])} / {fmt3(s['hit_avg_us'])} = "
                          f"{speedup:.2f}x", proc.stdout)
        self.assertEqual(series[3][1]["errors"], 4)  # the fixture plants them there

    def test_explain_of_an_unknown_second(self):
        proc = run_tool("plot", "explain", data(SERIES), "99")
        self.assert_one_line_error(proc, "second '99' is not in", "offsets 0..14")
        self.assert_one_line_error(run_tool("plot", "explain", data(SERIES)), "explain")

    # -- percentiles from histograms

    def test_percentiles_equal_the_runs_counters(self):
        hists = histogram.load_histograms(data("histograms_read_heavy.json"))
        counters = next(e for e in load("single.json")["benchmarks"]
                        if e["name"].startswith("CacheAside/read_heavy/"))
        for cls, prefix in (("hit", "hit_"), ("miss", "miss_"), ("write", "write_"),
                            ("overall", "")):
            for p, suffix in ((50, "p50"), (95, "p95"), (99, "p99"), (99.9, "p999")):
                got = hists[cls].percentile(p) / 1000.0
                self.assertAlmostEqual(got, counters[f"{prefix}{suffix}_us"], places=6,
                                       msg=(cls, p))
        self.assertAlmostEqual(hists["hit"].mean() / 1000.0, counters["hit_avg_us"], places=6)
        self.assertEqual(hists["hit"].count, counters["cache_hits"])

    def test_todays_histograms_equal_todays_counters(self):
        hists = histogram.load_histograms(data("histograms_new_cache.json"))
        self.assertEqual(list(hists), ["overall", "hit", "miss", "db_read", "fallback", "write",
                                       "error", "get", "select", "set", "insert", "del"])
        counters = next(e for e in load("new_single.json")["benchmarks"]
                        if e["name"].startswith("CacheAside/read_heavy/"))
        for cls in ("hit", "miss", "write"):
            for suffix, p in (("p50_us", 50), ("p99_us", 99), ("p999_us", 99.9)):
                self.assertAlmostEqual(hists[cls].percentile(p) / 1000.0,
                                       counters[f"{cls}_{suffix}"], places=6)
        self.assertAlmostEqual(hists["get"].mean() / 1000.0, counters["get_avg_us"], places=6)
        # The old file's step keys read as today's.
        old = histogram.load_histograms(data("histograms_read_heavy.json"))
        for step in ("get", "select", "set", "insert", "del"):
            self.assertEqual(old[step].count, hists[step].count, step)
        self.assertNotIn("cache_get", old)

    def test_percentile_plot_per_class(self):
        for name in ("histograms_read_heavy.json", "histograms_new_cache.json"):
            path = data(name)
            for args in (["percentiles", path], [path]):  # explicit, and recognised
                proc = run_tool("plot", *args, "--color", "never", "--png", "--svg", "--out",
                                self.tmp)
                self.assertEqual(proc.returncode, 0, proc.stderr)
                self.assertIn("Latency by percentile", proc.stdout)
                hists = histogram.load_histograms(path)
                rows = {l.split()[0]: l for l in proc.stdout.splitlines()
                        if l.startswith("  ") and len(l.split()) == 10}
                self.assertIn(f"{hists['hit'].count:,}", rows["hit"])
                self.assertEqual(sorted(rows), sorted(["class", "hit", "miss", "write",
                                                       "overall"]))
                self.assert_valid_images([os.path.join(self.tmp, name[:-5] + ".percentiles."
                                                       + ext) for ext in ("png", "svg")])
        proc = run_tool("plot", data("histograms_new_no_cache.json"), "--color", "never")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        rows = [l.split()[0] for l in proc.stdout.splitlines()
                if l.startswith("  ") and len(l.split()) == 10]
        self.assertEqual(rows, ["class", "db_read", "write", "overall"])

    # -- bad input

    def test_garbled_and_missing_files_exit_2_with_one_line(self):
        truncated = self.truncated(SERIES, 3)
        empty = write_json(self.tmp, "empty.json", {})
        wrong = write_json(self.tmp, "wrong.json", {"1795678412": {"count": "many"}})
        series = load(SERIES)
        first = sorted(series)[0]
        series[first]["cache_hits"] = -3
        negative = write_json(self.tmp, "negative.json", series)
        hists = load("histograms_read_heavy.json")
        hists["hit"] = hists["hit"].replace("cbhist 1 7 3969 ", "cbhist 1 7 3969 1", 1)
        bad_hist = write_json(self.tmp, "bad_hist.json", hists)
        cases = [
            (["/nonexistent/s.json"], "no such file"),
            ([truncated], "not valid JSON"),
            ([empty], "empty"),
            ([wrong], "no 'total_time_us'"),
            ([negative], "'cache_hits' is not a count"),
            (["percentiles", bad_hist], "histogram 'hit' is garbled"),
            (["percentiles", data(SERIES)], "garbled"),
            (["explain", truncated, "0"], "not valid JSON"),
            ([data(SERIES), "--view", "pie"], "unknown view 'pie'"),
            ([], "expected SERIES.json"),
            ([data(SERIES), data(SERIES)], "one input file"),
        ]
        for args, fragment in cases:
            self.assert_one_line_error(run_tool("plot", *args), fragment)

    def test_help(self):
        proc = run_tool("plot", "--help")
        self.assertEqual(proc.returncode, 0)
        for view in VIEW_TITLES:
            self.assertIn(view, proc.stdout)
        self.assertIn("Exit status (the rule of every cabench tool): 0 ok; 1", proc.stdout)

    def test_missing_matplotlib_is_a_failure(self):
        # A matplotlib that cannot be imported: exit 1 (a failure), not 2 (bad input).
        fake = os.path.join(self.tmp, "fake")
        os.makedirs(os.path.join(fake, "matplotlib"))
        with open(os.path.join(fake, "matplotlib", "__init__.py"), "w") as f:
            f.write("raise ImportError('no matplotlib here')\n")
        proc = run_tool("plot", data(SERIES), "--png", "--out", self.tmp, "-q",
                        env={"PYTHONPATH": fake})
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("apt-get install python3-matplotlib", proc.stderr)


if __name__ == "__main__":
    unittest.main()

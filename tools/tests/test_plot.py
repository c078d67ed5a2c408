"""Tests of tools/plot on time series and histograms recorded by real cabench runs."""
import os
import shutil
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

from helpers import TOOLS, data, load, run_tool, write_json

sys.path.insert(0, TOOLS)
from cabench_py import histogram  # noqa: E402

SERIES = "series_random_balanced.json"
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


class PlotTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cabench-plot-test-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def assert_one_line_error(self, proc, *fragments):
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        lines = proc.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, proc.stderr)
        self.assertTrue(lines[0].startswith("tools/plot: "), lines[0])
        for f in fragments:
            self.assertIn(f, lines[0])

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

    def test_every_view_renders_in_the_terminal(self):
        for series in (SERIES, "series_no_cache.json"):
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
                if series == SERIES or view not in ("hit", "hit_rate"):
                    self.assertTrue(any(c in chars for c in proc.stdout), (series, view))
                elif view == "hit":  # no cache hit at all: nothing to draw, said so
                    self.assertIn("(no data to plot)", proc.stdout)
                else:
                    self.assertIn("  0.0% !", proc.stdout)
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
        proc = run_tool("plot", data("series_no_cache.json"), "--view", "hit,db_vs_cache",
                        "--png", "--out", self.tmp, "-q")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assert_valid_images([os.path.join(self.tmp, f) for f in os.listdir(self.tmp)])
        self.assertEqual(len(os.listdir(self.tmp)), 3)  # hit, db_vs_cache, overview

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
            speedup = s["db_avg_us"] / s["cache_hit_avg_us"]
            self.assertIn(f"= {fmt3(s['db_avg_us'])} / {fmt3(s['cache_hit_avg_us'])} = "
                          f"{speedup:.2f}x", out)
            self.assertIn(f"reads {s['reads']:,} + writes {s['writes']:,} = "
                          f"{s['reads'] + s['writes']:,}", out)
            self.assertIn(f"{fmt3(s['min_time_us'])} / {fmt3(s['max_time_us'])} µs", out)
            if offset == 0:
                by_epoch = run_tool("plot", "explain", data(SERIES), epoch)
                self.assertEqual(by_epoch.stdout, out)

    def test_explain_without_cache_hits(self):
        proc = run_tool("plot", "explain", data("series_no_cache.json"), "1")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("= 0.00%", proc.stdout)
        self.assertIn("speedup         - (needs both", proc.stdout)

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

    def test_percentile_plot_per_class(self):
        path = data("histograms_read_heavy.json")
        for args in (["percentiles", path], [path]):  # explicit, and recognised
            proc = run_tool("plot", *args, "--color", "never", "--png", "--svg", "--out",
                            self.tmp)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertIn("Latency by percentile", proc.stdout)
            hists = histogram.load_histograms(path)
            row = next(l for l in proc.stdout.splitlines() if l.strip().startswith("cache hits "))
            self.assertIn(f"{hists['hit'].count:,}", row)
            for cls in ("cache misses", "writes", "all operations"):
                self.assertIn(cls, proc.stdout)
            self.assert_valid_images([os.path.join(self.tmp, "histograms_read_heavy.percentiles."
                                                   + ext) for ext in ("png", "svg")])

    # -- bad input

    def test_garbled_and_missing_files_exit_2_with_one_line(self):
        with open(data(SERIES)) as f:
            text = f.read()
        truncated = os.path.join(self.tmp, "truncated.json")
        with open(truncated, "w") as f:
            f.write(text[:len(text) // 3])
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


if __name__ == "__main__":
    unittest.main()

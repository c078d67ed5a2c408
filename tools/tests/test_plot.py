"""Tests of tools/plot on time series and histograms recorded by real cabench runs, and on
small synthetic files (stampede and stale-read figures) written into a scratch folder."""
import copy
import importlib.util
import os
import sys
import unittest
import xml.etree.ElementTree as ET

from helpers import TOOLS, ToolTestCase, data, load, run_tool, write_json

sys.path.insert(0, TOOLS)
from cabench_py import report  # noqa: E402
from cabench_py.series import load_series, steady_start  # noqa: E402

SERIES = "series_random_balanced.json"   # older format
NEW_SERIES = "series_new_cache.json"      # today's format
OLD_NO_CACHE = "series_no_cache.json"     # older format, no cache
NO_CACHE_SERIES = ("series_no_cache.json", "series_new_no_cache.json")
VIEW_TITLES = {
    "db": "Database-path latency over time",
    "hit": "Cache-hit latency over time",
    "db_vs_cache": "Database vs cache: average latency",
    "throughput": "Throughput over time",
    "hit_rate": "Cache hit rate over time",
}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
STAMPEDE_TITLE = "Database reads in flight over time"
NO_STAMPEDE = "this file has no stampede figures"
# A series file's name as cabench writes it (bench/scenario_benchmark.cc).
BENCH_FILE = "CacheAside_{}_read_pct-99_ttl_ms-1000_access-pool_iterations-5000_real_time_threads-8"


def stampede_series(in_flight, dup_fills, fill_waits=None, early_refreshes=None):
    """series_new_cache.json's seconds (as many as in_flight has) with the stampede fields
    of issue 13; fill_waits / early_refreshes only when given."""
    seconds = sorted(load(NEW_SERIES).items())
    out = {}
    for i, (epoch, sec) in enumerate(seconds[:len(in_flight)]):
        sec = dict(sec, db_reads_in_flight_max=in_flight[i], dup_fills=dup_fills[i],
                   stale_reads=3, stale_read_pct=0.25, stale_age_p50_ms=1.5,
                   stale_age_p99_ms=9.75)
        if fill_waits is not None:
            sec["fill_waits"] = fill_waits[i]
        if early_refreshes is not None:
            sec["early_refreshes"] = early_refreshes[i]
        out[epoch] = sec
    return out


def rates_series(rates):
    """A series whose seconds have the given hit rates (%): 1,000 reads each."""
    first = sorted(load(NEW_SERIES).items())[1][1]
    out = {}
    for i, rate in enumerate(rates):
        hits = int(round(rate * 10))
        out[str(1795678400 + i)] = dict(first, cache_hits=hits, cache_misses=1000 - hits)
    return out


def stale_results(runs):
    """A Google Benchmark file of a TTL sweep: runs is [(scenario, ttl_ms, counters)], each
    entry new_single.json's read_heavy with those counters."""
    doc = load("new_single.json")
    base = next(e for e in doc["benchmarks"] if e["name"].startswith("CacheAside/read_heavy/"))
    entries = []
    for scenario, ttl, counters in runs:
        e = copy.deepcopy(base)
        e["name"] = e["run_name"] = (f"CacheAside/{scenario}/read_pct:90/ttl_ms:{ttl}/"
                                     "access:pool/iterations:2000/real_time/threads:4")
        e.update(counters)
        entries.append(e)
    doc["benchmarks"] = entries
    return doc


def table_row(stdout, first):
    """The split cells of the table row whose first cell is `first`."""
    return next(l.split() for l in stdout.splitlines()
                if l.startswith("  ") and l.split() and l.split()[0] == first)


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

    # -- the stampede view

    def test_stampede_view_in_the_terminal(self):
        path = write_json(self.tmp, "s.json", stampede_series(
            [1, 2, 9, 4, 2, 0], [0, 1, 12, 3, 0, 0], [0, 0, 5, 1, 0, 0]))
        proc = run_tool("plot", path, "--view", "stampede", "--color", "never")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn(STAMPEDE_TITLE, proc.stdout)
        row = next(l for l in proc.stdout.splitlines() if l.strip().startswith("+2s "))
        self.assertIn("█", row)
        self.assertRegex(row, r"\] 9 dup fills 12 +fill waits 5$")
        self.assertNotIn("early refreshes", proc.stdout)  # the file has none
        self.assertIn("at most 9 (second 2), mean 3.0 over 6 seconds; dup fills 16; "
                      "fill waits 6 in the run", proc.stdout)

    def test_stampede_view_is_drawn_by_default_only_with_its_figures(self):
        path = write_json(self.tmp, "s.json", stampede_series([0, 3, 1], [0, 2, 0]))
        proc = run_tool("plot", path, "--color", "never")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        for title in list(VIEW_TITLES.values()) + [STAMPEDE_TITLE]:
            self.assertIn(title, proc.stdout)
        # All zero (no database read in flight): the five views only.
        zero = write_json(self.tmp, "z.json", stampede_series([0, 0, 0], [0, 0, 0]))
        proc = run_tool("plot", zero, "--color", "never")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNotIn(STAMPEDE_TITLE, proc.stdout)
        for old in (SERIES, OLD_NO_CACHE):
            self.assertNotIn(STAMPEDE_TITLE, run_tool("plot", data(old)).stdout)

    def test_stampede_view_of_an_old_file_says_so(self):
        for old in (SERIES, OLD_NO_CACHE):
            proc = run_tool("plot", data(old), "--view", "stampede", "--color", "never")
            self.assertEqual(proc.returncode, 0, proc.stderr)
            lines = proc.stdout.strip().splitlines()
            self.assertEqual(len(lines), 2, proc.stdout)
            self.assertIn(NO_STAMPEDE, lines[1])
            self.assertIn("written before cabench measured them", lines[1])

    @unittest.skipUnless(HAS_MATPLOTLIB, "no matplotlib")
    def test_stampede_view_images(self):
        path = write_json(self.tmp, "s.json", stampede_series(
            [1, 2, 9, 4], [0, 1, 12, 3], [0, 0, 5, 1], [2, 0, 0, 1]))
        out = os.path.join(self.tmp, "img")
        proc = run_tool("plot", path, "--out", out, "-q")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        want = [os.path.join(out, f"s.{v}.{ext}") for v in list(VIEW_TITLES) +
                ["stampede", "overview"] for ext in ("png", "svg")]
        self.assert_valid_images(want)
        with open(os.path.join(out, "s.stampede.svg")) as f:
            text = f.read()
        for label in ("dup fills", "fill waits", "early refreshes"):
            self.assertIn(label, text)
        proc = run_tool("plot", data(SERIES), "--view", "stampede", "--svg", "--out", out, "-q")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(os.path.join(out, SERIES[:-5] + ".stampede.svg")) as f:
            self.assertIn("no stampede figures", f.read())

    # -- warm-up: where the hit rate becomes steady

    def test_steady_rule(self):
        start = steady_start
        # A ramp that settles: seconds 5 and 6 each within a point of the one before.
        self.assertEqual(start([10, 50, 80, 90, 95, 95.5, 95.8, 96]), 6)
        self.assertEqual(start([70.0] * 5), 2)  # flat: as early as the rule allows
        self.assertIsNone(start([10, 20, 30, 40, 50, 60]))  # never settles
        self.assertIsNone(start([90, 95, 90, 95, 90, 95]))  # noise above the threshold
        self.assertEqual(start([90, 90.4, 89.8, 90.3, 90.1]), 2)  # noise below it
        self.assertEqual(start([90, 95, 90, 95, 90, 95], steady_pct=6), 2)
        # Strictly less than the threshold, as the warm-up.
        self.assertIsNone(start([90, 91, 92, 93]))
        self.assertEqual(start([90, 91, 92, 93], steady_pct=1.01), 2)
        # One settled step is not enough: two in a row.
        self.assertIsNone(start([50, 80, 80.5, 95, 95.5, 99]))
        # A window without reads breaks the run.
        self.assertEqual(start([80, 80, None, 80, 80, 80]), 5)
        self.assertIsNone(start([]))
        self.assertIsNone(start([95, 95]))

    def test_steady_second_leaves_out_the_partial_windows(self):
        # Offsets 0..6; the partial first window (5%) would break 1..2; the last one
        # (0%) would not matter. Whole seconds 1..5: 90, 90, 90, ...: steady at offset 3.
        path = write_json(self.tmp, "r.json", rates_series([5, 90, 90, 90, 90, 90, 0]))
        secs = load_series(path)
        self.assertEqual(secs.steady_second().offset, 3)
        # Only the last window settles: not steady.
        path = write_json(self.tmp, "r2.json", rates_series([10, 20, 30, 40, 50, 50, 50]))
        self.assertIsNone(load_series(path).steady_second())

    def test_hit_rate_view_marks_the_steady_second(self):
        path = write_json(self.tmp, "r.json",
                          rates_series([5, 20, 60, 85, 93, 93.5, 94.1, 94.0, 60]))
        proc = run_tool("plot", path, "--view", "hit_rate", "--color", "never")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("steady from second 6 (hit rate 94.1%)", proc.stdout)
        row = next(l for l in proc.stdout.splitlines() if l.strip().startswith("+6s "))
        self.assertTrue(row.endswith("◀ steady from here"), row)
        self.assertEqual(proc.stdout.count("◀"), 1)
        # A looser threshold: steady earlier.
        proc = run_tool("plot", path, "--view", "hit_rate", "--steady-pct", "10",
                        "--color", "never")
        self.assertIn("steady from second 5 (hit rate 93.5%)", proc.stdout)
        # A run that never settles.
        never = write_json(self.tmp, "n.json", rates_series([10, 20, 30, 40, 50, 60, 70]))
        proc = run_tool("plot", never, "--view", "hit_rate", "--color", "never")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("no steady state within the run", proc.stdout)
        self.assertNotIn("◀", proc.stdout)
        # The recorded fixture (15 s of random_balanced) warms up throughout.
        proc = run_tool("plot", data(SERIES), "--view", "hit_rate", "--color", "never")
        self.assertRegex(proc.stdout, r"steady from second \d+|no steady state within the run")

    def test_steady_pct_values_and_scope(self):
        for bad in ("0", "-1", "nan", "101"):
            self.assert_one_line_error(run_tool("plot", data(NEW_SERIES), "--steady-pct", bad),
                                       "--steady-pct")
        self.assert_one_line_error(run_tool("plot", "pair", data(NEW_SERIES), data(NEW_SERIES),
                                            "--steady-pct", "2"), "--steady-pct applies")

    @unittest.skipUnless(HAS_MATPLOTLIB, "no matplotlib")
    def test_hit_rate_image_marks_the_steady_second(self):
        path = write_json(self.tmp, "r.json", rates_series([5, 20, 60, 85, 93, 93.5, 94.1, 40]))
        proc = run_tool("plot", path, "--view", "hit_rate", "--svg", "--out", self.tmp, "-q")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(os.path.join(self.tmp, "r.hit_rate.svg")) as f:
            self.assertIn("steady from second 6", f.read())

    # -- inflight: several runs' database reads in flight

    def inflight_files(self):
        runs = {"stampede": ([2, 40, 64, 30, 8], [0, 30, 50, 10, 0]),
                "stampede_jitter": ([2, 12, 16, 10, 3], [0, 6, 9, 2, 0]),
                "stampede_single_flight": ([2, 3, 2, 2, 1], [0, 0, 0, 0, 0]),
                "stampede_xfetch": ([2, 4, 3, 3], [0, 1, 0, 0])}
        # As cabench writes a run folder: series/ and each benchmark's parameters beside it.
        folder = os.path.join(self.tmp, "series")
        os.makedirs(folder, exist_ok=True)
        paths = [write_json(folder, BENCH_FILE.format(sc) + ".json",
                            stampede_series(in_flight, dup)) for sc, (in_flight, dup) in
                 runs.items()]
        write_json(self.tmp, "benchmarks.json",
                   {BENCH_FILE.format(sc): {"scenario": sc, "threads": 8, "read_pct": 99}
                    for sc in runs})
        return runs, paths

    def test_inflight_compares_runs(self):
        runs, paths = self.inflight_files()
        proc = run_tool("plot", "inflight", *paths, "--color", "never")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("Database reads in flight", proc.stdout)
        self.assertTrue(any(chr(c) in proc.stdout for c in range(0x2801, 0x2900)))
        for sc, (in_flight, dup) in runs.items():
            self.assertIn(f"] {sc}", proc.stdout)  # the legend: one line per run
            row = table_row(proc.stdout, sc)
            mean = sum(in_flight) / len(in_flight)
            self.assertEqual(row[1:], [str(len(in_flight)), str(max(in_flight)),
                                       f"{mean:.2f}", str(sum(dup))], sc)

    def test_inflight_leaves_out_old_files(self):
        _, paths = self.inflight_files()
        proc = run_tool("plot", "inflight", paths[0], data(SERIES), "--color", "never")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn(f"(left out: {SERIES}: {NO_STAMPEDE}", proc.stdout)
        self.assert_one_line_error(run_tool("plot", "inflight", data(OLD_NO_CACHE), data(SERIES)),
                                   "no file has stampede figures")
        self.assert_one_line_error(run_tool("plot", "inflight"), "usage: tools/plot inflight")
        # The same scenario twice: labelled by the files' names.
        twice = write_json(self.tmp, "again.json", stampede_series([1, 2], [0, 0]))
        proc = run_tool("plot", "inflight", paths[0], twice, paths[0], "--color", "never")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn(BENCH_FILE.format("stampede"), proc.stdout)

    @unittest.skipUnless(HAS_MATPLOTLIB, "no matplotlib")
    def test_inflight_images(self):
        _, paths = self.inflight_files()
        out = os.path.join(self.tmp, "img")
        proc = run_tool("plot", "inflight", *paths, "--out", out, "-q")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, "")
        stem = BENCH_FILE.format("stampede")
        self.assert_valid_images([os.path.join(out, f"{stem}.inflight.{ext}")
                                  for ext in ("png", "svg")])
        with open(os.path.join(out, f"{stem}.inflight.svg")) as f:
            self.assertIn("stampede_single_flight", f.read())

    # -- stale: hit rate and stale reads against TTL

    def stale_file(self, extra=()):
        runs = [("ttl_only", ttl, {"hit_rate_pct": hit, "stale_read_pct": stale,
                                   "stale_age_p50_ms": ttl / 4, "stale_age_p99_ms": ttl * 0.9,
                                   "ops_per_s": 20000.0 + ttl})
                for ttl, hit, stale in ((100, 40.0, 0.5), (1000, 80.0, 4.0),
                                        (10000, 95.0, 12.5))]
        # No stale read: no stale ages (absent, not 0).
        runs += [("invalidate", 1000, {"hit_rate_pct": 70.0, "stale_read_pct": 0.0,
                                       "ops_per_s": 1234.5})]
        return write_json(self.tmp, "ttl_sweep.json", stale_results(runs + list(extra)))

    def test_stale_against_ttl(self):
        path = self.stale_file(extra=[("old_run", 500, {"stale_read_pct": None})])
        proc = run_tool("plot", "stale", path, "--color", "never")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("Hit rate against TTL, %", proc.stdout)
        self.assertIn("Stale reads against TTL, % of the hits", proc.stdout)
        self.assertEqual(table_row(proc.stdout, "scenario")[:2], ["scenario", "ttl_ms"])
        rows = [l.split() for l in proc.stdout.splitlines() if l.startswith("  ttl_only")]
        self.assertEqual(rows, [["ttl_only", "100", "40.00", "0.500", "25.0", "90.0", "20,100"],
                                ["ttl_only", "1,000", "80.00", "4.000", "250.0", "900.0",
                                 "21,000"],
                                ["ttl_only", "10,000", "95.00", "12.500", "2,500.0",
                                 "9,000.0", "30,000"]])
        self.assertEqual(table_row(proc.stdout, "invalidate"),
                         ["invalidate", "1,000", "70.00", "0.000", "-", "-", "1,234"])
        self.assertIn("(left out: CacheAside/old_run/", proc.stdout)
        self.assertIn("no stale_read_pct", proc.stdout)
        proc = run_tool("plot", "stale", path, "--filter", "invalidate", "--color", "never")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNotIn("ttl_only", proc.stdout)

    def test_stale_without_stale_figures(self):
        # Files written before cabench measured stale reads: one line, exit 2.
        for name in ("new_single.json", "single.json"):
            self.assert_one_line_error(run_tool("plot", "stale", data(name)),
                                       "no benchmark has stale_read_pct", "nothing to plot")
        self.assert_one_line_error(run_tool("plot", "stale", self.stale_file(), "--filter",
                                            "nomatch"), "no benchmark matching --filter")
        self.assert_one_line_error(run_tool("plot", "stale", self.stale_file(), "--x", "ttl"),
                                   "--x applies to 'curve' only")
        self.assert_one_line_error(run_tool("plot", data(NEW_SERIES), "--filter", "x"),
                                   "--filter applies")

    @unittest.skipUnless(HAS_MATPLOTLIB, "no matplotlib")
    def test_stale_images(self):
        proc = run_tool("plot", "stale", self.stale_file(), "--png", "--svg", "-q")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assert_valid_images([os.path.join(self.tmp, f"ttl_sweep.stale.{ext}")
                                  for ext in ("png", "svg")])

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
        hists = report.load_histograms(data("histograms_read_heavy.json"), [50, 95, 99, 99.9])
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
        hists = report.load_histograms(data("histograms_new_cache.json"), [50, 99, 99.9])
        self.assertEqual(sorted(hists), sorted(["overall", "hit", "miss", "db_read", "fallback",
                                                "write", "error", "get", "select", "set",
                                                "insert", "del"]))
        counters = next(e for e in load("new_single.json")["benchmarks"]
                        if e["name"].startswith("CacheAside/read_heavy/"))
        for cls in ("hit", "miss", "write"):
            for suffix, p in (("p50_us", 50), ("p99_us", 99), ("p999_us", 99.9)):
                self.assertAlmostEqual(hists[cls].percentile(p) / 1000.0,
                                       counters[f"{cls}_{suffix}"], places=6)
        self.assertAlmostEqual(hists["get"].mean() / 1000.0, counters["get_avg_us"], places=6)
        # The old file's step keys read as today's.
        old = report.load_histograms(data("histograms_read_heavy.json"), [50])
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
                hists = report.load_histograms(path, [50])
                rows = {l.split()[0]: l for l in proc.stdout.splitlines()
                        if l.startswith("  ") and len(l.split()) == 11}
                self.assertIn(f"{hists['hit'].count:,}", rows["hit"])
                # The p99's interval, where the class has the samples to bound it.
                hists = report.load_histograms(path, [99])
                for cls in ("hit", "miss", "write", "overall"):
                    ci = hists[cls].interval(99)
                    self.assertEqual(ci is None, hists[cls].count < 368, cls)
                    if ci:
                        self.assertLessEqual(ci[0], hists[cls].percentile(99))
                        self.assertGreaterEqual(ci[1], hists[cls].percentile(99))
                        self.assertLess(ci[0], ci[1])
                    self.assertEqual(rows[cls].split()[-1] == "-", ci is None, rows[cls])
                self.assertEqual(sorted(rows), sorted(["class", "hit", "miss", "write",
                                                       "overall"]))
                self.assert_valid_images([os.path.join(self.tmp, name[:-5] + ".percentiles."
                                                       + ext) for ext in ("png", "svg")])
        proc = run_tool("plot", data("histograms_new_no_cache.json"), "--color", "never")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        rows = [l.split()[0] for l in proc.stdout.splitlines()
                if l.startswith("  ") and len(l.split()) == 11]
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
            (["percentiles", bad_hist], "'hit': histogram:"),
            (["percentiles", data(SERIES)], "not a JSON object of strings"),
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
        for view in list(VIEW_TITLES) + ["stampede"]:
            self.assertIn(view, proc.stdout)
        for usage in ("tools/plot inflight SERIES.json [SERIES.json ...]",
                      "tools/plot stale RESULTS.json [--filter REGEX]", "--steady-pct P"):
            self.assertIn(usage, proc.stdout)
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

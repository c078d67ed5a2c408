"""Tests of cabench_py.names: the Python reading of lib/metrics/names.def."""
import os
import re
import sys
import tempfile
import unittest

from helpers import TOOLS

sys.path.insert(0, TOOLS)
from cabench_py import names  # noqa: E402


class TableTest(unittest.TestCase):
    def test_every_line_of_names_def_is_parsed(self):
        # A line the parser skipped would be a name the tools do not know.
        with open(names.NAMES_DEF, encoding="utf-8") as f:
            lines = [l for l in f if re.match(r"^\s*CABENCH_[A-Z_]+\s*\(", l)]
        t = names.table()
        parsed = (len(t.classes) + len(t.steps) + len(t.class_stats) + len(t.step_stats) +
                  len(t.counters) + len(t.series) + len(t.aliases))
        self.assertEqual(t.entries, len(lines))
        self.assertEqual(parsed, len(lines))
        per_macro = {}
        for l in lines:
            macro = l.strip().split("(")[0].strip()
            per_macro[macro] = per_macro.get(macro, 0) + 1
        self.assertEqual(per_macro.get("CABENCH_CLASS", 0), len(t.classes))
        self.assertEqual(per_macro.get("CABENCH_STEP", 0), len(t.steps))
        self.assertEqual(per_macro.get("CABENCH_COUNTER", 0), len(t.counters))
        self.assertEqual(per_macro.get("CABENCH_SERIES", 0), len(t.series))
        self.assertEqual(per_macro.get("CABENCH_ALIAS", 0), len(t.aliases))

    def test_the_names_the_tools_rely_on(self):
        self.assertEqual(names.class_names(), ["hit", "miss", "db_read", "fallback", "write",
                                               "error"])
        self.assertEqual(names.step_names(),
                         ["get", "select", "set", "insert", "del", "lock", "fill_wait"])
        for c in ("ops", "reads", "writes", "cache_hits", "cache_misses", "db_reads", "errors",
                  "wall_s", "ops_per_s", "hit_rate_pct", "predicted_hit_rate_pct",
                  "db_avg_us", "db_p99_us", "speedup", "miss_vs_hit", "p50_us", "p99_us"):
            self.assertIn(c, names.counters(), c)
        self.assertNotIn("cache_hit_avg_us", names.all_counter_names())
        for c in ("hit_p99_us", "miss_avg_us", "db_read_p50_us", "fallback_max_us",
                  "write_p999_us", "get_avg_us", "select_p99_us", "del_avg_us"):
            self.assertIn(c, names.all_counter_names(), c)
            self.assertTrue(names.is_known(c))
        self.assertEqual(names.histogram_keys()[:2], ["overall", "hit"])
        self.assertEqual(names.reference_series_fields(),
                         ["count", "total_time_us", "avg_time_us", "min_time_us",
                          "max_time_us", "reads", "writes", "cache_hits", "cache_misses"])
        fields = names.series_fields()
        for f in ("db_reads", "fallback_reads", "db_min_us", "db_max_us", "hit_min_us",
                  "hit_avg_us", "hit_p99_us", "db_read_avg_us", "fallback_p99_us",
                  "write_avg_us"):
            self.assertIn(f, fields)
        self.assertNotIn("error_avg_us", fields)  # failed operations have no series average

    def test_directions(self):
        want = {
            "ops_per_s": "higher", "hit_rate_pct": "higher", "speedup": "higher",
            "errors": "lower", "p99_us": "lower",
            "reads": None, "miss_vs_hit": None,         # a count, a fact
            "hit_p99_us": "lower", "db_read_max_us": "lower",  # per class: the stat's
            "select_avg_us": "lower",                   # per step: the stat's
            "select_p50_us": None,                      # no such step stat
            "no_such_counter": None,
            "cache_hit_avg_us": "lower",                # an old spelling: today's name's
        }
        for counter, direction in want.items():
            self.assertEqual(names.direction(counter), direction, counter)

    def test_normalize(self):
        self.assertEqual(names.normalize_key("cache_hit_avg_us"), "hit_avg_us")
        self.assertEqual(names.normalize_key("cache_miss_p99_us"), "miss_p99_us")
        self.assertEqual(names.normalize_key("cache_get"), "get")
        self.assertEqual(names.normalize_key("db_select"), "select")
        self.assertEqual(names.normalize_key("hit_avg_us"), "hit_avg_us")
        self.assertEqual(names.normalize_keys({"cache_hit_avg_us": 1, "hit_avg_us": 2,
                                               "cache_del": 3}),
                         {"hit_avg_us": 2, "del": 3})
        old = "CacheAside/x/read_pct:80/ttl_ms:300000/access:0/iterations:2000/real_time/threads:4"
        self.assertEqual(names.normalize_benchmark_name(old), old.replace("access:0",
                                                                          "access:pool"))
        self.assertIn("/access:random/",
                      names.normalize_benchmark_name(old.replace("access:0", "access:1")))
        new = old.replace("access:0", "access:zipf")
        self.assertEqual(names.normalize_benchmark_name(new), new)
        self.assertEqual(names.normalize_benchmark_name("CacheAside/x/access:1"),
                         "CacheAside/x/access:random")

    def test_every_counter_says_its_unit_and_how_shards_merge_it(self):
        self.assertEqual(names.counters()["ops_per_s"].unit, "per_s")
        self.assertEqual(names.merge_rule("ops_per_s"), "run")
        self.assertEqual(names.merge_rule("bookings_removed"), "sum")
        self.assertEqual(names.merge_rule("stale_reads"), "shard")
        self.assertEqual(names.merge_rule("db_queries"), "server")
        self.assertEqual(names.merge_rule("hit_p99_us"), "run")
        self.assertIsNone(names.merge_rule("no_such_counter"))
        self.assertEqual([s.stat for s in names.class_stats()][:6],
                         ["mean", "p50", "p95", "p99", "p999", "max"])

    def test_meaning(self):
        self.assertIn("ops / wall_s", names.meaning("ops_per_s"))
        self.assertIn("99th percentile", names.meaning("hit_p99_us"))
        self.assertIn("reads + writes + errors", names.meaning("count"))


class MalformedTableTest(unittest.TestCase):
    GOOD = ('CABENCH_CLASS(kHit, "hit", "a read")\n'
            'CABENCH_CLASS_STAT("avg_us", lower, mean, "mean")\n'
            'CABENCH_COUNTER(kOps, "ops", count, none, run, "operations")\n'
            'CABENCH_SERIES(kCount, "count", always, "operations")\n'
            'CABENCH_ALIAS("cache_hit_avg_us", "hit_avg_us")\n')

    def parse(self, text):
        with tempfile.NamedTemporaryFile("w", suffix=".def", delete=False) as f:
            f.write("// File: names.def\n#ifndef CABENCH_CLASS\n#define CABENCH_CLASS(a, b, c)\n"
                    "#endif\n" + text)
        try:
            return names.parse(f.name)
        finally:
            os.unlink(f.name)

    def test_a_good_table(self):
        t = self.parse(self.GOOD)
        self.assertEqual(t.entries, 5)
        self.assertIsNone(t.counters["ops"].better)

    def test_malformed_lines_fail_loudly_naming_the_line(self):
        bad = [
            'CABENCH_COUNTER(kX, "x", count, sideways, sum, "bad better")',
            'CABENCH_COUNTER(kX, "x", furlongs, lower, sum, "bad unit")',
            'CABENCH_COUNTER(kX, "x", count, lower, average, "bad merge rule")',
            'CABENCH_CLASS_STAT("p42_us", lower, p42, "bad stat")',
            'CABENCH_COUNTER(kX, "x", count, lower, sum)',
            'CABENCH_COUNTER(kX, x, count, lower, sum, "unquoted name")',
            'CABENCH_COUNTER(kX, "x", count, lower, sum, "m", "extra")',
            'CABENCH_COUNTER(kX, "x", count, lower, sum, "a \\"quote\\"")',
            'CABENCH_GAUGE(kX, "x", "unknown macro")',
            'CABENCH_CLASS(kHit2, "hit", "twice")',
            'CABENCH_COUNTER(kOps2, "ops", count, none, sum, "twice")',
            'CABENCH_ALIAS("a", "a")',
            'CABENCH_COUNTER(kX, "x", count, lower, sum, "m") trailing',
        ]
        for line in bad:
            with self.assertRaisesRegex(names.NamesError, r"\.def:10:", msg=line):
                self.parse(self.GOOD + line + "\n")

    def test_missing_file(self):
        with self.assertRaisesRegex(names.NamesError, "cannot read"):
            names.parse("/nonexistent/names.def")
        with self.assertRaisesRegex(names.NamesError, "not names.def"):
            self.parse("// nothing\n")


if __name__ == "__main__":
    unittest.main()

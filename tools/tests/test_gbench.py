"""Tests of cabench_py.gbench, series and histogram loading: today's names for both
today's files and older ones (read through lib/metrics/names.def's aliases)."""
import json
import os
import sys
import tempfile
import unittest

from helpers import TOOLS, data, load

sys.path.insert(0, TOOLS)
from cabench_py import gbench, names, series  # noqa: E402
from cabench_py.common import ToolError  # noqa: E402


def by_scenario(results):
    return {e["name"].split("/")[1]: e for e in results.entries}


class GbenchTest(unittest.TestCase):
    def test_todays_file_is_read_as_written(self):
        r = gbench.load_results(data("new_single.json"))
        self.assertFalse(r.legacy)
        raw = load("new_single.json")["benchmarks"]
        self.assertEqual(r.entries, raw)
        # Every counter in it is a name of the table.
        for e in r.entries:
            for key in e:
                if key not in gbench.STANDARD_KEYS:
                    self.assertTrue(names.is_known(key), key)

    def test_todays_no_cache_run_lacks_the_cache_counters(self):
        e = by_scenario(gbench.load_results(data("new_single.json")))["no_cache_baseline"]
        for key in ("hit_rate_pct", "predicted_hit_rate_pct", "speedup", "miss_vs_hit",
                    "hit_avg_us", "hit_p99_us", "get_avg_us"):
            self.assertNotIn(key, e)
        self.assertEqual(e["db_reads"], e["reads"])
        self.assertEqual(e["ops"], e["reads"] + e["writes"] + e["errors"])
        self.assertAlmostEqual(e["ops_per_s"], e["ops"] / e["wall_s"])

    def test_an_old_file_reads_in_todays_names(self):
        r = gbench.load_results(data("single.json"))
        self.assertTrue(r.legacy)
        old = {e["name"].split("/")[1]: e for e in load("single.json")["benchmarks"]}
        new = by_scenario(r)
        for scenario, e in new.items():
            self.assertIn("/access:pool/", e["name"])
            self.assertEqual(e["name"], e["run_name"])
            self.assertNotIn("cache_hit_avg_us", e)
            self.assertEqual(e["ops"], old[scenario]["reads"] + old[scenario]["writes"])
            self.assertIn(e["name"], r.runs)
        rh = new["read_heavy"]
        self.assertEqual(rh["hit_avg_us"], old["read_heavy"]["cache_hit_avg_us"])
        self.assertEqual(rh["cache_misses"], old["read_heavy"]["cache_misses"])
        # The old run without a cache counted its reads as misses, and wrote zeros
        # for what did not apply: today's meaning is db_reads, and absent counters.
        nc, old_nc = new["no_cache_baseline"], old["no_cache_baseline"]
        self.assertEqual(nc["db_reads"], old_nc["cache_misses"])
        self.assertEqual(nc["cache_misses"], 0)
        self.assertEqual(nc["db_read_p99_us"], old_nc["miss_p99_us"])
        for key in ("hit_rate_pct", "predicted_hit_rate_pct", "speedup", "hit_avg_us",
                    "hit_p99_us", "miss_p99_us"):
            self.assertNotIn(key, nc)

    def test_old_and_new_files_of_the_same_run_agree(self):
        # new_single.json was made from single.json's runs: read through the
        # aliases, the old file gives the same names and values.
        old = by_scenario(gbench.load_results(data("single.json")))
        new = by_scenario(gbench.load_results(data("new_single.json")))
        for scenario in ("read_heavy", "no_cache_baseline"):
            o, n = old[scenario], new[scenario]
            self.assertEqual(o["name"], n["name"])
            added = {"wall_s", "miss_vs_hit", "max_us", "reconnects", "reconnect_failures",
                     "reconnect_wait_ms", "bookings_removed", "db_reads", "family_index"}
            for key in set(o) | set(n):
                if key in added:
                    continue
                self.assertEqual(o.get(key), n.get(key), (scenario, key))

    def test_both_spellings_today_wins(self):
        doc = load("single.json")
        doc["benchmarks"][0]["cache_hit_avg_us"] = -1.0
        r = gbench.results_from_json(doc, "x.json")
        self.assertEqual(r.entries[0]["hit_avg_us"], doc["benchmarks"][0]["hit_avg_us"])

    def test_failed_entries(self):
        doc = load("new_single.json")
        doc["benchmarks"][1] = {"name": doc["benchmarks"][1]["name"], "run_type": "iteration",
                                "error_occurred": True, "error_message": "db: refused"}
        r = gbench.results_from_json(doc, "x.json")
        self.assertEqual([e["error_message"] for e in r.failed()], ["db: refused"])

    def test_not_google_benchmark_json(self):
        for doc in ([], {"benchmarks": []}, {"context": {}}, {"context": {}, "benchmarks": [1]}):
            with self.assertRaises(ToolError, msg=json.dumps(doc)):
                gbench.results_from_json(doc, "x.json")


class SeriesTest(unittest.TestCase):
    def test_formats(self):
        old = series.load_series(data("series_random_balanced.json"))
        new = series.load_series(data("series_new_cache.json"))
        self.assertTrue(old.legacy)
        self.assertFalse(new.legacy)
        self.assertTrue(old.has_cache() and new.has_cache())
        for s in old:
            self.assertNotIn("cache_hit_avg_us", s.fields)
            self.assertIsNotNone(s.get("hit_avg_us"))
            self.assertEqual(s.count("count"), s.count("reads") + s.count("writes"))
        for s in new:
            self.assertEqual(s.count("count"),
                             s.count("reads") + s.count("writes") + s.count("errors"))
            for key in names.series_fields():
                self.assertIn(key, s.fields)

    def test_runs_without_a_cache(self):
        for name in ("series_no_cache.json", "series_new_no_cache.json"):
            s = series.load_series(data(name))
            self.assertFalse(s.has_cache(), name)
            self.assertTrue(all(x.hit_rate_pct() is None or name == "series_no_cache.json"
                                for x in s))
        # Today's file has every always-field (db_reads_in_flight_max included), and no
        # cache field.
        for s in series.load_series(data("series_new_no_cache.json")):
            for key in names.series_fields():
                self.assertIn(key, s.fields)
            self.assertNotIn("stale_reads", s.fields)

    def test_a_cache_that_never_answered_is_still_a_cache(self):
        doc = load("series_new_no_cache.json")
        first = sorted(doc)[0]
        doc[first]["fallback_reads"], doc[first]["db_reads"] = doc[first]["db_reads"], 0
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "s.json")
            with open(path, "w") as f:
                json.dump(doc, f)
            self.assertTrue(series.load_series(path).has_cache())


if __name__ == "__main__":
    unittest.main()

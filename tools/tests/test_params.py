"""cabench_py.params: a benchmark's parameters from what cabench recorded, never its name."""
import json
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from cabench_py import params, series  # noqa: E402
from cabench_py.common import ToolError  # noqa: E402

STEM = "CacheAside_stampede_jitter_read_pct-99_ttl_ms-1000_access-pool_iterations-5000_real_time_threads-8"


class ParamsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cabench-params-test-")
        os.mkdir(os.path.join(self.tmp, "series"))

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def record(self, obj):
        with open(os.path.join(self.tmp, "benchmarks.json"), "w") as f:
            json.dump(obj, f)

    def test_a_series_file_is_named_by_its_recorded_parameters(self):
        self.record({STEM: {"scenario": "stampede_jitter", "threads": 8,
                            "benchmark": "CacheAside/stampede_jitter/x"},
                     "T": {"scenario": "steady_load", "threads": 8, "twin": True}})
        path = os.path.join(self.tmp, "series", STEM + ".json")
        self.assertEqual(params.of_series(path)["threads"], 8)
        self.assertEqual(series.scenario_of_file(path), "stampede_jitter")
        run2 = os.path.join(self.tmp, "series", STEM + "_run2.json")
        self.assertEqual(params.of_series(run2)["run"], 2)
        self.assertEqual(series.scenario_of_file(run2), "stampede_jitter run 2")
        twin = os.path.join(self.tmp, "series", "T.json")
        self.assertEqual(series.scenario_of_file(twin), "steady_load@no_cache")

    def test_without_a_record_the_file_is_its_own_name(self):
        path = os.path.join(self.tmp, "series", STEM + ".json")
        self.assertIsNone(params.of_series(path))
        self.assertEqual(series.scenario_of_file(path), STEM)

    def test_a_results_file_finds_the_record_beside_it_or_in_its_out_dir(self):
        self.record({"S": {"scenario": "a", "benchmark": "CacheAside/a/threads:2"}})
        beside = os.path.join(self.tmp, "cabench.json")
        self.assertEqual(params.of_results(beside, {"context": {}}),
                         {"CacheAside/a/threads:2": {"scenario": "a",
                                                     "benchmark": "CacheAside/a/threads:2"}})
        elsewhere = os.path.join(self.tmp, "series", "cabench.json")
        self.assertEqual(params.of_results(elsewhere, {"context": {}}), {})
        self.assertIn("CacheAside/a/threads:2",
                      params.of_results(elsewhere, {"context": {"out_dir": self.tmp}}))
        self.record([1, 2])
        with self.assertRaises(ToolError):
            params.of_folder(self.tmp)


if __name__ == "__main__":
    unittest.main()

"""tools/figures: every figure of the Markdown files derived again from its results file."""
import copy
import json
import os
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helpers import ROOT, ToolTestCase, run_tool  # noqa: E402

# The run folder's benchmarks.json, as cabench writes it beside its results.
PARAMS = {
    "CacheAside_a": {"benchmark": "CacheAside/a/iterations:10/real_time/threads:2",
                     "scenario": "a", "ttl_ms": 100},
    "CacheAside_b": {"benchmark": "CacheAside/b/iterations:10/real_time/threads:4",
                     "scenario": "b", "ttl_ms": 2500}}
RESULTS = {
    "context": {},
    "benchmarks": [
        {"name": "CacheAside/a/iterations:10/real_time/threads:2",
         "run_name": "CacheAside/a/iterations:10/real_time/threads:2", "threads": 2,
         "run_type": "iteration", "ops_per_s": 12345.678, "hit_rate_pct": 31.38,
         "p99_us": 1500.0},
        {"name": "CacheAside/b/iterations:10/real_time/threads:4",
         "run_name": "CacheAside/b/iterations:10/real_time/threads:4", "threads": 4,
         "run_type": "iteration", "ops_per_s": 2000.0, "hit_rate_pct": 65.284,
         "p99_us": 250.0},
    ]}

TABLE = """# Doc

<!-- figures: res/run.json
     rows: ^CacheAside/
     columns: scenario = @scenario; TTL ms = @ttl_ms; threads = @threads;
       ops/s = ops_per_s:,.0f; hit % = hit_rate_pct:.1f; p99 ms = p99_us / 1000:.2f -->
{table}<!-- /figures -->

The first runs <!-- figure: res/run.json; row: /a/; value: ops_per_s / 1000:.1f -->{k}<!-- /figure -->k ops/s.
"""
GOOD = ("| scenario | TTL ms | threads | ops/s | hit % | p99 ms |\n|---|---|---|---|---|---|\n"
        "| a | 100 | 2 | 12,346 | 31.4 | 1.50 |\n| b | 2500 | 4 | 2,000 | 65.3 | 0.25 |\n")


class FiguresTest(ToolTestCase):
    TOOL = "figures"

    def setUp(self):
        super().setUp()
        os.mkdir(os.path.join(self.tmp, "res"))
        with open(os.path.join(self.tmp, "res", "run.json"), "w") as f:
            json.dump(RESULTS, f)
        with open(os.path.join(self.tmp, "res", "benchmarks.json"), "w") as f:
            json.dump(PARAMS, f)
        self.doc = os.path.join(self.tmp, "README.md")

    def write(self, table, k="12.3"):
        with open(self.doc, "w") as f:
            f.write(TABLE.format(table=table, k=k))

    def figures(self, *args):
        return run_tool("figures", "--root", self.tmp, *args, self.doc)

    def test_figures_as_their_file_says_pass(self):
        self.write(GOOD)
        proc = self.figures("--check")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("2 figure(s), 0 differ", proc.stderr)

    def test_a_figure_that_differs_fails_and_names_its_line(self):
        self.write(GOOD.replace("31.4", "31.5"))
        proc = self.figures("--check")
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn("README.md:3:", proc.stdout)
        self.assertIn("31.5", proc.stdout)
        self.write(GOOD, k="12.4")
        proc = self.figures("--check")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("'12.4'", proc.stdout)
        self.assertIn("'12.3'", proc.stdout)

    def test_write_derives_every_figure_again(self):
        self.write("| old |\n", k="?")
        proc = self.figures("--write")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(self.doc) as f:
            text = f.read()
        self.assertEqual(text, TABLE.format(table=GOOD, k="12.3"))
        self.assertEqual(self.figures("--check").returncode, 0)

    def test_bad_markers_are_one_line_errors(self):
        cases = [
            (TABLE.replace("res/run.json", "res/none.json", 1), "res/none.json: no such file"),
            (TABLE.replace("rows: ^CacheAside/", "rows: ^Nothing/"), "no entry of res/run.json"),
            (TABLE.replace("row: /a/", "row: CacheAside"), "selects 2 entries"),
            (TABLE.replace("@ttl_ms", "@rate_per_s"), "has no parameter rate_per_s"),
            (TABLE.replace("p99_us / 1000", "p99_us ** 2"), "is not arithmetic over fields"),
            (TABLE.replace("hit_rate_pct:.1f", "hit_ratio:.1f"), "has no field hit_ratio"),
        ]
        for text, fragment in cases:
            with open(self.doc, "w") as f:
                f.write(text.format(table=GOOD, k="12.3"))
            self.assert_one_line_error(self.figures("--check"), fragment)

    def write_json(self, rel, doc):
        """Writes `doc` to res/REL (its folder made when missing)."""
        path = os.path.join(self.tmp, "res", rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            json.dump(doc, f)

    def check_doc(self, text, expected):
        """--write turns `text` (markers with empty bodies) into `expected`, and --check
        then passes."""
        with open(self.doc, "w") as f:
            f.write(text)
        proc = self.figures("--write")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(self.doc) as f:
            self.assertEqual(f.read(), expected)
        self.assertEqual(self.figures("--check").returncode, 0)

    def check_table(self, marker, table):
        """--write fills the empty table of `marker` with `table`; --check then passes."""
        self.check_doc(marker + "<!-- /figures -->\n", marker + table + "<!-- /figures -->\n")

    def test_several_files_groups_and_the_file_of_each_entry(self):
        other = copy.deepcopy(RESULTS)
        other["benchmarks"] = other["benchmarks"][1:]
        other["benchmarks"][0]["hit_rate_pct"] = 70.0
        self.write_json("more/run2.json", other)
        marker = ("<!-- figures: res/run.json,\n       res/more/run2.json\n"
                  "     rows: ^CacheAside/(\\w+)/\n"
                  "     columns: file = @file; scenario = @1; hit % = hit_rate_pct:.1f -->\n")
        self.check_table(marker, "| file | scenario | hit % |\n|---|---|---|\n"
                         "| res/run.json | a | 31.4 |\n| res/run.json | b | 65.3 |\n"
                         "| res/more/run2.json | b | 70.0 |\n")

    def test_an_absent_field_is_a_dash_only_when_it_may_be_absent(self):
        results = copy.deepcopy(RESULTS)
        del results["benchmarks"][1]["hit_rate_pct"]
        self.write_json("run.json", results)
        marker = ("<!-- figures: res/run.json; rows: ^CacheAside/(\\w+)/\n"
                  "     columns: scenario = @1; hit % = hit_rate_pct?:.1f;"
                  " hit ratio = hit_rate_pct? / 100:.3f -->\n")
        self.check_table(marker, "| scenario | hit % | hit ratio |\n|---|---|---|\n"
                         "| a | 31.4 | 0.314 |\n| b | - | - |\n")
        with open(self.doc, "w") as f:
            f.write(marker.replace("?", "") + "<!-- /figures -->\n")
        self.assert_one_line_error(self.figures("--check"), "has no field hit_rate_pct")

    def test_a_mean_with_its_interval_from_the_sibling_aggregates(self):
        results = copy.deepcopy(RESULTS)
        run = results["benchmarks"][0]["run_name"]
        for agg, ops in (("mean", 1000.0), ("ci95_lo", 900.4), ("ci95_hi", 1100.6)):
            results["benchmarks"].append({"name": run + "_" + agg, "run_name": run,
                                          "run_type": "aggregate", "aggregate_name": agg,
                                          "ops_per_s": ops})
        self.write_json("run.json", results)
        marker = ("<!-- figures: res/run.json; rows: ^CacheAside/(\\w+)/; "
                  "where: aggregate_name=mean\n"
                  "     columns: scenario = @1; ops/s = ops_per_s:,.0f;"
                  " 95% CI = ops_per_s@ci95_lo .. ops_per_s@ci95_hi:,.0f;"
                  " hit = hit_rate_pct@ci95_lo? .. hit_rate_pct@ci95_hi?:.1f -->\n")
        self.check_table(marker, "| scenario | ops/s | 95% CI | hit |\n|---|---|---|---|\n"
                         "| a | 1,000 | 900..1,101 | - |\n")
        with open(self.doc, "w") as f:
            f.write(marker.replace("ci95_lo ..", "p90 ..") + "<!-- /figures -->\n")
        self.assert_one_line_error(self.figures("--check"), "has no p90 aggregate")

    def test_other_json_files_by_a_path_to_their_entries(self):
        doc = {"rows": [{"scenario": "a", "threads": 1, "qps": 1234.5, "flag": True},
                        {"scenario": "a", "threads": 2, "qps": 2345.5, "flag": True},
                        {"scenario": "b", "threads": 1, "qps": 99.0, "flag": True}],
               "results": {"x": {"value": 1.0111, "cap": {"rate_per_s": 8795}},
                           "y": {"value": 0.5, "cap": {"rate_per_s": 30170}}},
               "ratio": {"value": 3.4303, "bound": "exact"}}
        self.write_json("other.json", doc)
        marker = ("<!-- figures: res/other.json; in: rows; rows: ^scenario:a/\n"
                  "     columns: threads = threads; QPS = qps:,.0f -->\n")
        inline = ("x: <!-- figure: res/other.json; in: results; row: ^x$;"
                  " value: value:.2f -->{}<!-- /figure -->, y/x: <!-- figure: res/other.json;"
                  " in: results; row: ^y$; value: cap.rate_per_s / 8795:.2f -->{}"
                  "<!-- /figure -->, ratio <!-- figure: res/other.json; in: ratio; row: ratio;"
                  " value: value:.1f -->{}<!-- /figure -->\n")
        self.check_doc(marker + "<!-- /figures -->\n" + inline.format("", "", ""),
                       marker + "| threads | QPS |\n|---|---|\n| 1 | 1,234 |\n"
                       "| 2 | 2,346 |\n<!-- /figures -->\n" + inline.format("1.01", "3.43", "3.4"))
        for text, fragment in [
                (marker.replace("in: rows", "in: nothing") + "<!-- /figures -->\n",
                 "has no 'nothing'"),
                (marker.replace("qps:", "qps.x:") + "<!-- /figures -->\n",
                 "has no field qps.x"),
                (marker.replace("threads = threads", "threads = @2") + "<!-- /figures -->\n",
                 "has no group 2")]:
            with open(self.doc, "w") as f:
                f.write(text)
            self.assert_one_line_error(self.figures("--check"), fragment)

    def test_unknown_flag(self):
        self.write(GOOD)
        self.assert_one_line_error(self.figures("--frobnicate"), "unrecognized arguments")


class RepositoryFiguresTest(unittest.TestCase):
    """Every figure in this repository's Markdown files is what its results file says."""

    def test_the_repositorys_figures_match_their_files(self):
        proc = run_tool("figures", "--check")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

    def test_measured_tables_sit_in_figures_markers(self):
        # A Markdown table with decimals or grouped thousands outside a marker is a figure
        # no file backs (tables of options and settings have none).
        import re
        sys.path.insert(0, os.path.join(ROOT, "tools"))
        from cabench_py import figures
        for path in figures.markdown_files(ROOT):
            with open(path) as f:
                text = f.read()
            bare = re.sub(r"<!--\s*figures:.*?<!--\s*/figures\s*-->", "", text, flags=re.S)
            bare = re.sub(r"```.*?```", "", bare, flags=re.S)
            for n, line in enumerate(bare.splitlines(), 1):
                if line.startswith("|") and re.search(r"\|\s*-?[\d,]*\d\.\d+\s*(%|x|ms|us)?\s*\|",
                                                      line):
                    self.fail(f"{os.path.relpath(path, ROOT)}: a measured table outside a "
                              f"figures marker: {line.strip()}")


if __name__ == "__main__":
    unittest.main()

"""tools/record: filing result files into the results history (no servers)."""
import json
import os
import shutil
import unittest

from helpers import ROOT, ToolTestCase, run_tool, write_json

BASELINE = os.path.join(ROOT, "results", "baseline", "cabench.json")


class RecordTest(ToolTestCase):
    TOOL = "record"

    def setUp(self):
        super().setUp()
        self.root = os.path.join(self.tmp, "history")
        with open(BASELINE) as f:
            self.doc = json.load(f)

    def record(self, *paths, machine="m1"):
        return run_tool("record", "--history", self.root, "--machine", machine, *paths)

    def run_file(self, **context):
        """A copy of the baseline in its own folder with a series/ file beside it."""
        doc = json.loads(json.dumps(self.doc))
        doc["context"].update(context)
        folder = os.path.join(self.tmp, "run")
        os.makedirs(os.path.join(folder, "series"), exist_ok=True)
        name = doc["benchmarks"][0]["name"].replace("/", "_").replace(":", "-")
        write_json(os.path.join(folder, "series"), name + ".json", {"series": []})
        write_json(os.path.join(folder, "series"), "not_of_this_run.json", {})
        return write_json(folder, "cabench.json", doc)

    def test_files_the_run_by_machine_time_and_commit(self):
        path = self.run_file(date="2026-12-02T19:47:45+01:00", cabench_git_rev="74d41d9f2bb2")
        proc = self.record(path)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        stem = os.path.join(self.root, "m1", "20261202-184745_74d41d9f2bb2")
        with open(stem + ".json") as f, open(path) as g:
            self.assertEqual(f.read(), g.read())
        self.assertEqual(os.listdir(os.path.join(stem, "series")),
                         [n for n in os.listdir(os.path.join(self.tmp, "run", "series"))
                          if n != "not_of_this_run.json"])
        with open(os.path.join(stem, "record.json")) as f:
            self.assertEqual(json.load(f)["marks"], [])
        again = self.record(path)
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertIn("already in the history", again.stdout)

    def test_marks_a_dirty_or_non_release_run(self):
        path = self.run_file(cabench_git_rev="74d41d9f2bb2-dirty", cabench_build_type="Debug")
        proc = self.record(path)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("marked: dirty tree", proc.stdout)
        self.assertIn("marked: Debug build", proc.stdout)

    def test_machine_name_from_the_environment(self):
        path = self.run_file()
        proc = run_tool("record", path, env={"CABENCH_HISTORY_DIR": self.root,
                                             "CABENCH_MACHINE": "ci-box"})
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(os.listdir(self.root), ["ci-box"])

    def test_another_run_at_the_same_second_is_refused(self):
        self.assertEqual(self.record(self.run_file()).returncode, 0)
        shutil.rmtree(os.path.join(self.tmp, "run"))
        path = self.run_file(host_name="other")
        self.assert_one_line_error(self.record(path), "already holds another run")

    def test_bad_input(self):
        self.assert_one_line_error(self.record(os.path.join(self.tmp, "nope.json")),
                                   "no such file")
        self.assert_one_line_error(self.record(self.truncated("single.json")), "not valid JSON")
        self.assert_one_line_error(self.record(self.run_file(cabench_git_rev="")),
                                   "no git revision")
        self.assert_one_line_error(self.record(self.run_file(date="yesterday")),
                                   "no readable date")
        self.assert_one_line_error(self.record(self.run_file(), machine="a/b"),
                                   "machine name 'a/b'")
        self.assert_one_line_error(run_tool("record"), "expected FILE.json")


if __name__ == "__main__":
    unittest.main()

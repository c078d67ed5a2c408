"""tools/bisect-check against a fake cabench (no build, no servers): good, bad, cannot
test, bad input, and the exit codes git bisect run reads."""
import json
import os
import socket
import stat
import subprocess
import unittest

from helpers import PYTHON, ROOT, ToolTestCase, git_repo, run_tool

BASELINE = os.path.join(ROOT, "results", "baseline", "cabench.json")
BENCH = "read_heavy"

# Writes FAKE_SOURCE's benchmarks matching --benchmark_filter, N repetitions each, with
# ops_per_s times FAKE_FACTOR, to --benchmark_out; exits FAKE_EXIT (no file when it is 3).
FAKE_CABENCH = r'''#!PYTHON
import json, os, re, sys
args = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--") and "=" in a)
if os.environ.get("FAKE_EXIT") == "3":
    print("cabench: cannot connect", file=sys.stderr); sys.exit(3)
doc = json.load(open(os.environ["FAKE_SOURCE"]))
factor = float(os.environ.get("FAKE_FACTOR", "1"))
reps = int(args.get("benchmark_repetitions", "1"))
pattern = re.compile(args.get("benchmark_filter", "."))
out = []
for e in doc["benchmarks"]:
    if not pattern.search(e["name"]):
        continue
    for r in range(reps):
        entry = dict(e, run_name=e["name"], repetition_index=r, repetitions=reps)
        entry["ops_per_s"] = e["ops_per_s"] * factor * (1 + 0.01 * r)
        out.append(entry)
doc["benchmarks"] = out
json.dump(doc, open(args["benchmark_out"], "w"))
sys.exit(int(os.environ.get("FAKE_EXIT", "0")))
'''


class BisectCheckTest(ToolTestCase):
    TOOL = "bisect-check"

    def setUp(self):
        super().setUp()
        self.repo = os.path.join(self.tmp, "repo")
        self.shas = git_repo(self.repo, 3)
        self.root = os.path.join(self.tmp, "history")
        with open(BASELINE) as f:
            doc = json.load(f)
        doc["context"]["cabench_git_rev"] = self.shas[0][:12]
        self.good = os.path.join(self.root, "m1", f"20261101-000000_{self.shas[0][:12]}.json")
        os.makedirs(os.path.dirname(self.good))
        with open(self.good, "w") as f:
            json.dump(doc, f)
        self.build = os.path.join(self.tmp, "build")
        os.makedirs(os.path.join(self.build, "bin"))
        fake = os.path.join(self.build, "bin", "cabench")
        with open(fake, "w") as f:
            f.write(FAKE_CABENCH.replace("PYTHON", PYTHON))
        os.chmod(fake, os.stat(fake).st_mode | stat.S_IXUSR)
        # A port that accepts connections stands for both servers.
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(8)
        port = self.server.getsockname()[1]
        self.env = {"FAKE_SOURCE": self.good, "CABENCH_CACHE_URL": f"redis://127.0.0.1:{port}/0",
                    "CABENCH_DB_URL": f"mysql://cabench@127.0.0.1:{port}/cabench"}

    def tearDown(self):
        self.server.close()
        super().tearDown()

    def check(self, *args, **env):
        return run_tool("bisect-check", "--good", self.shas[0], "--repo", self.repo,
                        "--history", self.root, "--machine", "m1", "--build-dir", self.build,
                        "--no-build", "--filter", BENCH, "--repetitions", "3", *args,
                        env=dict(self.env, **env))

    def test_as_fast_as_the_good_run_is_good(self):
        proc = self.check(FAKE_FACTOR="0.97")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn(f"GOOD {self.shas[-1][:12]}", proc.stdout)
        self.assertIn("--benchmark_repetitions=3", proc.stdout)
        self.assertIn("1 vs 3 repetitions", proc.stdout)

    def test_slower_than_the_threshold_is_bad(self):
        proc = self.check(FAKE_FACTOR="0.8")
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn("REGRESSED", proc.stdout)
        self.assertIn("BAD", proc.stdout)
        self.assertEqual(self.check("--threshold", "30%", FAKE_FACTOR="0.8").returncode, 0)

    def test_cannot_test_exits_125(self):
        self.assert_one_line_error(self.check(FAKE_EXIT="3"), "cabench stopped (exit 3)",
                                   code=125)
        self.assert_one_line_error(self.check(CABENCH_DB_URL=""), "CABENCH_DB_URL is not set",
                                   code=125)
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        closed.close()
        self.assert_one_line_error(self.check(CABENCH_CACHE_URL=f"redis://127.0.0.1:{port}/0"),
                                   "is down", code=125)
        os.remove(os.path.join(self.build, "bin", "cabench"))
        self.assert_one_line_error(self.check(), "does not exist", code=125)

    def test_no_benchmark_in_common_exits_125(self):
        with open(self.good) as f:
            doc = json.load(f)
        for e in doc["benchmarks"]:
            e["name"] = e["name"].replace("read_heavy", "read_heavy_renamed")
        source = os.path.join(self.tmp, "renamed.json")
        with open(source, "w") as f:
            json.dump(doc, f)
        self.assert_one_line_error(self.check(FAKE_SOURCE=source), "share no name", code=125)

    def test_bad_input_exits_2(self):
        self.assert_one_line_error(self.check("--filter", "^nothing$"), "matches none")
        self.assert_one_line_error(self.check("--counter", "frobs"), "no counter 'frobs'")
        os.remove(self.good)
        os.makedirs(os.path.join(self.root, "m1"), exist_ok=True)
        other = os.path.join(self.root, "m1", f"20261101-000000_{self.shas[1][:12]}.json")
        with open(BASELINE) as f, open(other, "w") as g:
            g.write(f.read())
        self.assert_one_line_error(self.check(), f"no recorded run of commit {self.shas[0][:12]}")
        self.assert_one_line_error(run_tool("bisect-check"), "--good SHA is required")

    def test_bad_input_during_a_bisect_stops_it_with_255(self):
        subprocess.run(["git", "-C", self.repo, "bisect", "start", self.shas[-1], self.shas[0]],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.assert_one_line_error(self.check("--filter", "^nothing$"), "matches none",
                                   code=255)


if __name__ == "__main__":
    unittest.main()

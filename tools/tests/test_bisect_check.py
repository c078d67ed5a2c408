"""tools/bisect-check without real cabench or servers (a listening port stands for both):

  InterleavedTest   the default mode over a scratch git repository holding a stand-in
                    for cabench (a CMake project whose `cabench` target writes Google
                    Benchmark JSON with ops_per_s = a constant of its source times seeded
                    log-normal noise): good, bad, undecided, cannot test, bad input; the
                    good commit built once; `git bisect run` over 8 commits names the
                    commit that planted a slowdown; a noisy commit with no change never
                    answers bad.
  RecordedModeTest  --recorded against a fake cabench binary and a recorded run.
"""
import json
import os
import shutil
import socket
import stat
import subprocess
import threading
import unittest

from helpers import PYTHON, ROOT, TOOLS, ToolTestCase, git_repo, run_tool
from cabench_py import report

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


# The stand-in for cabench (see tools/bisect-check --help: what is built and run): a CMake
# project without a compiler whose `cabench` target copies cabench.py to bin/cabench.
STANDIN_CMAKE = """cmake_minimum_required(VERSION 3.13)
project(standin LANGUAGES NONE)
add_custom_target(cabench ALL
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/bin
  COMMAND ${CMAKE_COMMAND} -E copy ${CMAKE_SOURCE_DIR}/cabench.py ${CMAKE_BINARY_DIR}/bin/cabench)
"""
# Benchmarks read_heavy and write_heavy, one entry per repetition, ops_per_s = RATE times
# log-normal noise of sigma STANDIN_SIGMA (default 0.05), seeded by STANDIN_SEED, the
# commit's number and the output file's name (every run has its own noise). Appends its
# working folder to STANDIN_LOG; exits STANDIN_EXIT without a file when that is set.
STANDIN = r"""#!PYTHON
import json, math, os, random, re, sys
RATE = @RATE@
COMMIT = @COMMIT@
args = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--") and "=" in a)
if os.environ.get("STANDIN_LOG"):
    with open(os.environ["STANDIN_LOG"], "a") as f:
        f.write(os.getcwd() + "\n")
if os.environ.get("STANDIN_EXIT"):
    print("cabench: cannot connect", file=sys.stderr)
    sys.exit(int(os.environ["STANDIN_EXIT"]))
reps = int(args.get("benchmark_repetitions", "1"))
pattern = re.compile(args.get("benchmark_filter", "."))
out = args["benchmark_out"]
rng = random.Random(f"{os.environ.get('STANDIN_SEED', '0')}:{COMMIT}:{os.path.basename(out)}")
sigma = float(os.environ.get("STANDIN_SIGMA", "0.05"))
entries = []
for name in ("read_heavy", "write_heavy"):
    if pattern.search(name):
        for r in range(reps):
            entries.append({"name": name, "run_name": name, "run_type": "iteration",
                            "repetitions": reps, "repetition_index": r, "threads": 1,
                            "iterations": 100, "real_time": 1.0, "cpu_time": 1.0,
                            "time_unit": "ms",
                            "ops_per_s": RATE * math.exp(rng.gauss(0, sigma))})
with open(out, "w") as f:
    json.dump({"context": {"cabench_build_type": "Release", "data_preset": "small"},
               "benchmarks": entries}, f)
"""


def standin_repo(folder, rates, broken=()):
    """A git repository in `folder` holding the stand-in, one commit per entry of `rates`
    (commit i's RATE); the commits whose index is in `broken` do not configure. Returns
    the full shas, oldest first."""
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")
    subprocess.run(["git", "init", "-q", folder], check=True, env=env)
    with open(os.path.join(folder, ".gitignore"), "w") as f:
        f.write("/build*/\n")
    program = os.path.join(folder, "cabench.py")
    for i, rate in enumerate(rates):
        with open(os.path.join(folder, "CMakeLists.txt"), "w") as f:
            f.write(STANDIN_CMAKE + (f'message(FATAL_ERROR "broken at {i}")\n'
                                     if i in broken else ""))
        with open(program, "w") as f:
            f.write(STANDIN.replace("PYTHON", PYTHON).replace("@RATE@", f"{rate:.1f}")
                    .replace("@COMMIT@", str(i)))
        os.chmod(program, 0o755)
        subprocess.run(["git", "-C", folder, "add", "-A"], check=True, env=env)
        subprocess.run(["git", "-C", folder, "commit", "-q", "-m", f"commit {i}"], check=True,
                       env=env)
    out = subprocess.run(["git", "-C", folder, "rev-list", "--reverse", "HEAD"], check=True,
                         stdout=subprocess.PIPE, text=True, env=env).stdout
    return out.split()


def accept_all(server):
    """Accepts and closes connections on `server` until it is closed."""
    while True:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        conn.close()


class InterleavedTest(ToolTestCase):
    """The default mode: both commits built from a scratch repository and run interleaved."""
    TOOL = "bisect-check"

    def setUp(self):
        super().setUp()
        self.repo = os.path.join(self.tmp, "repo")
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(8)
        # Accepts and closes every connection, so that the backlog never fills.
        threading.Thread(target=accept_all, args=(self.server,), daemon=True).start()
        port = self.server.getsockname()[1]
        self.env = {"CABENCH_CACHE_URL": f"redis://127.0.0.1:{port}/0",
                    "CABENCH_DB_URL": f"mysql://cabench@127.0.0.1:{port}/cabench",
                    "CABENCH_REPORT": report.binary(), "STANDIN_SIGMA": "0.05"}

    def tearDown(self):
        try:
            self.server.shutdown(socket.SHUT_RDWR)  # wakes accept_all
        except OSError:
            pass
        self.server.close()
        super().tearDown()

    def check(self, *args, good=None, **env):
        return run_tool("bisect-check", "--good", good or self.shas[0], "--repo", self.repo,
                        "--filter", "read_heavy", "--repetitions", "10", *args,
                        env=dict(self.env, **env))

    def good_dir(self):
        return os.path.join(self.repo, "build-bisect-good", self.shas[0][:12])

    def test_same_speed_is_good_and_the_runs_alternate(self):
        self.shas = standin_repo(self.repo, [1000, 1000])
        log = os.path.join(self.tmp, "runs.log")
        proc = self.check(STANDIN_LOG=log)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn(f"GOOD {self.shas[1][:12]}", proc.stdout)
        good_src = os.path.join(self.good_dir(), "src")
        with open(log) as f:
            runs = ["good" if line.strip() == good_src else "this" for line in f]
        # 10 pairs, the order alternating: this good, good this, this good, ...
        self.assertEqual(runs, ["this", "good", "good", "this"] * 5)
        # The good commit was checked out and built once; the next step reuses both.
        self.assertTrue(os.path.exists(os.path.join(self.good_dir(), "build",
                                                    "bisect-check-built")))
        again = self.check()
        self.assertEqual(again.returncode, 0, again.stdout + again.stderr)
        self.assertIn(f"building {self.repo} ", again.stdout)
        self.assertNotIn(f"building {good_src}", again.stdout)
        self.assertNotIn("checking out the good commit", again.stdout)
        # --no-build runs both binaries as they are.
        again = self.check("--no-build")
        self.assertEqual(again.returncode, 0, again.stdout + again.stderr)
        self.assertNotIn("building", again.stdout)
        self.assert_one_line_error(self.check("--no-build", "--good-dir",
                                              os.path.join(self.tmp, "none")),
                                   "--no-build: the good commit has no worktree")

    def test_a_planted_slowdown_is_bad(self):
        self.shas = standin_repo(self.repo, [1000, 700])
        proc = self.check()
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertRegex(proc.stdout,
                         r"REGRESSION read_heavy: ops_per_s -(2[5-9]|3[0-5])\.\d% over 10 pairs")
        # A threshold wider than the slowdown lets it pass.
        self.assertEqual(self.check("--threshold", "40%").returncode, 0)

    def test_noise_without_a_change_is_never_bad(self):
        # sigma 0.15 per run: the old rule (means of 5 repetitions against a recorded run)
        # called such a commit bad about 13% of the time.
        self.shas = standin_repo(self.repo, [1000, 1000])
        codes = []
        for seed in range(1, 7):
            proc = self.check(STANDIN_SIGMA="0.15", STANDIN_SEED=str(seed))
            codes.append(proc.returncode)
            self.assertIn(proc.returncode, (0, 125), proc.stdout + proc.stderr)
            if proc.returncode == 125:
                self.assert_one_line_error(proc, "cannot decide", "--repetitions", code=125)
        self.assertIn(125, codes)  # these seeds do reach the undecided answer

    def test_too_few_pairs_cannot_decide(self):
        self.shas = standin_repo(self.repo, [1000, 500])
        proc = self.check("--repetitions", "4")
        self.assert_one_line_error(proc, "cannot decide", "at least 5",
                                   "--repetitions 5 would help", code=125)

    def test_cannot_test_exits_125(self):
        self.shas = standin_repo(self.repo, [1000, 1000, 1000], broken=(2,))
        self.assert_one_line_error(self.check(), "the build failed", code=125)
        subprocess.run(["git", "-C", self.repo, "checkout", "-q", self.shas[1]], check=True)
        self.assert_one_line_error(self.check(STANDIN_EXIT="3"), "cabench stopped (exit 3)",
                                   code=125)
        self.assert_one_line_error(self.check(CABENCH_DB_URL=""), "CABENCH_DB_URL is not set",
                                   code=125)

    def test_bad_input_exits_2_and_255_during_a_bisect(self):
        self.shas = standin_repo(self.repo, [1000, 1000, 1000], broken=(0,))
        self.assert_one_line_error(self.check(), f"the good commit {self.shas[0][:12]} does "
                                   "not build")
        self.assert_one_line_error(self.check(good="nosuchcommit"), "is not a commit")
        self.assert_one_line_error(self.check("--history", self.tmp), "for --recorded only")
        self.assert_one_line_error(self.check("--alpha", "0.5"), "--alpha must lie")
        good = self.shas[1]
        self.assert_one_line_error(self.check("--filter", "^nothing$", good=good),
                                   "matches none of the good commit's benchmarks")
        self.assert_one_line_error(self.check("--counter", "frobs", "--threshold", "5%:higher",
                                              good=good), "has no counter 'frobs'")
        subprocess.run(["git", "-C", self.repo, "bisect", "start", self.shas[-1], good],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.assert_one_line_error(self.check("--filter", "^nothing$", good=good),
                                   "matches none", code=255)

    def test_git_bisect_run_names_the_planted_commit(self):
        # 8 commits; commit 5 plants a 30% slowdown; commit 3 does not build (skipped).
        self.shas = standin_repo(self.repo, [1000] * 5 + [700] * 3, broken=(3,))
        # A copy of the tools made before bisecting, with the names table they read.
        copy = os.path.join(self.tmp, "copy")
        shutil.copytree(TOOLS, os.path.join(copy, "tools"),
                        ignore=shutil.ignore_patterns("tests", "__pycache__"))
        os.makedirs(os.path.join(copy, "lib", "metrics"))
        shutil.copy(os.path.join(ROOT, "lib", "metrics", "names.def"),
                    os.path.join(copy, "lib", "metrics"))
        git = ["git", "-C", self.repo]
        subprocess.run(git + ["bisect", "start", self.shas[-1], self.shas[0]], check=True,
                       stdout=subprocess.DEVNULL)
        proc = subprocess.run(
            git + ["bisect", "run", os.path.join(copy, "tools", "bisect-check"), "--good",
                   self.shas[0], "--filter", "read_heavy", "--repetitions", "10"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120,
            env=dict(os.environ, **self.env))
        self.assertEqual(proc.returncode, 0, proc.stdout)
        self.assertIn(f"{self.shas[5]} is the first bad commit", proc.stdout)
        # The commit that does not build was tried first (the middle) and skipped.
        self.assertIn("cannot test this commit: the build failed", proc.stdout)
        good_src = os.path.join(self.good_dir(), "src")
        self.assertEqual(proc.stdout.count(f"building {good_src} "), 1, proc.stdout)


class RecordedModeTest(ToolTestCase):
    """--recorded: this commit against the good commit's recorded run (means only)."""
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
                        "--no-build", "--filter", BENCH, "--repetitions", "3", "--recorded",
                        *args,
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

"""Shared helpers of the tools' tests: paths, running a tool, fixture copies.

Older-format fixtures in data/, from real cabench runs against small-preset servers
before lib/metrics/names.def (old names: cache_hit_avg_us, access:0, cache_get; a
run without a cache counts its reads as cache_misses; series reads and writes
include failed operations). They stay, as tests of reading old files:
  single.json                 concurrency, no_cache_baseline, read_heavy; --queries=2000
  reps_a.json, reps_b.json    concurrency, read_heavy; --queries=2000
                              --benchmark_repetitions=3 (two runs)
  series_random_balanced.json time series of random_balanced, --queries=50000 (15 s)
  series_no_cache.json        time series of no_cache_baseline (no cache hits: null
                              per-class hit fields)
  histograms_read_heavy.json  histograms of read_heavy in single.json's run

Today's format (names.def), hand-made from the files above until files from real
runs replace them; they follow the rules of names.def (absent, not 0, where a
counter does not apply; count == reads + writes + errors):
  new_single.json             read_heavy (a cache run) and no_cache_baseline (no
                              cache: db_reads, db_read_*, no hit_* / hit_rate_pct)
  series_new_cache.json       random_balanced's series in today's fields; second +3
                              has 4 failed operations (errors 4, count = reads +
                              writes + 4)
  series_new_no_cache.json    no_cache_baseline's series: db_reads, no cache fields
  histograms_new_cache.json   read_heavy's histograms under today's keys (get, select,
                              ...): they match new_single.json's read_heavy counters
  histograms_new_no_cache.json  synthetic (seeded samples): db_read, write, select,
                              insert and overall only
"""
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

TESTS = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.dirname(TESTS)
ROOT = os.path.dirname(TOOLS)
DATA = os.path.join(TESTS, "data")
PYTHON = "/usr/bin/python3"
sys.path.insert(0, TOOLS)
from cabench_py import names  # noqa: E402


def data(name):
    return os.path.join(DATA, name)


def load(name):
    with open(data(name)) as f:
        return json.load(f)


def run_tool(tool, *args, env=None):
    """Runs tools/TOOL with /usr/bin/python3; returns CompletedProcess (text)."""
    full_env = dict(os.environ)
    full_env.setdefault("MPLCONFIGDIR", tempfile.mkdtemp(prefix="cabench-mpl-"))
    full_env.pop("NO_COLOR", None)
    if env:
        full_env.update(env)
    return subprocess.run([PYTHON, os.path.join(TOOLS, tool), *args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=full_env, timeout=120)


def new_name(name):
    """A benchmark name as the tools show it (access:0 -> access:pool)."""
    return names.normalize_benchmark_name(name)


def run_path(path, *args, env=None):
    """Runs the program at `path` (a shell tool) with args; returns CompletedProcess."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run([path, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, text=True, env=full_env, timeout=120)


class ToolTestCase(unittest.TestCase):
    """A test of tools/TOOL: a scratch folder self.tmp, and the checks every tool shares."""
    TOOL = None

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix=f"cabench-{self.TOOL}-test-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def assert_one_line_error(self, proc, *fragments, code=2):
        """proc exited `code` with one line 'tools/TOOL: ...' on stderr holding fragments."""
        self.assertEqual(proc.returncode, code, proc.stdout + proc.stderr)
        lines = proc.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, proc.stderr)
        self.assertTrue(lines[0].startswith(f"tools/{self.TOOL}: "), lines[0])
        for f in fragments:
            self.assertIn(f, lines[0])

    def truncated(self, name, fraction=2):
        """A copy of fixture `name` in self.tmp cut to 1/fraction of its text."""
        with open(data(name)) as f:
            text = f.read()
        path = os.path.join(self.tmp, "truncated.json")
        with open(path, "w") as f:
            f.write(text[:len(text) // fraction])
        return path


def write_json(folder, name, obj):
    path = os.path.join(folder, name)
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
    return path


def modified(results, bench_prefix, counter, fn):
    """A deep copy of a result file's JSON with fn applied to `counter` of every entry
    (repetitions and aggregates) whose run_name starts with bench_prefix."""
    out = copy.deepcopy(results)
    hit = False
    for entry in out["benchmarks"]:
        if entry.get("run_name", entry["name"]).startswith(bench_prefix) and counter in entry:
            if entry.get("aggregate_name") in ("stddev", "cv"):
                continue
            entry[counter] = fn(entry[counter])
            hit = True
    assert hit, (bench_prefix, counter)
    return out


def git_repo(folder, commits, message="c"):
    """A git repository in `folder` with `commits` empty commits on one branch (messages
    MESSAGE0, MESSAGE1, ...: two repositories with the same messages made in the same
    second have the same shas); returns their full shas, oldest first."""
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")
    subprocess.run(["git", "init", "-q", folder], check=True, env=env)
    for i in range(commits):
        subprocess.run(["git", "-C", folder, "commit", "-q", "--allow-empty", "-m", f"{message}{i}"],
                       check=True, env=env)
    out = subprocess.run(["git", "-C", folder, "rev-list", "--reverse", "HEAD"], check=True,
                         stdout=subprocess.PIPE, text=True, env=env).stdout
    return out.split()

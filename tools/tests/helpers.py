"""Shared helpers of the tools' tests: paths, running a tool, fixture copies.

The fixtures in data/ come from real cabench runs against small-preset servers:
  single.json                 concurrency, no_cache_baseline, read_heavy; --queries=2000
  reps_a.json, reps_b.json    concurrency, read_heavy; --queries=2000
                              --benchmark_repetitions=3 (two runs)
  series_random_balanced.json time series of random_balanced, --queries=50000 (15 s)
  series_no_cache.json        time series of no_cache_baseline (no cache hits: null
                              per-class hit fields)
  histograms_read_heavy.json  histograms of read_heavy in single.json's run
"""
import copy
import json
import os
import subprocess
import tempfile

TESTS = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.dirname(TESTS)
ROOT = os.path.dirname(TOOLS)
DATA = os.path.join(TESTS, "data")
PYTHON = "/usr/bin/python3"


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

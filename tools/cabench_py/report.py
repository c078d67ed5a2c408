"""The C++ side's computations, for the tools: the counters of a run from its records and
the statistics of its histograms come from build/bin/cabench_report (bench/report_main.cc),
which runs the same code as cabench itself, so no tool computes them a second way.

  run_counters(records, facts, out=None)  {counter: value} one process would report for
                                          the records (histograms files) added together;
                                          `out` receives the merged record
  load_histograms(path, percentiles)      {key: Stats} of a histograms file, keys in
                                          today's spelling; Stats has count, mean() and
                                          min/max in ns, percentile(p) for each p of
                                          `percentiles` and interval(p), its 95%
                                          interval or None

The binary is $CABENCH_REPORT, else $CABENCH_BUILD_DIR/bin/cabench_report, else
build/bin/cabench_report of this repository; a missing one is a Failure (exit 1) saying how
to build it; a file it refuses is a ToolError (exit 2) with its one line.
"""
import json
import os
import subprocess

from . import names
from .common import Failure, ToolError

_ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def binary():
    path = os.environ.get("CABENCH_REPORT") or os.path.join(
        os.environ.get("CABENCH_BUILD_DIR") or os.path.join(_ROOT, "build"), "bin",
        "cabench_report")
    if not os.access(path, os.X_OK):
        raise Failure(f"{path} not found: build it first (ninja -C build cabench_report, or "
                      "tools/test)")
    return path


def _run(args):
    proc = subprocess.run([binary(), *args], capture_output=True, text=True, timeout=600)
    if proc.returncode == 2:
        raise ToolError(proc.stderr.strip().removeprefix("cabench_report: "))
    if proc.returncode != 0:
        raise Failure(f"cabench_report failed ({proc.returncode}): {proc.stderr.strip()}")
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise Failure("cabench_report printed no JSON")


def run_counters(records, facts, out=None):
    args = [f"--{k}={v}" for k, v in sorted(facts.items())]
    if out:
        args.append(f"--out={out}")
    return _run(args + list(records))


def steady_start(rates_text, steady_pct):
    """cabench_report --steady_start: the first steady window of the comma-separated
    hit rates `rates_text`, or None."""
    if not rates_text:
        return None
    return _run([f"--steady_start={steady_pct}", rates_text])["steady_start"]


def endpoint(flag, url):
    """cabench_report --cache_url=URL or --db_url=URL (`flag`): the endpoint as cabench
    reads it, a dict; a URL cabench refuses is a ToolError with its reason."""
    return _run([f"--{flag}={url}"])


class Stats:
    """One histogram's statistics (nanoseconds), as cabench_report printed them."""

    def __init__(self, raw, percentiles):
        self.count = int(raw["count"])
        self.min = raw["min_ns"]
        self.max = raw["max_ns"]
        self._mean = raw["mean_ns"]
        self._p = dict(zip(percentiles, raw["p"]))
        self._ci = dict(zip(percentiles, raw.get("p_ci") or [None] * len(percentiles)))

    def mean(self):
        return self._mean

    def percentile(self, p):
        return self._p[p]

    def interval(self, p):
        """(lo, hi) in ns: the 95% interval of percentile p, or None where the samples
        cannot bound it."""
        ci = self._ci[p]
        return tuple(ci) if ci else None


def load_histograms(path, percentiles):
    if not os.path.isfile(path):
        raise ToolError(f"{path}: no such file")
    percentiles = list(percentiles)
    raw = _run(["--stats=" + ",".join(repr(float(p)) for p in percentiles), path])
    return {names.normalize_key(k): Stats(v, percentiles) for k, v in raw.items()}

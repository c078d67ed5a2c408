"""tools/capacity: latency against throughput, and capacity under an objective.

Usage: tools/capacity SCENARIO --p99-ms=X [options]
       tools/capacity plot CAPACITY.json [--png] [--svg] [--out DIR] [chart options]

Runs SCENARIO open loop (cabench --rate_per_s) at increasing target rates, then
bisects, to find its capacity: the highest target rate at which the INTENDED
p99 (response time from each operation's scheduled start, which a closed loop
hides) stays <= X ms, with no errors and the target rate achieved
(target_missed 0: at least 99% of it). It does so for the scenario ("with
cache") and, when the scenario has `baseline: no_cache`, for its no-cache twin,
which cabench runs in the same invocation. Prints one progress line per step
(stderr), then the latency-versus-throughput chart and a table (stdout): the
capacity of each curve and how many times the traffic the cache lets the
database survive. Writes every step to a JSON file, and with --png/--svg an
image. `plot` redraws the chart, the table and the images from that JSON file.

The search, per curve (with cache; no cache):
  start    --min-rate, or 25% of the curve's ops_per_s in a short closed-loop
           run (--rate_per_s=0, 1,000 operations per thread)
  grow     the last passing rate x --growth, until a rate fails
  descend  when the start rate fails: / --growth, at most 4 times; at once
           "no passing rate" when the service-time p99 alone exceeds X
  bisect   --bisect-steps midpoints of the highest passing and the lowest
           failing rate: the bracket narrows to (fail - pass) / 2^N
  repeat   every rate runs again until its runs decide it (below)
  bound    when no rate fails at the confidence (the lowest failing one went
           by its majority): the highest failing rate x --growth, at most 2
           times, so that the capacity's interval gets an upper end
A run fails on an intended p99 over X, an error, or a missed target rate; a
run cabench reports failed (error_occurred: a server gone, where overload shows
as errors) stops the search (exit 1).

Deciding a rate (noise: 2 shared cores). Each run is a Bernoulli trial with
pass probability p. After n runs with k passes the rate PASSES when the exact
binomial tail P(X >= k | n, p = 1/2) <= L, FAILS when P(X <= k | n, 1/2) <= L,
and runs again otherwise, at most --max-runs times (then it is "undecided" and
its majority steers the search, a tie failing). L is the largest level at
which this look-after-every-run rule declares a rate with p = 1/2 passing (or
failing) with probability <= 1 - --confidence, computed exactly over all
paths. At the default 0.8, 3 agreeing runs decide (0.9: 4; 0.95: 5); a rate
near the capacity takes more.

The capacity. All runs of a curve at each rate (its own and those made
during the other curve's steps) are fitted with a non-increasing isotonic
regression (pool-adjacent-violators, weighted by runs) of the pass fraction
against the rate: the capacity is the highest rate whose fitted p >= 1/2.
Its interval [lo, hi) comes from exact one-sided binomial (Clopper-Pearson)
bounds at --confidence on the fitted curve: the bound at a rate pools its runs
with the runs of the same fitted block above it (lower bound) or below it
(upper bound), valid because p falls with the rate. hi is the lowest rate whose
upper bound is < 1/2 (it fails with confidence), lo the highest rate below it
whose lower bound is > 1/2; each end holds at --confidence, both at >= 2 x
confidence - 1. An end the runs cannot give (one run per rate never can; a
curve that never failed has no hi) is absent (null) and the table says why.
Not a bootstrap: resampling a few runs that all agree never changes them, so
it would report a zero-width interval, even from one run per rate. The ratio
cache / no cache gets [cache lo / no-cache hi, cache hi / no-cache lo].

Warm-up. Unless --cold, every step starts at a steady hit rate: tools/capacity
writes OUT/scenario/SCENARIO.yaml, the scenario with `warmup: until_steady`
instead of its own warm-up (cabench has no flag for the mode), and runs cabench
on it with --max_warmup_ops=--warmup-max-ops as the cap. The warm-up is read
only, so a scenario with writes starts at or above the hit rate its writes
then settle to. Each run records hit_rate_pct and steady_reached (0: the cap
came first). The no-cache twin has no warm-up. --cold runs the scenario as
written (a flush, then its own warm-up, if any).

Each step lasts about --step-seconds (Q = rate x seconds / threads operations
per thread, at least 1,000 operations), so its p99 rests on enough operations.
A curve's search uses only its own steps: the twin runs whenever the scenario
is selected, and its runs during the cache curve's steps are recorded, drawn
and fitted ("extra") but do not steer it. A saturated curve runs slower than
its target, so each step's length is predicted from what was seen (warm-up
included); a step that would end after --max-seconds is not started, and the
result so far is reported.

Options:
  --p99-ms=X        the objective, intended p99 <= X ms (required; > 0)
  --threads=N       which of the scenario's thread counts (when it lists several)
  --min-rate=R      start rate, operations/s of all threads together (default:
                    25% of the closed-loop ops_per_s of each curve)
  --growth=G        factor between rates while growing (default 1.5; > 1)
  --bisect-steps=N  midpoints per curve (default 3)
  --confidence=C    confidence of a rate's verdict and of each end of the
                    capacity's interval, in (0, 1) (default 0.8)
  --max-runs=N      runs of one rate at most (default 5; 1..30; enough for
                    the confidence's agreeing runs)
  --cold            no warm-up of tools/capacity: the scenario as written
  --warmup-max-ops=N  the cap of the steady warm-up, reads (default 200,000)
  --step-seconds=S  length of a step (default 5)
  --max-seconds=S   time cap of the search, loading the data not counted
                    (default 1800)
  --preset=P        data set loaded first with cabench_load: small, default
                    (the default: the database does real work, as in
                    deployments, and it loads in under a minute) or full
  --scenarios=DIR   folder of scenario files (default: <repo>/scenarios)
  --cabench=PATH    the cabench binary (default: $CABENCH_BUILD_DIR/bin/cabench,
                    CABENCH_BUILD_DIR defaulting to <repo>/build); cabench_load
                    is taken from the same folder
  --out=DIR         output folder (default: results/runs/<date>-<time>_<git
                    sha>_capacity_<scenario>): the JSON file, the images, and
                    steps/NN/ with each step's cabench JSON, log and series
  --json=FILE       the result file (default: OUT/capacity.json)
  --png, --svg      write STEM.latency_vs_throughput.png / .svg into OUT
                    (STEM: the JSON file's name without .json); in the plot
                    form --out DIR alone implies both, as in tools/plot
  --check           check the arguments, the scenario and the binaries, run
                    nothing (tools/capacity does this before starting servers)
  --width N, --height N, --color WHEN, -q: the terminal chart, as tools/plot
  -h, --help        this text

Servers, as tools/run: CABENCH_CACHE_URL and CABENCH_DB_URL when both are set;
otherwise tools/capacity starts throwaway servers (tools/lib.sh) and stops the
servers it started at the end, also on failure and Ctrl-C.

Exit status (the rule of every cabench tool): 0 ok, every curve has a
capacity; 1 a failure: a curve with no passing rate, a cabench run that failed
or wrote no usable JSON, a missing program; 2 usage or bad input: an unknown
flag or bad value, an unknown scenario, a missing or garbled JSON file.
"""
import datetime
import math
import os
import re
import signal
import statistics
import subprocess
import sys
import time

from . import monotone, names, params, plotting, termplot
from .common import (EXIT_FAILURE, EXIT_OK, EXIT_USAGE, Failure, ToolError, fmt_auto,
                     fmt_num, load_json, one_line_parser)
from .gbench import load_results

PROG = "tools/capacity"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
FORMAT = "cabench-capacity/2"
FORMATS = ("cabench-capacity/1", FORMAT)   # /1: no repeats, fit, interval or warm-up
CACHE, TWIN = "cache", "no_cache"
LABELS = {CACHE: "with cache", TWIN: "no cache (twin)"}
PRESETS = ("small", "default", "full")
IMAGE_SUFFIX = "latency_vs_throughput"

# Search constants (documented in the usage text).
START_FRACTION = 0.25       # of the closed-loop ops_per_s
CALIBRATION_QUERIES = 1000  # operations per thread of the closed-loop run
MIN_STEP_OPS = 1000         # a p99 of fewer operations is a handful of samples
MAX_DESCENTS = 4
MAX_BOUNDS = 2              # rates run above the bracket for the interval's upper end
DEFAULT_CONFIDENCE = 0.8    # 3 agreeing runs decide a rate
DEFAULT_MAX_RUNS = 5
DEFAULT_WARMUP_MAX_OPS = 200_000
MAX_RATE = 100_000_000      # the largest rate_per_s cabench accepts
ACHIEVED_FRACTION = 0.99    # what cabench's target_missed means, for the output's notes
STOP_GRACE_S = 30           # a stopped cabench gets this long to clean up
WARM_FOLDER = "scenario"    # OUT/scenario/: the scenario with warmup: until_steady

# Counters a step reads (lib/metrics/names.def; tools/tests check they exist).
OPS_PER_S, TARGET_RATE, TARGET_MISSED = "ops_per_s", "target_rate_per_s", "target_missed"
INTENDED_P99, P99, ERRORS = "intended_p99_us", "p99_us", "errors"
STEP_COUNTERS = (TARGET_RATE, OPS_PER_S, TARGET_MISSED, "late_ops", "intended_p50_us",
                 INTENDED_P99, "intended_p999_us", P99, ERRORS, "hit_rate_pct",
                 "db_queries_per_s", "wall_s", "ops", "steady_reached", "warmup_ops_done",
                 "time_to_steady_s")
SCENARIO_NAME = re.compile(r"[A-Za-z0-9_]+")


class TimeCap(Exception):
    """The search ran out of --max-seconds."""


def log(message):
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- cabench results

def curve_of(p):
    """(scenario, curve, threads) of a benchmark's recorded parameters."""
    return p["scenario"], TWIN if p.get("twin") else CACHE, p["threads"]


def bench_filter(scenario, curves, threads):
    """--benchmark_filter for `curves` of the scenario at `threads`. cabench selects the
    twin whenever it selects the scenario; a step of the cache curve alone adds
    --no_twins (twin_flags) so the twin does not run."""
    twin = "(@no_cache)?" if CACHE in curves and TWIN in curves else \
        ("@no_cache" if TWIN in curves else "")
    return f"^CacheAside/{scenario}{twin}/.*/threads:{threads}$"


def twin_flags(curves):
    """Extra cabench flags for a step of `curves`: the cache curve alone runs without its
    twin."""
    return ["--no_twins"] if list(curves) == [CACHE] else []


def number(entry, key):
    v = entry.get(key)
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def observe(entry, objective_us):
    """One curve's run of a step: its counters, and whether it met the objective."""
    obs = {"benchmark": entry["name"]}
    if entry.get("error_occurred"):
        obs.update(error_message=str(entry.get("error_message", "error")), passed=False,
                   reasons=["run_error"])
        return obs
    for key in STEP_COUNTERS:
        obs[key] = number(entry, key)
    if obs[INTENDED_P99] is None or obs[OPS_PER_S] is None:
        raise Failure(f"{entry['name']}: no {INTENDED_P99} or {OPS_PER_S} counter: not an "
                      "open-loop run (does this cabench take --rate_per_s?)")
    reasons = []
    if obs[INTENDED_P99] > objective_us:
        reasons.append("p99")
    if (obs[ERRORS] or 0) > 0:
        reasons.append("errors")
    # cabench judges the rate (lib/engine/run.cc); the rule is not computed here again.
    missed = obs[TARGET_MISSED]
    if missed is None:
        raise Failure(f"{entry['name']}: no {TARGET_MISSED} counter: a cabench older than "
                      "its open-loop schedule (rebuild it)")
    if missed:
        reasons.append("target_missed")
    obs.update(passed=not reasons, reasons=reasons)
    return obs


def reason_text(obs, objective_ms):
    if obs.get("error_message"):
        return "run failed: " + obs["error_message"]
    out = []
    for r in obs["reasons"]:
        if r == "p99":
            out.append(f"p99 {fmt_ms(obs[INTENDED_P99])} > {objective_ms:g} ms")
        elif r == "errors":
            out.append(f"{fmt_num(obs[ERRORS], 0)} errors")
        else:
            out.append("target missed")
    return ", ".join(out)


def fmt_ms(us):
    return "-" if us is None else f"{fmt_auto(us / 1000.0)} ms"


def fmt_rate(r):
    return "-" if r is None else f"{fmt_num(r, 0)}/s"


# ---------------------------------------------------------------- the search of one curve

class CurveSearch:
    """The search of one curve: its own runs by rate, the bracket they give, the next rate.
    Pure (no I/O); the driver runs the rates next() asks for and add()s the outcomes.
    `rule` (monotone.Sequential) says when a rate's runs decide it."""

    def __init__(self, start, growth, bisect_steps, rule, objective_us):
        self.start = max(1, int(round(start)))
        self.growth, self.bisect_steps, self.rule = growth, bisect_steps, rule
        self.objective_us = objective_us
        self.runs = {}    # rate -> [(passed, phase, service p99 µs or None)]
        self.status = None
        self.note = ""

    def add(self, rate, phase, obs):
        self.runs.setdefault(rate, []).append((obs["passed"], phase, obs.get(P99)))

    def counts(self, rate):
        outcomes = [p for p, _, _ in self.runs.get(rate, [])]
        return outcomes.count(True), outcomes.count(False)

    def decided(self, rate):
        """True (passes at the confidence), False (fails at it), or None."""
        p, f = self.counts(rate)
        return self.rule.decide(p, p + f)

    def verdict(self, rate):
        """True (pass), False (fail) or None (undecided: run it again). A rate is decided
        by the sequential rule; one still undecided after max_runs runs goes by its
        majority, a tie failing (it sits at the capacity: its pass probability is near
        one half)."""
        d = self.decided(rate)
        if d is not None:
            return d
        p, f = self.counts(rate)
        if p + f >= self.rule.max_runs:
            return p > f
        return None

    def bracket(self):
        """(lo, hi): the highest passing rate below the lowest failing one, and that one."""
        fails = [r for r in self.runs if self.verdict(r) is False]
        hi = min(fails) if fails else None
        passes = [r for r in self.runs if self.verdict(r) and (hi is None or r < hi)]
        return (max(passes) if passes else None), hi

    def phases(self, phase):
        return {r for r, rs in self.runs.items() if any(ph == phase for _, ph, _ in rs)}

    def next(self):
        """(rate, phase) to run next, or None when the search is over (then self.status
        is 'found', 'max_rate' or 'no_passing_rate', and self.note says why)."""
        if self.status:
            return None
        lo, hi = self.bracket()
        for r in sorted(self.runs):
            if self.verdict(r) is None and (lo is None or r > lo) and (hi is None or r < hi):
                return r, "repeat"
        if not self.runs:
            return self.start, "start"
        if hi is None:
            if lo >= MAX_RATE:
                return self._done("max_rate", f"passed at {fmt_rate(lo)}, the highest rate "
                                  "cabench accepts")
            return min(MAX_RATE, max(lo + 1, int(round(lo * self.growth)))), "grow"
        if lo is None:
            floor = [s for _, _, s in self.runs[hi] if s is not None]
            if floor and min(floor) > self.objective_us:
                return self._done("no_passing_rate", f"fails at {fmt_rate(hi)} with a "
                                  f"service-time p99 of {fmt_ms(min(floor))} alone: no load "
                                  "meets the objective")
            if len(self.phases("descend")) >= MAX_DESCENTS or hi <= 1:
                return self._done("no_passing_rate", f"fails even at {fmt_rate(hi)}")
            return max(1, min(hi - 1, int(round(hi / self.growth)))), "descend"
        if len(self.phases("bisect")) < self.bisect_steps and (lo + hi) // 2 > lo:
            return (lo + hi) // 2, "bisect"
        return self._bound() or self._done("found", "")

    def _bound(self):
        """When no rate fails at the confidence (the lowest failing one went by its
        majority), a rate above the highest failing one, so that the capacity's
        interval gets an upper end: (rate, phase) or None."""
        if any(self.decided(r) is False for r in self.runs):
            return None
        bounds = self.phases("bound")
        pending = [r for r in bounds if self.verdict(r) is None]
        if pending:
            return min(pending), "repeat"
        top = max(r for r in self.runs if self.verdict(r) is False)
        if len(bounds) >= MAX_BOUNDS or top >= MAX_RATE:
            return None
        return min(MAX_RATE, max(top + 1, int(round(top * self.growth)))), "bound"

    def _done(self, status, note):
        self.status, self.note = status, note
        return None


# ---------------------------------------------------------------- running cabench

class Cabench:
    """Runs cabench steps: one folder per step under OUT/steps with its JSON and log."""

    def __init__(self, opts):
        self.path, self.opts = opts.cabench, opts
        self.steps_dir = os.path.join(opts.out, "steps")
        self.overheads = []   # invocation wall time minus the runs' wall_s

    def _invoke(self, tag, args, timeout):
        folder = os.path.join(self.steps_dir, tag)
        os.makedirs(folder, exist_ok=True)
        log_path = os.path.join(folder, "cabench.log")
        cmd = [self.path, f"--scenarios={self.opts.run_scenarios}", f"--out_dir={folder}",
               *warm_flags(self.opts)] + args
        started = time.monotonic()
        with open(log_path, "w") as out:
            out.write(" ".join(cmd) + "\n")
            out.flush()
            try:
                proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL)
            except OSError as e:
                raise Failure(f"cannot run {self.path}: {e.strerror}")
            try:
                rc = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                stop(proc)
                raise TimeCap(f"step {tag} was stopped at the --max-seconds cap")
            except BaseException:
                stop(proc)
                raise
        return rc, folder, log_path, time.monotonic() - started

    @staticmethod
    def _last_line(log_path):
        with open(log_path, errors="replace") as f:
            lines = [ln.strip() for ln in f.read().splitlines()[1:] if ln.strip()]
        said = [ln for ln in lines if ln.startswith("cabench")]
        return (said or lines or ["(no output)"])[-1]

    def _check_rc(self, rc, tag, log_path):
        if rc == EXIT_USAGE:
            raise ToolError(f"cabench rejected step {tag}: {self._last_line(log_path)}")
        if rc < 0:
            raise Failure(f"cabench was killed by signal {-rc} in step {tag}")
        if rc >= 128:
            raise KeyboardInterrupt
        if rc not in (0, 1):
            raise Failure(f"cabench exited {rc} in step {tag}: {self._last_line(log_path)} "
                          f"(see {log_path})")

    def list(self, filt):
        """{benchmark name: params} of the benchmarks cabench plans (--benchmark_list_tests
        with `filt`; it records every planned benchmark's parameters in benchmarks.json)."""
        rc, folder, log_path, _ = self._invoke("list", [f"--benchmark_filter={filt}",
                                                        "--rate_per_s=1", "--queries=1",
                                                        "--benchmark_list_tests=true"], 300)
        self._check_rc(rc, "list", log_path)
        if rc != 0:
            raise Failure(f"cabench could not list the scenario's runs: "
                          f"{self._last_line(log_path)}")
        return {p["benchmark"]: p for p in params.of_folder(folder).values()}

    def step(self, tag, filt, rate, queries, timeout, extra=()):
        """Runs one step; returns (Results, folder, wall seconds of the invocation)."""
        folder = os.path.join(self.steps_dir, tag)
        out = os.path.join(folder, "cabench.json")
        rc, folder, log_path, wall = self._invoke(
            tag, [f"--benchmark_filter={filt}", f"--rate_per_s={rate}", f"--queries={queries}",
                  f"--benchmark_out={out}", "--benchmark_out_format=json", *extra], timeout)
        self._check_rc(rc, tag, log_path)
        try:
            results = load_results(out)
        except ToolError as e:
            # cabench's output, not the user's input: a failed run.
            raise Failure(f"step {tag} (exit {rc}) wrote no usable JSON: {e}; cabench said: "
                          f"{self._last_line(log_path)}")
        runs_wall = sum(number(e, "wall_s") or 0.0 for e in results.entries)
        self.overheads.append(max(0.0, wall - runs_wall))
        return results, folder, wall

    def overhead(self):
        return statistics.median(self.overheads) if self.overheads else 2.0


def warm_flags(opts):
    """cabench flags of the warm-up: the cap of `warmup: until_steady` (the mode itself
    is in the scenario file tools/capacity writes; cabench has no flag for it)."""
    return [] if opts.cold else [f"--max_warmup_ops={opts.warmup_max_ops}"]


WARM_KEYS = re.compile(r"^warmup(_ops)?[ \t]*:")


def warm_scenario_text(text, scenario):
    """The scenario file's text with `warmup: until_steady` instead of its own warm-up
    (`warmup` and `warmup_ops` lines; the window and steadiness keys stay): every step
    then measures from a steady hit rate. The cap is cabench's --max_warmup_ops."""
    kept = [ln for ln in text.splitlines() if not WARM_KEYS.match(ln)]
    return "\n".join(kept + [
        f"# tools/capacity: {scenario} as written, but warmed until its hit rate is steady",
        "# (the cap: cabench --max_warmup_ops), so that every step starts warm.",
        "warmup: until_steady", ""])


def write_warm_scenario(opts):
    """Writes OUT/scenario/<scenario>.yaml (warm_scenario_text); returns the folder."""
    src = next((os.path.join(opts.scenarios, opts.scenario + ext) for ext in (".yaml", ".yml")
                if os.path.isfile(os.path.join(opts.scenarios, opts.scenario + ext))), None)
    if src is None:
        raise ToolError(f"no scenario file {opts.scenario}.yaml in {opts.scenarios}")
    folder = os.path.join(opts.out, WARM_FOLDER)
    make_dir(folder, "--out")
    try:
        with open(src) as f:
            text = f.read()
        with open(os.path.join(folder, os.path.basename(src)), "w") as f:
            f.write(warm_scenario_text(text, opts.scenario))
    except OSError as e:
        raise Failure(f"cannot write the warm scenario into {folder}: {e.strerror}")
    return folder


def stop(proc):
    """Asks cabench to stop (SIGINT: it removes what it inserted), then kills it."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------- the driver

class Search:
    """The whole search of one scenario: listing, closed-loop start, steps, the result."""

    def __init__(self, opts):
        self.opts = opts
        self.objective_us = opts.p99_ms * 1000.0
        self.cabench = Cabench(opts)
        self.started = time.monotonic()
        self.steps, self.calibration, self.context = [], None, {}
        self.curves, self.searches, self.benchmarks = [], {}, {}
        self.threads = None
        self.stopped = "done"
        self.last_shared = False

    def elapsed(self):
        return time.monotonic() - self.started

    def remaining(self):
        return self.opts.max_seconds - self.elapsed()

    def discover(self):
        """Which curves the scenario has, and its thread count, as cabench lists them."""
        o = self.opts
        pattern = f"^CacheAside/{o.scenario}(@no_cache)?/" + (
            f".*/threads:{o.threads}$" if o.threads else "")
        found = {}
        for name, p in self.cabench.list(pattern).items():
            scenario, curve, threads = curve_of(p)
            if scenario == o.scenario and (not o.threads or threads == o.threads):
                found.setdefault(threads, {})[curve] = name
        if not found:
            raise ToolError(f"cabench lists no run of scenario '{o.scenario}'"
                            + (f" with {o.threads} threads" if o.threads else ""))
        if len(found) > 1:
            raise ToolError(f"scenario '{o.scenario}' runs at threads "
                            f"{', '.join(str(t) for t in sorted(found))}: choose one with "
                            "--threads=N")
        (self.threads, by_curve), = found.items()
        if CACHE not in by_curve:
            raise ToolError(f"cabench lists only the no-cache twin of '{o.scenario}'")
        self.curves = [c for c in (TWIN, CACHE) if c in by_curve]
        self.benchmarks = by_curve
        log(f"{o.scenario}, {self.threads} threads: "
            + ("the cache run and its no-cache twin" if TWIN in by_curve else
               "one curve (the scenario has no baseline: no_cache twin)"))

    def queries(self, rate):
        return max(math.ceil(self.opts.step_seconds * rate / self.threads),
                   math.ceil(MIN_STEP_OPS / self.threads))

    def calibrate(self):
        """Each curve's start rate: 25% of its closed-loop ops_per_s (or --min-rate)."""
        if self.opts.min_rate:
            return {c: self.opts.min_rate for c in self.curves}
        filt = bench_filter(self.opts.scenario, self.curves, self.threads)
        results, _, _ = self.cabench.step("00-closed-loop", filt, 0, CALIBRATION_QUERIES,
                                          max(10, self.remaining()))
        self.context = dict(results.context)
        self.calibration = {}
        for curve in self.curves:
            entry = self.entry(results, curve, "the closed-loop run")
            ops = number(entry, OPS_PER_S)
            if entry.get("error_occurred") or not ops:
                raise Failure(f"the closed-loop run of {self.benchmarks[curve]} failed: "
                              f"{entry.get('error_message', 'no ops_per_s')}")
            start = max(1, int(round(START_FRACTION * ops)))
            self.calibration[curve] = {"ops_per_s": ops, "start_rate_per_s": start}
            log(f"closed loop, {LABELS[curve]}: {fmt_rate(ops)}; start at {fmt_rate(start)}")
        return {c: self.calibration[c]["start_rate_per_s"] for c in self.curves}

    def entry(self, results, curve, what):
        known = params.of_results(results.path, {"context": results.context})
        for e in results.entries:
            p = known.get(e["name"])
            if p and curve_of(p) == (self.opts.scenario, curve, self.threads) and \
                    e.get("run_type", "iteration") == "iteration":
                return e
        raise Failure(f"{what} has no result for {LABELS[curve]} ({self.benchmarks[curve]}): "
                      f"see {results.path}")

    def plan(self):
        """The next step: (rate, {curve: phase}), or None when every curve is done. A curve
        that wants the rate the other wants shares its step; otherwise they alternate."""
        wants = {}
        for c in self.curves:
            nxt = self.searches[c].next()
            if nxt:
                wants[c] = nxt
        if not wants:
            return None
        if CACHE in wants and TWIN in wants and wants[CACHE][0] == wants[TWIN][0]:
            return wants[CACHE][0], {c: wants[c][1] for c in wants}
        pick = CACHE if CACHE in wants else TWIN
        if TWIN in self.curves and len(wants) == 2 and not self.last_shared:
            pick = CACHE
        elif len(wants) == 2:
            pick = TWIN
        self.last_shared = pick == CACHE and TWIN in self.curves
        phases = {pick: wants[pick][1]}
        if pick == CACHE and TWIN in self.curves:
            phases[TWIN] = "extra"
        return wants[pick][0], phases

    def predict(self, rate, curves):
        """Seconds a step will take: a saturated curve runs at what it achieved, not at its
        target rate; plus cabench's own time (connect, flush, warm-up) seen so far."""
        total = self.cabench.overhead()
        ops = self.queries(rate) * self.threads
        for c in curves:
            saturated = [s["runs"][c][OPS_PER_S] for s in self.steps if c in s["runs"]
                         and "target_missed" in s["runs"][c]["reasons"]]
            total += ops / max(min([rate] + ([max(saturated)] if saturated else [])), 1.0)
        return total

    def run(self):
        self.discover()
        starts = self.calibrate()
        for c in self.curves:
            self.searches[c] = CurveSearch(starts[c], self.opts.growth, self.opts.bisect_steps,
                                           self.opts.rule, self.objective_us)
        while True:
            planned = self.plan()
            if planned is None:
                break
            rate, phases = planned
            seconds = self.predict(rate, phases)
            if seconds > self.remaining():
                self.stopped = (f"time cap: the next step ({fmt_rate(rate)}, about "
                                f"{seconds:.0f} s) would end after --max-seconds="
                                f"{self.opts.max_seconds:g}")
                break
            try:
                self.run_step(rate, phases)
            except TimeCap as e:
                self.stopped = f"time cap: {e}"
                break
            self.write()

    def run_step(self, rate, phases):
        index = len(self.steps) + 1
        tag = f"{index:02d}"
        queries = self.queries(rate)
        filt = bench_filter(self.opts.scenario, list(phases), self.threads)
        started = self.elapsed()
        results, folder, wall = self.cabench.step(tag, filt, rate, queries,
                                                  max(10, self.remaining()) + STOP_GRACE_S,
                                                  twin_flags(phases))
        if not self.context:
            self.context = dict(results.context)
        step = {"step": index, "rate_per_s": rate, "queries": queries, "filter": filt,
                "started_s": round(started, 3), "wall_s": round(wall, 3),
                "file": os.path.relpath(os.path.join(folder, "cabench.json"),
                                        os.path.dirname(os.path.abspath(self.opts.json))),
                "runs": {}}
        for curve in self.curves:
            if curve not in phases:
                continue
            obs = observe(self.entry(results, curve, f"step {index}"), self.objective_us)
            obs["phase"] = phases[curve]
            step["runs"][curve] = obs
            if phases[curve] != "extra":
                self.searches[curve].add(rate, phases[curve], obs)
        self.steps.append(step)
        log(progress_line(step, self.curves, self.opts.p99_ms, self.elapsed()))
        broken = [r for r in step["runs"].values() if r.get("error_message")]
        if broken:
            # A run cabench failed (a server gone, not overload, which shows as errors):
            # a capacity measured past it would be wrong.
            self.stopped = f"a cabench run failed in step {index}"
            self.write()
            raise Failure(f"step {index}: {broken[0]['benchmark']} failed: "
                          f"{broken[0]['error_message']} (see {folder})")

    def document(self):
        o = self.opts
        curves = {c: curve_result(c, self.searches.get(c), self.steps, self.benchmarks.get(c),
                                  self.stopped, o.rule) for c in self.curves}
        return {
            "format": FORMAT,
            "scenario": o.scenario,
            "threads": self.threads,
            "objective": {"intended_p99_ms": o.p99_ms, "errors": 0,
                          "achieved_min_pct": ACHIEVED_FRACTION * 100},
            "search": {"start": "min_rate" if o.min_rate else "closed_loop",
                       "min_rate_per_s": o.min_rate, "start_fraction": START_FRACTION,
                       "growth": o.growth, "bisect_steps": o.bisect_steps,
                       "confidence": o.confidence, "max_runs": o.max_runs,
                       "decision_level": o.rule.level, "max_descents": MAX_DESCENTS,
                       "warmup": None if o.cold else {"mode": "until_steady",
                                                      "max_ops": o.warmup_max_ops},
                       "step_seconds": o.step_seconds, "min_step_ops": MIN_STEP_OPS,
                       "max_seconds": o.max_seconds, "preset": o.preset,
                       "scenarios_dir": o.scenarios, "cabench": o.cabench},
            "twin": TWIN in self.curves,
            "calibration": self.calibration,
            "steps": self.steps,
            "curves": curves,
            "ratio": ratio_of(curves),
            "stopped": self.stopped,
            "elapsed_s": round(self.elapsed(), 3),
            "created": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "context": self.context,
        }

    def write(self):
        write_json_file(self.opts.json, self.document())


def write_json_file(path, doc):
    import json
    tmp = path + ".tmp"
    try:
        with open(tmp, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        os.replace(tmp, path)
    except OSError as e:
        raise Failure(f"cannot write {path}: {e.strerror}")


def progress_line(step, curves, p99_ms, elapsed):
    parts = []
    for c in curves:
        r = step["runs"].get(c)
        if r is None:
            parts.append(f"{LABELS[c]}: -")
        elif r.get("error_message"):
            parts.append(f"{LABELS[c]} [{r['phase']}]: FAIL ({reason_text(r, p99_ms)})")
        else:
            verdict = "pass" if r["passed"] else f"FAIL ({reason_text(r, p99_ms)})"
            hit = "" if r.get("hit_rate_pct") is None else f" hits {r['hit_rate_pct']:.0f}%"
            if r.get("steady_reached") == 0:
                hit += " (warm-up not steady)"
            parts.append(f"{LABELS[c]} [{r['phase']}]: {fmt_rate(r[OPS_PER_S])} p99 "
                         f"{fmt_ms(r[INTENDED_P99])} errors {fmt_num(r[ERRORS] or 0, 0)}"
                         f"{hit} {verdict}")
    return (f"step {step['step']:>2} {elapsed:5.0f}s rate {fmt_rate(step['rate_per_s'])}"
            f" | " + " | ".join(parts))


def median_of(runs, key):
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def curve_result(curve, search, steps, benchmark, stopped, rule):
    """The result of one curve: the monotone fit of all its runs (monotone.fit), its
    capacity (None when no rate passed) with the interval, the bracket, the status."""
    own = [s for s in steps if curve in s["runs"] and s["runs"][curve]["phase"] != "extra"]
    every = [(s["rate_per_s"], s["runs"][curve]) for s in steps if curve in s["runs"]]
    out = {"label": LABELS[curve], "benchmark": benchmark,
           "start_rate_per_s": search.start if search else None,
           "runs": len(own), "capacity": None, "lowest_failing_rate_per_s": None,
           "resolution_per_s": None, "confirmed": False, "status": "not_run", "note": "",
           "interval_note": "", "rates": []}
    if search is None or not search.runs:
        out["note"] = stopped if stopped != "done" else ""
        return out
    by_rate_runs = {}
    for rate, r in every:
        by_rate_runs.setdefault(rate, []).append(r)
    points = [(rate, sum(r["passed"] for r in rs), len(rs))
              for rate, rs in sorted(by_rate_runs.items())]
    fitted = monotone.fit(points, rule.confidence)
    for p in fitted["points"]:
        d = rule.decide(p["passes"], p["runs"])
        p["verdict"] = "undecided" if d is None else "pass" if d else "fail"
        for k in ("p_fit", "p_lo", "p_hi"):
            p[k] = round(p[k], 4)
    out["rates"] = fitted["points"]
    _, hi = search.bracket()
    out["lowest_failing_rate_per_s"] = hi
    status = search.status or "stopped"
    out["status"], out["note"] = status, search.note or (stopped if status == "stopped" else "")
    cap = fitted["capacity"]
    if cap is not None:
        at = [r for r in by_rate_runs[cap] if r["passed"]]
        out["capacity"] = {"rate_per_s": cap, "ops_per_s": median_of(at, OPS_PER_S),
                           "intended_p99_us": median_of(at, INTENDED_P99),
                           "p99_us": median_of(at, P99),
                           "hit_rate_pct": median_of(at, "hit_rate_pct"),
                           "db_queries_per_s": median_of(at, "db_queries_per_s"),
                           "rate_ci_lo": fitted["lo"], "rate_ci_hi": fitted["hi"],
                           "ci_confidence": rule.confidence}
        out["resolution_per_s"] = hi - cap if hi is not None and hi > cap else None
        out["confirmed"] = next(p for p in fitted["points"]
                                if p["rate_per_s"] == cap)["verdict"] == "pass"
        out["interval_note"] = "; ".join(
            f"no {end} end: {why}" for end, why in (("lower", fitted["lo_reason"]),
                                                    ("upper", fitted["hi_reason"])) if why)
    else:
        out["status"] = "no_passing_rate"
        if status == "stopped":
            out["note"] = f"no rate passed before the search stopped ({stopped})"
    return out


def ratio_of(curves):
    """Cache capacity / twin capacity; null without a twin or a capacity. 'bound' says
    whether it is exact or a bound (a curve that never failed is a lower bound). Its
    interval: the cache's lower end over the twin's upper end, and the cache's upper
    end over the twin's lower end; null where an end is missing."""
    cache, twin = curves.get(CACHE), curves.get(TWIN)
    if not cache or not twin or not cache["capacity"] or not twin["capacity"]:
        return None
    c, t = cache["capacity"], twin["capacity"]
    value = c["rate_per_s"] / t["rate_per_s"]
    cache_open = cache["lowest_failing_rate_per_s"] is None
    twin_open = twin["lowest_failing_rate_per_s"] is None
    bound = "unknown" if cache_open and twin_open else \
        "at_least" if cache_open else "at_most" if twin_open else "exact"
    lo = c["rate_ci_lo"] / t["rate_ci_hi"] if c.get("rate_ci_lo") and t.get("rate_ci_hi") \
        else None
    hi = c["rate_ci_hi"] / t["rate_ci_lo"] if c.get("rate_ci_hi") and t.get("rate_ci_lo") \
        else None
    return {"value": value, "bound": bound, "ci_lo": lo, "ci_hi": hi}


# ---------------------------------------------------------------- rendering (run and plot)

def validate(doc, path):
    """Raises ToolError unless `doc` is a capacity result file."""
    what = f"{path}: not a tools/capacity result file"
    if not isinstance(doc, dict) or doc.get("format") not in FORMATS:
        raise ToolError(f"{what} (no \"format\": \"{FORMAT}\")")
    curves, steps = doc.get("curves"), doc.get("steps")
    if not isinstance(curves, dict) or not curves or set(curves) - {CACHE, TWIN} or \
            not isinstance(steps, list):
        raise ToolError(f"{what} (no \"curves\" or \"steps\")")
    obj = doc.get("objective")
    if not isinstance(obj, dict) or not isinstance(obj.get("intended_p99_ms"), (int, float)):
        raise ToolError(f"{what} (no objective)")
    for i, s in enumerate(steps):
        if not isinstance(s, dict) or not isinstance(s.get("runs"), dict) or \
                not isinstance(s.get("rate_per_s"), (int, float)) or \
                not all(isinstance(r, dict) and isinstance(r.get("passed"), bool)
                        for r in s["runs"].values()):
            raise ToolError(f"{what} (steps[{i}] is malformed)")
    for c, r in curves.items():
        if not isinstance(r, dict) or "capacity" not in r or "status" not in r:
            raise ToolError(f"{what} (curves.{c} is malformed)")


def curve_points(doc, curve):
    """[(target rate, achieved ops/s, intended p99 ms, passed)] of every run of a curve
    with a latency (failed runs have none), in step order."""
    out = []
    for s in doc["steps"]:
        r = s["runs"].get(curve)
        if r and r.get(INTENDED_P99) is not None and r.get(OPS_PER_S) is not None:
            out.append((s["rate_per_s"], r[OPS_PER_S], r[INTENDED_P99] / 1000.0, r["passed"]))
    return out


def by_rate(points):
    """One point per target rate (medians of its runs), sorted by rate."""
    groups = {}
    for rate, x, y, _ in points:
        groups.setdefault(rate, []).append((x, y))
    return [(rate, statistics.median(x for x, _ in g), statistics.median(y for _, y in g))
            for rate, g in sorted(groups.items())]


def curves_in(doc):
    return [c for c in (TWIN, CACHE) if c in doc["curves"]]


def chart_title(doc):
    threads = f", {doc['threads']} threads" if doc.get("threads") else ""
    return f"{doc.get('scenario', '?')}{threads}"


def nice_ticks(lo, hi, count=4):
    """Round x positions between lo and hi for the terminal chart's axis."""
    if hi <= lo:
        return [(lo, fmt_num(lo, 0))]
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    ticks, x = [], first
    while x <= hi + 1e-9:
        ticks.append((x, fmt_num(x, 0) if step >= 1 else f"{x:g}"))
        x += step
    return ticks


def terminal_chart(doc, opts):
    """Intended p99 (log scale) against achieved ops/s, one line per curve: each curve's
    per-rate medians joined; between its own points it is interpolated on the chart's
    scales, which draws the same straight segments as a line through them."""
    objective = doc["objective"]["intended_p99_ms"]
    lines = {c: sorted((x, y) for _, x, y in by_rate(curve_points(doc, c)))
             for c in curves_in(doc)}
    xs = sorted({x for pts in lines.values() for x, _ in pts})
    title = (f"Intended p99 against achieved throughput, ms (log scale)  [{chart_title(doc)}]")
    if not xs:
        return [title, "  (no step has a latency to draw)"]
    series = []
    for c, pts in lines.items():
        series.append((LABELS[c], [interpolate_log(pts, x) for x in xs]))
    series.append((f"objective p99 <= {objective:g} ms", [objective] * len(xs)))
    return termplot.line_chart(title, xs, series, width=opts.width, height=opts.height,
                               use_color=opts.use_color, log_y=True,
                               x_label="achieved operations/s",
                               x_ticks=nice_ticks(xs[0], xs[-1]))


def interpolate_log(pts, x):
    """y at x on the polyline through pts (sorted by x), linear in x and in log10 y;
    None outside the polyline's x range."""
    if not pts or x < pts[0][0] or x > pts[-1][0]:
        return None
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if x0 <= x <= x1:
            if x1 == x0 or y0 <= 0 or y1 <= 0:
                return y0 if x == x0 else y1
            t = (x - x0) / (x1 - x0)
            return 10 ** (math.log10(y0) + t * (math.log10(y1) - math.log10(y0)))
    return pts[-1][1] if x == pts[-1][0] else None


STATUS_TEXT = {"found": "found", "max_rate": "never failed (the highest rate)",
               "stopped": "stopped early", "no_passing_rate": "NO PASSING RATE",
               "not_run": "not run"}


def table(doc):
    """The result table: one row per curve, then the ratio."""
    obj = doc["objective"]["intended_p99_ms"]
    out = [f"Capacity of {chart_title(doc)}: the highest target rate with intended p99 <= "
           f"{obj:g} ms, no errors and the target rate achieved"]
    rows = [["curve", "capacity", "interval", "achieved", "intended p99", "service p99",
             "hit rate", "lowest failing", "resolution", "runs", "status"]]
    for c in curves_in(doc):
        r = doc["curves"][c]
        cap = r.get("capacity") or {}
        hit = cap.get("hit_rate_pct")
        status = STATUS_TEXT.get(r["status"], r["status"])
        if r["status"] == "found" and not r.get("confirmed"):
            status += " (undecided)"
        rows.append([r.get("label", LABELS[c]), fmt_rate(cap.get("rate_per_s")),
                     interval_text(cap), fmt_rate(cap.get("ops_per_s")),
                     fmt_ms(cap.get("intended_p99_us")),
                     fmt_ms(cap.get("p99_us")), "-" if hit is None else f"{hit:.1f}%",
                     fmt_rate(r.get("lowest_failing_rate_per_s")),
                     fmt_rate(r.get("resolution_per_s")), str(r.get("runs", "-")), status])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.append("  " + "  ".join(cell.ljust(w) if i in (0, 10) else cell.rjust(w)
                                    for i, (cell, w) in enumerate(zip(row, widths))).rstrip())
    conf = doc.get("search", {}).get("confidence")
    if conf:
        out.append(f"  interval [lo, hi): lo passes and hi fails at {conf * 100:g}% confidence "
                   f"each (both together: >= {max(0.0, 2 * conf - 1) * 100:g}%), from the "
                   "monotone fit of every run")
    for c in curves_in(doc):
        r = doc["curves"][c]
        if r.get("note"):
            out.append(f"  {LABELS[c]}: {r['note']}")
        if r.get("capacity") and "rate_ci_lo" not in r["capacity"]:
            out.append(f"  {LABELS[c]}: no interval: not recorded (a file of a tools/capacity "
                       "before the monotone fit)")
        elif r.get("interval_note"):
            out.append(f"  {LABELS[c]}: interval: {r['interval_note']}")
    out.append("  " + ratio_text(doc))
    if doc.get("stopped", "done") != "done":
        out.append(f"  stopped early: {doc['stopped']}")
    return out


def interval_text(cap):
    """The capacity's interval [lo, hi) as the table shows it; '-' when it has no end."""
    lo, hi = cap.get("rate_ci_lo"), cap.get("rate_ci_hi")
    if lo is not None and hi is not None:
        return f"{fmt_num(lo, 0)}..{fmt_num(hi, 0)}/s"
    if lo is not None:
        return f">= {fmt_rate(lo)}"
    if hi is not None:
        return f"< {fmt_rate(hi)}"
    return "-"


def ratio_text(doc):
    if not doc.get("twin"):
        return ("one curve: the scenario has no `baseline: no_cache` twin, so there is no "
                "ratio to the database alone")
    ratio = doc.get("ratio")
    if not ratio:
        return "cache / no cache: - (a curve has no capacity)"
    caps = [doc["curves"][c]["capacity"]["rate_per_s"] for c in (CACHE, TWIN)]
    word = {"exact": "", "at_least": "at least ", "at_most": "at most ",
            "unknown": "(both curves never failed) "}[ratio["bound"]]
    lo, hi = ratio.get("ci_lo"), ratio.get("ci_hi")
    interval = (f"; interval {lo:.1f}..{hi:.1f}x" if lo is not None and hi is not None else
                f"; interval >= {lo:.1f}x" if lo is not None else
                f"; interval < {hi:.1f}x" if hi is not None else "; no interval")
    return (f"cache / no cache: {word}{ratio['value']:.1f}x{interval}: with the cache, the "
            f"database survives {word}{ratio['value']:.1f} times the traffic "
            f"({fmt_rate(caps[0])} against {fmt_rate(caps[1])} at p99 <= "
            f"{doc['objective']['intended_p99_ms']:g} ms)")


def write_images(doc, stem, out_dir, formats):
    """The latency-versus-throughput figure: every run (o passed, x failed), a line through
    each curve's per-rate medians, its capacity (a star), the objective (dashed)."""
    plt = plotting.import_pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.8), layout="constrained")
    colors = {CACHE: "tab:blue", TWIN: "tab:red"}
    drawn = False
    for c in curves_in(doc):
        pts = curve_points(doc, c)
        if not pts:
            continue
        drawn = True
        cap = doc["curves"][c].get("capacity")
        label = LABELS[c] + (f": capacity {fmt_rate(cap['rate_per_s'])}" if cap else
                             ": no passing rate")
        med = by_rate(pts)
        ax.plot([x for _, x, _ in med], [y for _, _, y in med], color=colors[c], label=label)
        for passed, marker in ((True, "o"), (False, "x")):
            sel = [(x, y) for _, x, y, p in pts if p == passed]
            if sel:
                ax.scatter([x for x, _ in sel], [y for _, y in sel], color=colors[c],
                           marker=marker, s=22, zorder=3)
        if cap and cap.get("rate_ci_lo") is not None and cap.get("rate_ci_hi") is not None:
            # Target rates: at a passing rate the achieved rate is within 1% of it.
            ax.axvspan(cap["rate_ci_lo"], cap["rate_ci_hi"], color=colors[c], alpha=0.12,
                       label=f"{LABELS[c]}: capacity interval "
                             f"{interval_text(cap)} ({cap['ci_confidence'] * 100:g}% each end)")
        if cap and cap.get("ops_per_s") and cap.get("intended_p99_us"):
            ax.scatter([cap["ops_per_s"]], [cap["intended_p99_us"] / 1000.0], color=colors[c],
                       marker="*", s=160, edgecolor="black", zorder=4)
    objective = doc["objective"]["intended_p99_ms"]
    if drawn:
        ax.axhline(objective, color="black", linestyle="--", linewidth=1,
                   label=f"objective: intended p99 <= {objective:g} ms")
        ax.set_yscale("log")
        ax.legend(loc="upper left", fontsize=8)
    else:
        plotting.no_data(ax, "no step has a latency to draw")
    ax.set_xlabel("achieved throughput (operations/s)")
    ax.set_ylabel("intended p99 (ms, log scale)")
    ax.grid(True, which="both", alpha=0.3)
    ratio = doc.get("ratio")
    sub = ratio_text(doc) if ratio else ""
    ax.set_title(f"Latency against throughput: {chart_title(doc)}\n"
                 "o passed, x failed (p99, errors or target missed); * capacity; "
                 "band: its interval"
                 + (f"\n{sub}" if sub else ""), fontsize=8)
    written = []
    plotting.save(fig, plotting.output_stem(out_dir, stem, IMAGE_SUFFIX), formats, written)
    plt.close(fig)
    return written


def render(doc, opts, stem, out_dir):
    """Prints the chart (unless --quiet) and the table; writes the images asked for."""
    blocks = [] if opts.quiet else ["\n".join(terminal_chart(doc, opts))]
    blocks.append("\n".join(table(doc)))
    print("\n\n".join(blocks), flush=True)
    written = write_images(doc, stem, out_dir, opts.formats) if opts.formats else []
    for w in written:
        print(f"wrote {w}", file=sys.stderr)


def failures(doc):
    """One line naming the curves with no passing rate, or None."""
    bad = [c for c in curves_in(doc) if not doc["curves"][c].get("capacity")]
    if not bad:
        return None
    return "no rate met the objective for " + "; ".join(
        f"{LABELS[c]} ({doc['curves'][c].get('note') or 'no step passed'})" for c in bad)


# ---------------------------------------------------------------- arguments

def parse_args(argv):
    p = one_line_parser(PROG)
    p.add_argument("-h", "--help", action="store_true")
    p.add_argument("--p99-ms", type=float)
    p.add_argument("--threads", type=int)
    p.add_argument("--min-rate", type=int)
    p.add_argument("--growth", type=float, default=1.5)
    p.add_argument("--bisect-steps", type=int, default=3)
    p.add_argument("--confidence", type=float, default=DEFAULT_CONFIDENCE)
    p.add_argument("--max-runs", type=int, default=DEFAULT_MAX_RUNS)
    p.add_argument("--cold", action="store_true")
    p.add_argument("--warmup-max-ops", type=int, default=DEFAULT_WARMUP_MAX_OPS)
    p.add_argument("--step-seconds", type=float, default=5.0)
    p.add_argument("--max-seconds", type=float, default=1800.0)
    p.add_argument("--preset", default="default")
    p.add_argument("--scenarios", default=os.path.join(ROOT, "scenarios"))
    p.add_argument("--cabench")
    p.add_argument("--out")
    p.add_argument("--json")
    p.add_argument("--png", action="store_true")
    p.add_argument("--svg", action="store_true")
    p.add_argument("--check", action="store_true")
    p.add_argument("--width", type=int, default=60)
    p.add_argument("--height", type=int, default=14)
    p.add_argument("--color", choices=["auto", "always", "never"], default="auto")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("args", nargs="*")
    opts = p.parse_args(argv)
    if opts.help:
        return opts
    if not 20 <= opts.width <= 400 or not 4 <= opts.height <= 100:
        raise ToolError("--width must be 20..400 and --height 4..100")
    if opts.color == "auto":
        opts.use_color = sys.stdout.isatty() and not os.environ.get("NO_COLOR") and \
            os.environ.get("TERM") != "dumb"
    else:
        opts.use_color = opts.color == "always"
    opts.formats = [f for f, on in (("png", opts.png), ("svg", opts.svg)) if on]
    return opts


def check_search_args(opts):
    """Validates the search form's arguments and inputs; fills in defaults."""
    if len(opts.args) != 1:
        raise ToolError(f"expected one SCENARIO (or 'plot FILE.json'), got "
                        f"{len(opts.args) or 'none'}")
    if opts.p99_ms is None:
        raise ToolError("--p99-ms=X is required: the objective, intended p99 <= X ms")
    checks = [(opts.p99_ms > 0 and math.isfinite(opts.p99_ms), "--p99-ms must be > 0"),
              (opts.threads is None or opts.threads >= 1, "--threads must be >= 1"),
              (opts.min_rate is None or 1 <= opts.min_rate <= MAX_RATE,
               f"--min-rate must be 1..{MAX_RATE}"),
              (1.0 < opts.growth <= 100, "--growth must be > 1 (and <= 100)"),
              (0 <= opts.bisect_steps <= 30, "--bisect-steps must be 0..30"),
              (0 < opts.confidence < 1, f"--confidence={opts.confidence:g} must be "
                                        "between 0 and 1 (exclusive)"),
              (1 <= opts.max_runs <= 30, "--max-runs must be 1..30"),
              (1000 <= opts.warmup_max_ops <= 100_000_000,
               "--warmup-max-ops must be 1000..100000000"),
              (0.1 <= opts.step_seconds <= 3600, "--step-seconds must be 0.1..3600"),
              (1 <= opts.max_seconds <= 7 * 86400, "--max-seconds must be 1..604800"),
              (opts.preset in PRESETS, f"--preset must be {', '.join(PRESETS)}, not "
                                       f"'{opts.preset}'")]
    for ok, message in checks:
        if not ok:
            raise ToolError(message)
    opts.rule = monotone.Sequential(opts.confidence, opts.max_runs)
    if opts.rule.min_runs() is None:
        raise ToolError(f"--max-runs={opts.max_runs} cannot decide a rate at --confidence="
                        f"{opts.confidence:g}: that takes at least "
                        f"{monotone.agreeing_runs(opts.confidence)} agreeing runs")
    arg = opts.args[0]
    if arg.endswith((".yaml", ".yml")) and os.sep in arg:
        opts.scenarios, arg = os.path.dirname(arg) or ".", os.path.basename(arg)
        arg = arg.rsplit(".", 1)[0]
    if not SCENARIO_NAME.fullmatch(arg):
        raise ToolError(f"'{arg}' is not a scenario name (letters, digits, _)")
    if not os.path.isdir(opts.scenarios):
        raise ToolError(f"--scenarios {opts.scenarios}: no such folder")
    known = sorted(f.rsplit(".", 1)[0] for f in os.listdir(opts.scenarios)
                   if f.endswith((".yaml", ".yml")))
    if arg not in known:
        raise ToolError(f"unknown scenario '{arg}': {opts.scenarios} has "
                        f"{', '.join(known) or 'no scenario files'}")
    opts.scenario = arg
    if opts.cabench is None:
        build = os.environ.get("CABENCH_BUILD_DIR") or os.path.join(ROOT, "build")
        opts.cabench = os.path.join(build, "bin", "cabench")
    opts.loader = os.path.join(os.path.dirname(opts.cabench), "cabench_load")
    for path, what in ((opts.cabench, "the benchmark suite"), (opts.loader, "the loader")):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            raise Failure(f"{path} is missing ({what}): build it (tools/run builds "
                          "everything), or give --cabench=PATH / CABENCH_BUILD_DIR")
    if opts.out is None:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        opts.out = os.path.join(ROOT, "results", "runs",
                                f"{stamp}_{git_sha()}_capacity_{opts.scenario}")
    opts.json = opts.json or os.path.join(opts.out, "capacity.json")


def git_sha():
    try:
        p = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        return p.stdout.strip() or "nogit"
    except OSError:
        return "nogit"


def load_data(opts):
    """cabench_load --preset=P (quick when the schema already holds that data set)."""
    log(f"loading the {opts.preset} data set (cabench_load --preset={opts.preset})")
    try:
        rc = subprocess.run([opts.loader, f"--preset={opts.preset}"], stdout=sys.stderr,
                            stdin=subprocess.DEVNULL).returncode
    except OSError as e:
        raise Failure(f"cannot run {opts.loader}: {e.strerror}")
    if rc != 0:
        raise Failure(f"loading the {opts.preset} data set failed (cabench_load exit {rc})")


def stem_of(path):
    base = os.path.basename(path)
    return base[:-5] if base.endswith(".json") else base


# ---------------------------------------------------------------- main

def plot_main(opts):
    if len(opts.args) != 2:
        raise ToolError(f"usage: {PROG} plot CAPACITY.json [--png] [--svg] [--out DIR]")
    path = opts.args[1]
    doc = load_json(path, "tools/capacity result file")
    validate(doc, path)
    if opts.out and not opts.formats:
        opts.formats = ["png", "svg"]
    out_dir = opts.out or os.path.dirname(os.path.abspath(path))
    if opts.formats:
        make_dir(out_dir, "--out")
    render(doc, opts, stem_of(path), out_dir)
    return EXIT_OK


def make_dir(path, what):
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise ToolError(f"{what} {path}: cannot create the folder: {e.strerror}")


def search_main(opts):
    check_search_args(opts)
    if opts.check:
        return EXIT_OK
    make_dir(opts.out, "--out")
    make_dir(os.path.dirname(os.path.abspath(opts.json)), "--json")
    opts.run_scenarios = opts.scenarios if opts.cold else write_warm_scenario(opts)
    load_data(opts)
    search = Search(opts)
    try:
        search.run()
    except KeyboardInterrupt:
        search.stopped = "interrupted"
        if search.searches:
            search.write()
        raise
    doc = search.document()
    write_json_file(opts.json, doc)
    render(doc, opts, stem_of(opts.json), opts.out)
    print(f"results: {opts.json}", file=sys.stderr)
    problem = failures(doc)
    if problem:
        print(f"{PROG}: error: {problem}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def main(argv):
    try:
        opts = parse_args(argv)
        if opts.help:
            print(__doc__.strip())
            return EXIT_OK
        if opts.args and opts.args[0] == "plot":
            return plot_main(opts)
        return search_main(opts)
    except ToolError as e:
        return fail(e, EXIT_USAGE)
    except Failure as e:
        return fail(e, EXIT_FAILURE)


def fail(message, code):
    print(f"{PROG}: error: {' '.join(str(message).split())}", file=sys.stderr)
    return code


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        sys.exit(main(sys.argv[1:]))
    except BrokenPipeError:
        sys.exit(EXIT_OK)
    except KeyboardInterrupt:
        sys.exit(130)

"""Google Benchmark JSON result files (--benchmark_out_format=json) as cabench writes them.

load_results(path) validates a file, brings every entry to today's names
(lib/metrics/names.def, through cabench_py.names) and groups the entries by
run: every repetition of one benchmark (run_type "iteration",
repetition_index 0..n-1) and the aggregates Google Benchmark adds (mean,
median, stddev, cv).

Files written before names.def are read through its aliases, once, here:
  - old counter spellings (cache_hit_avg_us) become today's (hit_avg_us); when a
    file has both, today's wins;
  - benchmark names say access:pool / access:random (old: access:0 / access:1);
  - an old entry gets `ops` (its reads + writes: old reads and writes counted
    failed operations too, so their sum is every attempted operation);
  - an old run without a cache (reads, no GET step: no get_* counter) counted
    its reads as cache_misses: they become db_reads, its miss_* counters
    db_read_*, and the counters that need a cache (hit_rate_pct,
    predicted_hit_rate_pct, speedup, miss_vs_hit, hit_*) are dropped;
  - per-class counters of a class with no operation (old files wrote 0) and
    ratios without a cache hit are dropped: today they are absent, not 0.
Old reads and writes keep their old meaning (failed operations included).
"""
import copy

from . import names
from .common import ToolError, is_number, load_json

# Keys of a benchmark entry that are not user counters.
STANDARD_KEYS = {
    "name", "family_index", "per_family_instance_index", "run_name", "run_type",
    "repetitions", "repetition_index", "threads", "iterations", "real_time", "cpu_time",
    "time_unit", "aggregate_name", "aggregate_unit", "error_occurred", "error_message",
    "label", "big_o", "rms", "complexity_n",
}
TIME_UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
# Old files: the count counter of each class, to drop the zeros of empty classes.
_LEGACY_CLASS_COUNTS = {"hit": "cache_hits", "miss": "cache_misses", "write": "writes",
                        "db_read": "db_reads", "fallback": "fallback_reads"}
# Counters that exist only for a run with a cache.
_CACHE_ONLY = ("hit_rate_pct", "predicted_hit_rate_pct", "speedup", "miss_vs_hit")


def _class_keys(entry, cls):
    prefix = cls + "_"
    suffixes = {s.suffix for s in names.class_stats()}
    return [k for k in entry if k.startswith(prefix) and k[len(prefix):] in suffixes]


def _is_legacy(entry):
    """True for an entry written before names.def (old names or numeric access)."""
    aliases = names.table().aliases
    if any(k in aliases for k in entry):
        return True
    name = entry.get("name")
    return isinstance(name, str) and names.normalize_benchmark_name(name) != name


def _legacy_semantics(e):
    """Today's meaning for the counters of an old entry (see the module comment)."""
    def num(key):
        v = e.get(key)
        return v if is_number(v) else None

    reads, writes = num("reads"), num("writes")
    if "ops" not in e and reads is not None and writes is not None:
        e["ops"] = reads + writes
    if (reads or 0) > 0 and not num("cache_hits") and "select_avg_us" in e and \
            not any(k.startswith("get_") for k in e):
        e["db_reads"] = e.get("cache_misses", reads)
        e["cache_misses"] = 0.0
        for key in _class_keys(e, "miss"):
            e["db_read_" + key[len("miss_"):]] = e.pop(key)
        for key in _CACHE_ONLY + tuple(_class_keys(e, "hit")):
            e.pop(key, None)
    for cls, count in _LEGACY_CLASS_COUNTS.items():
        if num(count) == 0:
            for key in _class_keys(e, cls):
                e.pop(key)
    if not num("cache_hits"):
        for key in ("speedup", "miss_vs_hit"):
            e.pop(key, None)
        if not num("cache_misses"):
            e.pop("hit_rate_pct", None)


def normalize_entry(entry):
    """A copy of one benchmark entry in today's names (old files: see the module comment)."""
    out = copy.deepcopy(names.normalize_keys(entry))
    for key in ("name", "run_name"):
        if isinstance(out.get(key), str):
            out[key] = names.normalize_benchmark_name(out[key])
    if _is_legacy(entry) and not entry.get("error_occurred"):
        _legacy_semantics(out)
    return out


def entry_time_ns(entry, key):
    """entry[key] ('real_time' or 'cpu_time') in nanoseconds; raises ToolError."""
    value, unit = entry.get(key), entry.get("time_unit", "ns")
    if not is_number(value) or unit not in TIME_UNIT_NS:
        raise ToolError(f"{entry.get('name')}: no {key} in a known time unit")
    return float(value) * TIME_UNIT_NS[unit]


class Run:
    """One benchmark run (all its repetitions) of a result file."""

    def __init__(self, name):
        self.name = name
        self.iterations = []   # entries with run_type "iteration" (one per repetition)
        self.aggregates = {}   # aggregate_name -> entry
        self.errors = []       # error_message of failed repetitions

    def counter_names(self):
        names_ = set()
        for entry in self.iterations + list(self.aggregates.values()):
            names_.update(k for k, v in entry.items() if k not in STANDARD_KEYS and is_number(v))
        return names_

    def samples(self, counter):
        """The counter's value in each successful repetition; the 'mean' aggregate's value
        when the file holds aggregates only; [] when no entry has the counter."""
        values = [e[counter] for e in self.iterations
                  if not e.get("error_occurred") and is_number(e.get(counter))]
        if values:
            return [float(v) for v in values]
        mean = self.aggregates.get("mean")
        if mean is not None and is_number(mean.get(counter)):
            return [float(mean[counter])]
        return []

    def interval(self, counter):
        """The 95% interval (lo, hi) of the counter's value as samples() gives it: across
        repetitions, the ci95_lo/ci95_hi aggregates cabench adds (Student's t of the mean);
        in a single run, the percentile's own <counter>_ci_lo/_ci_hi (order statistics).
        None when the file holds neither."""
        lo, hi = self.aggregates.get("ci95_lo"), self.aggregates.get("ci95_hi")
        if lo is not None and hi is not None and self.repetitions >= 2:
            if is_number(lo.get(counter)) and is_number(hi.get(counter)):
                return float(lo[counter]), float(hi[counter])
            return None
        if self.repetitions == 1:
            (e,) = [e for e in self.iterations if not e.get("error_occurred")]
            lo, hi = e.get(counter + "_ci_lo"), e.get(counter + "_ci_hi")
            if is_number(lo) and is_number(hi):
                return float(lo), float(hi)
        return None

    @property
    def repetitions(self):
        return len([e for e in self.iterations if not e.get("error_occurred")])


class Results:
    """A parsed result file: its context, its entries (normalized, in file order), its runs
    in file order, and `data`: the whole document with the normalized entries."""

    def __init__(self, path, data, entries, runs, legacy):
        self.path = path
        self.data = data
        self.context = data["context"]
        self.entries = entries
        self.runs = runs  # dict name -> Run, insertion-ordered
        self.legacy = legacy  # some entry was written before names.def

    def failed(self):
        """The entries that reported an error (error_occurred)."""
        return [e for e in self.entries if e.get("error_occurred")]


def results_from_json(data, path):
    """Results of an already-parsed Google Benchmark document; raises ToolError (one line)
    when it is not one. `path` names it in messages."""
    what = "is not Google Benchmark JSON"
    if not isinstance(data, dict):
        raise ToolError(f"{path}: {what} (the top level is not an object)")
    context = data.get("context")
    benchmarks = data.get("benchmarks")
    if not isinstance(context, dict):
        raise ToolError(f"{path}: {what} (no \"context\" object)")
    if not isinstance(benchmarks, list):
        raise ToolError(f"{path}: {what} (no \"benchmarks\" list)")
    runs, entries, legacy = {}, [], False
    for i, raw in enumerate(benchmarks):
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise ToolError(f"{path}: {what} (benchmarks[{i}] has no name)")
        legacy = legacy or _is_legacy(raw)
        entry = normalize_entry(raw)
        entries.append(entry)
        name = entry.get("run_name")
        if not isinstance(name, str) or not name:
            name = entry["name"]
        run = runs.setdefault(name, Run(name))
        if entry.get("run_type") == "aggregate":
            agg = entry.get("aggregate_name")
            if isinstance(agg, str):
                run.aggregates[agg] = entry
            continue
        run.iterations.append(entry)
        if entry.get("error_occurred"):
            run.errors.append(str(entry.get("error_message", "error")))
    doc = dict(data)
    doc["benchmarks"] = entries
    return Results(path, doc, entries, runs, legacy)


def load_results(path):
    """Returns Results for `path`; raises ToolError (one line) for a missing file, bad JSON
    or JSON that is not Google Benchmark output."""
    return results_from_json(load_json(path, "Google Benchmark JSON file"), path)

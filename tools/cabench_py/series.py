"""Per-second time series files (lib/metrics/time_series.h TimeSeriesJson).

load_series(path) returns a Series: the seconds in ascending order as Second
objects, with every key in today's spelling (lib/metrics/names.def through
cabench_py.names; old files are read through its aliases: cache_hit_avg_us
is hit_avg_us). Derived values (hit rate, QPS, speedup) are computed here,
once, with the arithmetic the reference documents.

Two generations of files:
  today's (they have db_reads): reads and writes count operations that
      succeeded, so count == reads + writes + errors; a run without a cache
      counts its reads as db_reads;
  older (`legacy`): reads and writes include the failed operations (count ==
      reads + writes), and a run without a cache counted its reads as
      cache_misses.

steady_start() is the warm-up's steady-state rule (Scenario::warmup
until_steady) over a list of hit rates, computed by cabench_report (the rule's
one home is lib/metrics/steady.h); Series.steady_second() applies it to
the run's whole seconds. scenario_of_file() names a run by its recorded parameters.
"""
import os

from . import names, params, report
from .common import ToolError, is_number, load_json


# Scenario::warmup_steady_pct's default: points of hit rate.
STEADY_PCT = 1.0


def count_fields():
    """The series fields that are counts: every field not a time (µs, ms) or a share (%)."""
    fields = names.series_fields(open_loop=True, server=True, cache=True)
    return [k for k in fields if not k.endswith(("_us", "_ms", "_pct"))]


def steady_start(rates, steady_pct=STEADY_PCT):
    """The index of the first window at which the hit rates `rates` (%, None for a
    window without reads) are steady by the warm-up's rule, as cabench computes it
    (cabench_report --steady_start, lib/metrics/steady.h); None when never."""
    text = ",".join("" if r is None else repr(float(r)) for r in rates)
    return report.steady_start(text, steady_pct)


class Second:
    """One window of one second: `epoch` (int), `offset` (seconds since the first window)
    and the file's fields (today's names; None where the file has null or lacks the key)."""

    def __init__(self, epoch, offset, fields):
        self.epoch = epoch
        self.offset = offset
        self.fields = fields

    def get(self, key):
        value = self.fields.get(key)
        return float(value) if is_number(value) else None

    def count(self, key):
        value = self.fields.get(key)
        return int(value) if is_number(value) else 0

    # Derived values, with the reference's formulas.
    def hit_rate_pct(self):
        """cache_hits / (cache_hits + cache_misses) * 100; None without cache reads."""
        hits, misses = self.count("cache_hits"), self.count("cache_misses")
        return 100.0 * hits / (hits + misses) if hits + misses else None

    def qps(self):
        """count / 1 s."""
        return self.count("count") / 1.0

    def computed_avg_us(self):
        """total_time_us / count; None when count is 0."""
        n = self.count("count")
        total = self.get("total_time_us")
        return total / n if n and total is not None else None

    def speedup(self):
        """db_avg_us / hit_avg_us; None when either is missing or the hit avg is 0."""
        db, hit = self.get("db_avg_us"), self.get("hit_avg_us")
        return db / hit if db is not None and hit else None


class Series(list):
    """The seconds of one file, ascending, plus facts about the whole run."""

    def __init__(self, seconds, path, legacy):
        super().__init__(seconds)
        self.path = path
        self.legacy = legacy  # written before names.def (see the module comment)

    def has_cache(self):
        """False for a run without a cache. Today's files: no second with a cache hit,
        miss or fallback read. Older files, which counted the reads of a run without a
        cache as misses: no cache hit in any second."""
        keys = ("cache_hits",) if self.legacy else ("cache_hits", "cache_misses",
                                                     "fallback_reads")
        return any(s.count(k) for s in self for k in keys)

    def has(self, key):
        """True when some second has the field (null or not)."""
        return any(key in s.fields for s in self)

    def steady_second(self, steady_pct=STEADY_PCT):
        """The Second from which the hit rate is steady (steady_start over the whole
        seconds: the first and last windows are partial and left out), or None."""
        whole = self[1:-1]
        i = steady_start([s.hit_rate_pct() for s in whole], steady_pct)
        return None if i is None else whole[i]


def scenario_of_file(path):
    """The scenario a series file belongs to, as its run folder's benchmarks.json records
    it ('stampede_jitter'; a twin adds '@no_cache', a repeated run ' run N'); the file's
    stem when the folder has no record of it."""
    p = params.of_series(path)
    if p is None:
        stem = os.path.basename(path)
        return stem[:-5] if stem.endswith(".json") else stem
    return p["scenario"] + ("@no_cache" if p.get("twin") else "") + \
        (f" run {p['run']}" if p["run"] else "")


def load_series(path):
    """Returns the Series of a time-series file; raises ToolError (one line) for a
    missing, empty or garbled file."""
    data = load_json(path, "cabench time-series file")
    what = "not a cabench time-series file"
    if not isinstance(data, dict):
        raise ToolError(f"{path}: {what} (expected an object keyed by epoch second)")
    if not data:
        raise ToolError(f"{path}: the time series is empty (the run recorded no operation)")
    required = names.reference_series_fields()
    counts = count_fields()
    seconds, legacy = [], False
    for key, raw in data.items():
        if not key.isdigit():
            raise ToolError(f"{path}: {what} (key '{key[:30]}' is not an epoch second)")
        if not isinstance(raw, dict):
            raise ToolError(f"{path}: {what} (second {key} is not an object)")
        fields = names.normalize_keys(raw)
        for k in required:
            if k not in fields:
                raise ToolError(f"{path}: {what} (second {key} has no '{k}')")
        for k in counts:
            v = fields.get(k, 0)
            if not is_number(v) or v < 0 or v != int(v):
                raise ToolError(f"{path}: second {key}: '{k}' is not a count ({v!r})")
        for k, v in fields.items():
            if v is not None and not is_number(v):
                raise ToolError(f"{path}: second {key}: '{k}' is not a number ({v!r})")
        legacy = legacy or "db_reads" not in fields
        seconds.append((int(key), fields))
    seconds.sort(key=lambda s: s[0])
    first = seconds[0][0]
    return Series([Second(epoch, epoch - first, fields) for epoch, fields in seconds], path,
                  legacy)

"""Per-second time series files (lib/metrics/time_series.h TimeSeriesJson).

load_series(path) returns the seconds in ascending order as Second objects;
derived values (hit rate, QPS, speedup) are computed here, once, with the
arithmetic the reference documents.
"""
from .common import ToolError, is_number, load_json

# The reference's nine keys; every second object has them.
REFERENCE_KEYS = ("count", "total_time_us", "avg_time_us", "min_time_us", "max_time_us",
                  "reads", "writes", "cache_hits", "cache_misses")
COUNT_KEYS = ("count", "reads", "writes", "cache_hits", "cache_misses")
# cabench's per-class keys (null when the class had no operation that second).
CLASS_KEYS = ("errors", "cache_hit_avg_us", "cache_miss_avg_us", "write_avg_us", "db_avg_us",
              "cache_hit_p99_us", "cache_miss_p99_us", "write_p99_us")


class Second:
    """One window of one second: `epoch` (int), `offset` (seconds since the first window)
    and the file's fields as attributes (None where the file has null or lacks the key)."""

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
        """cache_hits / (cache_hits + cache_misses) * 100; None without reads."""
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
        """db_avg_us / cache_hit_avg_us; None when either is missing or the cache avg is 0."""
        db, hit = self.get("db_avg_us"), self.get("cache_hit_avg_us")
        return db / hit if db is not None and hit else None


def load_series(path):
    """Returns the seconds of a time-series file in ascending order; raises ToolError
    (one line) for a missing, empty or garbled file."""
    data = load_json(path, "cabench time-series file")
    what = "not a cabench time-series file"
    if not isinstance(data, dict):
        raise ToolError(f"{path}: {what} (expected an object keyed by epoch second)")
    if not data:
        raise ToolError(f"{path}: the time series is empty (the run recorded no operation)")
    seconds = []
    for key, fields in data.items():
        if not key.isdigit():
            raise ToolError(f"{path}: {what} (key '{key[:30]}' is not an epoch second)")
        if not isinstance(fields, dict):
            raise ToolError(f"{path}: {what} (second {key} is not an object)")
        for k in REFERENCE_KEYS:
            if k not in fields:
                raise ToolError(f"{path}: {what} (second {key} has no '{k}')")
        for k in COUNT_KEYS:
            v = fields[k]
            if not is_number(v) or v < 0 or v != int(v):
                raise ToolError(f"{path}: second {key}: '{k}' is not a count ({v!r})")
        for k, v in fields.items():
            if v is not None and not is_number(v):
                raise ToolError(f"{path}: second {key}: '{k}' is not a number ({v!r})")
        seconds.append((int(key), fields))
    seconds.sort(key=lambda s: s[0])
    first = seconds[0][0]
    return [Second(epoch, epoch - first, fields) for epoch, fields in seconds]

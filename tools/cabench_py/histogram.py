"""Histogram::Serialize() text (lib/metrics/histogram.h, version 1), in Python.

  cbhist 1 <sub_bucket_bits> <num_buckets> <count> <sum> <min> <max>[ <i>:<n>]...

Values are nanoseconds. Percentile() reproduces Histogram::Percentile exactly:
nearest rank; the first and last ranks are the exact min and max; otherwise
the midpoint of the bucket holding the rank, clamped to [min, max].
"""
import math

from . import names
from .common import ToolError, load_json

MAGIC = "cbhist"
VERSION = 1
SUB_BUCKET_BITS = 7
MAX_TRACKABLE_NS = (1 << 37) - 1


def _log_linear_index(v, sub_bits=SUB_BUCKET_BITS):
    top_bit = max(v | 1, 1).bit_length() - 1
    shift = max(0, top_bit - sub_bits)
    return (shift << sub_bits) + (v >> shift)


OVERFLOW_BUCKET = _log_linear_index(MAX_TRACKABLE_NS) + 1
NUM_BUCKETS = OVERFLOW_BUCKET + 1


def bucket_lower(index, sub_bits=SUB_BUCKET_BITS):
    """The smallest value (ns) of bucket `index` (as internal::LogLinearLower)."""
    shift = max(0, (index >> sub_bits) - 1)
    return (index - (shift << sub_bits)) << shift


def bucket_width(index, sub_bits=SUB_BUCKET_BITS):
    """The number of distinct values of bucket `index` (as internal::LogLinearWidth)."""
    return 1 << max(0, (index >> sub_bits) - 1)


class Histogram:
    """A parsed histogram: count, sum, min, max (ns) and {bucket index: count}."""

    def __init__(self, count, total, minimum, maximum, buckets):
        self.count = count
        self.sum = total
        self.min = minimum
        self.max = maximum
        self.buckets = buckets  # list of (index, count), increasing index

    def mean(self):
        return self.sum / self.count if self.count else 0.0

    def percentile(self, p):
        """The p-th percentile in ns, p in [0, 100], as Histogram::Percentile."""
        if self.count == 0:
            return 0.0
        if not p > 0.0:
            return float(self.min)
        if p >= 100.0:
            return float(self.max)
        exact_rank = p / 100.0 * self.count
        rank = int(math.ceil(exact_rank * (1.0 - 1e-12)))
        rank = min(max(rank, 1), self.count)
        if rank == 1:
            return float(self.min)
        if rank == self.count:
            return float(self.max)
        seen = 0
        for index, n in self.buckets:
            seen += n
            if seen < rank:
                continue
            if index == OVERFLOW_BUCKET:
                return float(self.max)
            mid = bucket_lower(index) + (bucket_width(index) - 1) / 2.0
            return min(max(mid, float(self.min)), float(self.max))
        return float(self.max)


def merge(histograms):
    """The Histogram of every value of `histograms` together (as Histogram::Merge): counts and
    sums added bucket by bucket, min of the mins and max of the maxes of the non-empty ones."""
    filled = [h for h in histograms if h.count]
    if not filled:
        return Histogram(0, 0, 0, 0, [])
    buckets = {}
    for h in filled:
        for index, n in h.buckets:
            buckets[index] = buckets.get(index, 0) + n
    return Histogram(sum(h.count for h in filled), sum(h.sum for h in filled),
                     min(h.min for h in filled), max(h.max for h in filled),
                     sorted(buckets.items()))


def serialize(h):
    """The Histogram::Serialize() text of `h` (parse(serialize(h)) gives `h` back)."""
    head = f"{MAGIC} {VERSION} {SUB_BUCKET_BITS} {NUM_BUCKETS} {h.count} {h.sum} {h.min} {h.max}"
    return head + "".join(f" {i}:{n}" for i, n in h.buckets)


def parse(text):
    """Returns the Histogram of a Serialize() string; raises ValueError saying what is wrong."""
    if not isinstance(text, str):
        raise ValueError("not a string")
    fields = text.split(" ")
    if len(fields) < 8:
        raise ValueError("truncated header")
    if fields[0] != MAGIC:
        raise ValueError("not a cabench histogram (no 'cbhist' magic word)")

    def integer(s, what):
        if not s.isdigit():
            raise ValueError(f"bad {what} '{s[:20]}'")
        return int(s)

    version = integer(fields[1], "version")
    if version != VERSION:
        raise ValueError(f"unsupported version {version}")
    if integer(fields[2], "sub-bucket bits") != SUB_BUCKET_BITS or \
            integer(fields[3], "bucket count") != NUM_BUCKETS:
        raise ValueError("different bucket layout")
    count = integer(fields[4], "count")
    total = integer(fields[5], "sum")
    minimum = integer(fields[6], "min")
    maximum = integer(fields[7], "max")
    buckets = []
    last = -1
    seen = 0
    for field in fields[8:]:
        index_s, sep, n_s = field.partition(":")
        if not sep:
            raise ValueError(f"bad bucket '{field[:20]}'")
        index = integer(index_s, "bucket index")
        n = integer(n_s, "bucket count")
        if index <= last or index >= NUM_BUCKETS or n == 0:
            raise ValueError(f"bucket '{field[:20]}' out of order or range")
        buckets.append((index, n))
        last = index
        seen += n
    if seen != count:
        raise ValueError(f"bucket counts add up to {seen}, not to count {count}")
    if count and (minimum > maximum or total < minimum * count or total > maximum * count):
        raise ValueError("min, max and sum are inconsistent")
    return Histogram(count, total, minimum, maximum, buckets)


def load_histograms(path):
    """Returns {name: Histogram} of a histograms file (lib/metrics/time_series.h
    HistogramsJson), in file order, keyed by today's names ("overall", the classes and
    the steps of lib/metrics/names.def; old files' "cache_get", ... read as "get", ...);
    raises ToolError (one line) when it is not one."""
    data = load_json(path, "cabench histograms file")
    if not isinstance(data, dict) or not data:
        raise ToolError(f"{path}: not a cabench histograms file (expected an object of "
                        "'cbhist ...' strings)")
    out = {}
    for name, text in names.normalize_keys(data).items():
        try:
            out[name] = parse(text)
        except ValueError as e:
            raise ToolError(f"{path}: histogram '{name}' is garbled: {e}")
    return out

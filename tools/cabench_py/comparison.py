"""Comparing two runs counter by counter: direction-aware thresholds, the Mann-Whitney
test over repetitions, and the per-benchmark table tools/compare prints.

Shared by tools/compare (two result files) and tools/bisect-check (a fresh run
against a commit's recorded run), so a regression means the same in both:

  Threshold            how far a counter may move in its bad direction, relative
                       (N%) or absolute (Npt, Nabs); regressed(a, b), improved(a, b)
  DEFAULT_THRESHOLDS   ops_per_s -10%, hit_rate_pct -2pt, speedup -20%,
                       p99_us +25%, errors any rise
  parse_threshold(t)   'COUNTER=N%' / '=Npt' / '=Nabs' / '=off' [':higher'|':lower']
  check_build(r, ...)  refuses a result file of a non-Release cabench build
  u_test(xs, ys)       two-sided Mann-Whitney U p-value (scipy), None below 2 a side
  compare_run(...)     prints one benchmark's counter table, collects regressions

The direction of a counter comes from lib/metrics/names.def (cabench_py.names).
scipy is imported only when a p-value is computed.
"""
import math
import sys
import warnings

from . import names
from .common import ToolError, fmt_auto

HIGHER, LOWER = names.HIGHER, names.LOWER


def direction_of(counter):
    """HIGHER, LOWER or None (a count that is neither good nor bad, like reads)."""
    return names.direction(counter)


class Threshold:
    """How far a counter may move in its bad direction: `limit` percent (relative) or
    `limit` in the counter's unit (absolute)."""

    def __init__(self, limit, absolute, direction, unit="abs"):
        self.limit = limit
        self.absolute = absolute
        self.direction = direction
        self.unit = unit  # how an absolute limit is shown: pt, us or abs

    def describe(self):
        sign = "-" if self.direction == HIGHER else "+"
        if self.absolute:
            return "any rise" if self.limit == 0 and self.direction == LOWER else \
                f"{sign}{self.limit:g}{self.unit}"
        return f"{sign}{self.limit:g}%"

    def regressed(self, a, b):
        """True when going from a to b is worse than the threshold allows."""
        bad = (a - b) if self.direction == HIGHER else (b - a)  # > 0: worse
        if self.absolute:
            return bad > self.limit
        if bad <= 0:
            return False
        if a == 0:
            return True  # from 0 every worsening is infinitely large
        return bad / abs(a) * 100.0 > self.limit

    def improved(self, a, b):
        flipped = Threshold(self.limit, self.absolute, LOWER if self.direction == HIGHER
                            else HIGHER)
        return flipped.regressed(a, b)


DEFAULT_THRESHOLDS = {
    "ops_per_s": Threshold(10, False, HIGHER),
    "hit_rate_pct": Threshold(2, True, HIGHER, "pt"),
    "speedup": Threshold(20, False, HIGHER),
    "p99_us": Threshold(25, False, LOWER),
    "errors": Threshold(0, True, LOWER),
}


def parse_threshold(text, flag="--threshold"):
    """'C=T' -> (counter, Threshold or None for 'off'); raises ToolError naming `flag`."""
    name, sep, spec = text.partition("=")
    name, spec = names.normalize_key(name.strip()), spec.strip().lower()
    if not sep or not name or not spec:
        raise ToolError(f"{flag} '{text}': expected COUNTER=N%, COUNTER=Nabs or COUNTER=off")
    spec, _, direction = spec.partition(":")
    if direction and direction not in (HIGHER, LOWER):
        raise ToolError(f"{flag} '{text}': direction must be ':higher' or ':lower'")
    direction = direction or direction_of(name)
    if spec == "off":
        return name, None
    if direction is None:
        raise ToolError(f"{flag} '{text}': is higher or lower better for '{name}'? "
                        f"append ':higher' or ':lower'")
    absolute = False
    for suffix, is_abs in (("%", False), ("pt", True), ("abs", True)):
        if spec.endswith(suffix):
            spec, absolute = spec[:-len(suffix)], is_abs
            break
    try:
        limit = abs(float(spec))
    except ValueError:
        limit = float("nan")
    if not math.isfinite(limit):
        raise ToolError(f"{flag} '{text}': '{spec}' is not a number")
    unit = "pt" if name.endswith("_pct") else "us" if name.endswith("_us") else "abs"
    return name, Threshold(limit, absolute, direction, unit)


def check_build(results, allow, prog):
    """Raises ToolError when `results` comes from a non-Release cabench build (unless
    `allow`); warns (stderr, naming `prog`) when its context has no build type."""
    build = results.context.get("cabench_build_type")
    if build is None:
        print(f"{prog}: warning: {results.path} has no cabench_build_type in its context "
              "(not a cabench suite run?)", file=sys.stderr)
    elif build != "Release" and not allow:
        raise ToolError(f"{results.path} comes from a '{build}' cabench build; compare only "
                        "Release builds (or pass --allow-non-release)")


def mean(values):
    return sum(values) / len(values)


def u_test(xs, ys):
    """Two-sided Mann-Whitney U p-value, or None with fewer than 2 samples a side."""
    if len(xs) < 2 or len(ys) < 2:
        return None
    if len(set(xs) | set(ys)) == 1:
        return 1.0  # every sample equal: no evidence of a difference
    from scipy.stats import mannwhitneyu
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(mannwhitneyu(xs, ys, alternative="two-sided").pvalue)


def fmt_signed(x):
    return ("+" if x >= 0 else "-") + fmt_auto(abs(x))


def fmt_rel(a, b):
    if a == b:
        return "0.0%"
    if a == 0:
        return "+inf%" if b > a else "-inf%"
    return f"{(b - a) / abs(a) * 100.0:+.1f}%"


def print_table(rows, left=None):
    """Prints rows (lists of strings; the first is the header) as an aligned table: the
    columns whose index is in `left` left-aligned (default: the first and the last),
    the others right-aligned."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    left = {0, len(widths) - 1} if left is None else set(left)
    for n, r in enumerate(rows):
        cells = [c.ljust(w) if i in left else c.rjust(w)
                 for i, (c, w) in enumerate(zip(r, widths))]
        print("  " + "  ".join(cells).rstrip())
        if n == 0:
            print("  " + "  ".join("-" * w for w in widths))


def with_interval(run, counter, value):
    """`value` formatted, followed by its 95% interval " [lo..hi]" when the run has one
    (gbench.Run.interval)."""
    ci = run.interval(counter)
    text = fmt_auto(value)
    return text if ci is None else f"{text} [{fmt_auto(ci[0])}..{fmt_auto(ci[1])}]"


def compare_run(name, ra, rb, counters, thresholds, regressions, labels=("A", "B")):
    """Prints one benchmark's counter table (gbench Runs ra = old, rb = new); appends the
    regressions found (strings) to `regressions`. `labels` name the two sides."""
    la, lb = labels
    reps = f"{ra.repetitions} vs {rb.repetitions} repetitions"
    print(f"\n== {name}  ({reps})")
    if ra.errors or rb.errors:
        for label, r in ((la, ra), (lb, rb)):
            if r.errors:
                print(f"  {label} failed: {r.errors[0]}")
        if rb.errors and not ra.errors:
            regressions.append(f"{name}: the run failed in {lb}: {rb.errors[0]}")
    with_p = ra.repetitions >= 2 and rb.repetitions >= 2
    header = ["counter", la, lb, "diff", "change"] + (["p-value"] if with_p else []) + \
        ["threshold", "verdict"]
    rows = [header]
    for counter in counters:
        xa, xb = ra.samples(counter), rb.samples(counter)
        if not xa and not xb:
            continue
        th = thresholds.get(counter)
        if not xa or not xb:
            rows.append([counter, fmt_auto(mean(xa)) if xa else "-",
                         fmt_auto(mean(xb)) if xb else "-", "", ""] + ([""] if with_p else []) +
                        [th.describe() if th else "", "missing in " + (la if not xa else lb)])
            continue
        a, b = mean(xa), mean(xb)
        verdict = ""
        if th is not None:
            if th.regressed(a, b):
                verdict = "REGRESSED"
                regressions.append(f"{name}: {counter} {fmt_auto(a)} -> {fmt_auto(b)} "
                                   f"({fmt_rel(a, b)}, diff {fmt_signed(b - a)}; "
                                   f"threshold {th.describe()})")
            elif th.improved(a, b):
                verdict = "improved"
            else:
                verdict = "ok"
        row = [counter, with_interval(ra, counter, a), with_interval(rb, counter, b),
               fmt_signed(b - a), fmt_rel(a, b)]
        if with_p:
            p = u_test(xa, xb)
            row.append("-" if p is None else f"{p:.4f}")
        row += [th.describe() if th else "", verdict]
        rows.append(row)
    if len(rows) > 1:
        print_table(rows)
    if with_p and min(ra.repetitions, rb.repetitions) < 5:
        print("  (p-values from fewer than 5 repetitions a side are weak evidence; "
              "use --benchmark_repetitions=9 or more)")

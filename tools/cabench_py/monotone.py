"""Pass or fail at a stated confidence, and a pass probability that falls with the rate.

Pure functions (no I/O, no randomness) for tools/capacity; cabench_py.capacity's usage
text states the rules to the user.

Sequential(confidence, max_runs)
    Each run of a rate is a Bernoulli trial (pass or fail) with an unknown pass
    probability p. After n runs with k passes, the rate PASSES when the exact binomial
    tail P(X >= k | n, p = 1/2) <= level, FAILS when P(X <= k | n, p = 1/2) <= level, and
    is otherwise run again, up to max_runs runs (then it is UNDECIDED: its majority
    steers the search, a tie failing). `level` is the largest per-look level at which
    the whole sequence of looks -- one after every run -- declares a rate with p = 1/2
    passing with probability at most 1 - confidence (computed exactly over all paths;
    by symmetry failing too, and less for p further on the other side): checking after
    every run does not add to the error the user asked for.

fit(points, confidence)
    points: [(rate, passes, runs)]. The isotonic (pool-adjacent-violators) fit of the
    pass fraction, non-increasing in the rate and weighted by runs, and per rate the
    exact one-sided (Clopper-Pearson) bounds at `confidence`:
      lower  from the runs at this rate and the higher rates of its fitted block: each
             of those has a pass probability <= this rate's (p falls with the rate),
             so their pooled count is a valid lower bound of this rate's p;
      upper  from the runs at this rate and the lower rates of its block, likewise.
    The capacity is the highest rate whose fitted p >= 1/2. Its interval [lo, hi):
    hi is the lowest rate whose upper bound is < 1/2 (it fails with confidence), lo
    the highest rate below hi whose lower bound is > 1/2 (it passes with
    confidence; a bound of exactly 1/2 excludes nothing); lo <= capacity < hi always
    holds (a block's suffix means are <= its mean, its prefix means >= it). Each end
    holds at `confidence`, so both together at >= 2 x confidence - 1. Either end is None when no rate is bounded that way (one
    run per rate never is, at any confidence >= 1/2), with the reason.

Why exact bounds and not a bootstrap over runs: with a few runs per rate, most rates'
runs agree (all pass or all fail), and resampling runs that agree never changes
them, so a bootstrap would report a zero-width interval -- a certainty the data do
not have -- and it would report one even from a single run per rate.
"""
import math

HALF = 0.5


def tail_ge(k, n):
    """P(X >= k) for X ~ Binomial(n, 1/2); 1 for k <= 0, 0 for k > n."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    return sum(math.comb(n, i) for i in range(k, n + 1)) / 2.0 ** n


class Sequential:
    """The sequential pass/fail rule of one rate (see the module's text)."""

    def __init__(self, confidence, max_runs):
        if not 0 < confidence < 1:
            raise ValueError("confidence must be in (0, 1)")
        if max_runs < 1:
            raise ValueError("max_runs must be >= 1")
        self.confidence, self.max_runs = confidence, max_runs
        alpha = 1.0 - confidence
        candidates = sorted({tail_ge(k, n) for n in range(1, max_runs + 1)
                             for k in range(n + 1)} | {alpha}, reverse=True)
        self.level = 0.0
        for level in candidates:
            if level <= alpha and self.error(level) <= alpha + 1e-12:
                self.level = level
                break
        # need[n]: the fewest passes (or fails) of n runs that decide; n + 1: none do.
        self.need = [0] + [next((k for k in range(n + 1) if tail_ge(k, n) <= self.level),
                                n + 1) for n in range(1, max_runs + 1)]

    def error(self, level):
        """P(the looks at `level` ever declare a rate with p = 1/2 passing)."""
        need = [next((k for k in range(n + 1) if tail_ge(k, n) <= level), n + 1)
                for n in range(self.max_runs + 1)]
        alive = {0: 1.0}   # passes -> probability of a path not stopped yet
        declared = 0.0
        for n in range(1, self.max_runs + 1):
            nxt = {}
            for k, pr in alive.items():
                for dk in (0, 1):
                    nxt[k + dk] = nxt.get(k + dk, 0.0) + pr / 2
            alive = {}
            for k, pr in nxt.items():
                if k >= need[n]:
                    declared += pr
                elif n - k < need[n]:
                    alive[k] = pr
        return declared

    def decide(self, passes, runs):
        """True (passes at the confidence), False (fails), None (not yet decided)."""
        if runs < 1 or runs > len(self.need) - 1:
            return None
        if passes >= self.need[runs]:
            return True
        if runs - passes >= self.need[runs]:
            return False
        return None

    def min_runs(self):
        """The fewest runs that can decide a rate (all of them agreeing), or None."""
        return next((n for n in range(1, self.max_runs + 1) if self.need[n] <= n), None)


def agreeing_runs(confidence):
    """The fewest runs, all agreeing, whose exact bound excludes 1/2 at `confidence`:
    the least n with 2^-n < 1 - confidence."""
    return math.floor(math.log2(1.0 / (1.0 - confidence)) + 1e-12) + 1


def pava(points):
    """The non-increasing least-squares fit of passes/runs over `points` [(rate, passes,
    runs)] sorted by rate, weighted by runs: [(first index, last index, passes, runs)]
    of its blocks, in order. Only strict violations pool (equal neighbours stay apart)."""
    blocks = []
    for i, (_, k, n) in enumerate(points):
        blocks.append([i, i, k, n])
        while len(blocks) > 1 and blocks[-2][2] * blocks[-1][3] < blocks[-1][2] * blocks[-2][3]:
            first, last, k2, n2 = blocks.pop()
            blocks[-1][1] = last
            blocks[-1][2] += k2
            blocks[-1][3] += n2
    return [tuple(b) for b in blocks]


def cp_lower(k, n, confidence):
    """One-sided exact lower bound of a binomial p from k of n."""
    if k <= 0:
        return 0.0
    from scipy import stats
    return float(stats.beta.ppf(1.0 - confidence, k, n - k + 1))


def cp_upper(k, n, confidence):
    """One-sided exact upper bound of a binomial p from k of n."""
    if k >= n:
        return 1.0
    from scipy import stats
    return float(stats.beta.ppf(confidence, k + 1, n - k))


def fit(points, confidence):
    """The monotone fit and the capacity with its interval (see the module's text).

    Returns {"points": [{"rate_per_s", "passes", "runs", "p_fit", "p_lo", "p_hi"}],
    "capacity": rate or None, "lo": rate or None, "hi": rate or None,
    "lo_reason": str or None, "hi_reason": str or None}; points sorted by rate,
    each with runs >= 1."""
    points = sorted(points)
    out = {"points": [], "capacity": None, "lo": None, "hi": None,
           "lo_reason": None, "hi_reason": None}
    if not points:
        out["lo_reason"] = out["hi_reason"] = "no runs"
        return out
    for first, last, k, n in pava(points):
        for i in range(first, last + 1):
            up_k = sum(p[1] for p in points[i:last + 1])
            up_n = sum(p[2] for p in points[i:last + 1])
            down_k = sum(p[1] for p in points[first:i + 1])
            down_n = sum(p[2] for p in points[first:i + 1])
            rate, passes, runs = points[i]
            out["points"].append({"rate_per_s": rate, "passes": passes, "runs": runs,
                                  "p_fit": k / n,
                                  "p_lo": cp_lower(up_k, up_n, confidence),
                                  "p_hi": cp_upper(down_k, down_n, confidence)})
    pts = out["points"]
    passing = [p["rate_per_s"] for p in pts if p["p_fit"] >= HALF]
    out["capacity"] = max(passing) if passing else None
    failing = [p["rate_per_s"] for p in pts if p["p_hi"] < HALF]
    out["hi"] = min(failing) if failing else None
    sure = [p["rate_per_s"] for p in pts if p["p_lo"] > HALF
            and (out["hi"] is None or p["rate_per_s"] < out["hi"])]
    out["lo"] = max(sure) if sure else None
    agree = agreeing_runs(confidence)
    why = f"at {confidence * 100:g}% confidence (that takes {agree} agreeing runs)"
    if out["hi"] is None:
        out["hi_reason"] = (f"no rate fails {why}" if any(p["p_fit"] < HALF for p in pts)
                            else "no rate failed")
    if out["lo"] is None:
        out["lo_reason"] = f"no rate passes {why}" if passing else "no rate passed"
    return out

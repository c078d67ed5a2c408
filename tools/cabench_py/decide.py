"""Good, bad or cannot tell: the verdict on one counter from paired samples of a
reference (the good commit) and a candidate measured interleaved.

decide(ref, cand, threshold, alpha) -> Decision. A pure function: no I/O, no
randomness. tools/bisect-check uses it; the rule, for a counter whose
Threshold (cabench_py.comparison) allows it to move `limit` in its bad
direction:

  worsening  each pair i gives w_i, how much worse the candidate was in that
             pair: the log ratio log(ref_i / cand_i) for a higher-is-better
             counter with a relative threshold (log(cand_i / ref_i) for
             lower-is-better), cand_i - ref_i / ref_i - cand_i with an absolute
             one. The limit L is on the same scale (a 10% drop of a
             higher-is-better counter: L = -log(0.9)).
             A relative threshold on samples that are not all positive uses
             (bad-direction difference) / |median of ref| instead of logs.
  estimate   the Hodges-Lehmann estimate W: the median of the n(n+1)/2 Walsh
             averages (w_i + w_j) / 2, i <= j.
  test       the one-sided Wilcoxon signed-rank test of "the candidate is
             worse" (centre of w > 0), exact null distribution: p = P(W+ >=
             observed), W+ counted as the number of positive Walsh averages
             plus half the zero ones (equal to the signed-rank sum without
             ties).
  bound      the distribution-free one-sided (1 - alpha) confidence bounds
             of the centre of w from the Walsh averages' order statistics
             (the inversion of the same test); none exists while 2^-n > alpha.

  BAD        lower bound > L: with confidence 1 - alpha the counter moved
             past its threshold in its bad direction. This implies W > L and
             p <= alpha (the counter moved past its threshold, and the move is
             significant), which the rule also checks.
  GOOD       upper bound <= L: with confidence 1 - alpha the counter moved
             less than its threshold in its bad direction (an improvement, no
             change, or a small worsening all count).
  UNDECIDED  the interval straddles L: one line says why and about how many
             pairs would narrow the interval enough.

Why the bound and not only "W > L and p <= alpha" for BAD: that weaker rule
calls a commit that is slower by just under the threshold -- a good commit by
the threshold's own definition -- bad up to half the time. With the bound the
rule is symmetric: whatever the true change, the chance of the wrong verdict
is at most alpha (BAD when the change is within L, GOOD when it is past L),
and under "no change" BAD needs the estimate at about L plus the interval's
half-width.

Why a paired signed-rank test: interleaved runs share the machine's load
pair by pair, so the pairs' differences carry less noise than the two samples
apart (a Mann-Whitney test between the samples would throw the pairing away).
And when the two commits perform alike the two runs of a pair are
exchangeable (the order alternates from pair to pair), so w_i is symmetric
about 0 -- the signed-rank test's only assumption; no normality is needed, and
one stalled run moves a rank, not the mean.

"""
import math
from dataclasses import dataclass

import numpy as np

from . import names

BAD, GOOD, UNDECIDED = "bad", "good", "undecided"
DEFAULT_ALPHA = 0.05
EXACT_MAX_PAIRS = 300  # above: the normal approximation of the signed-rank statistic
MAX_SUGGESTED = 1000


@dataclass
class Decision:
    """The verdict and the figures behind it. `change`, `low`, `high` are on the
    counter's scale: a relative change (0.05 = +5%) for a relative threshold, a
    difference in the counter's unit for an absolute one; low/high is the
    (1 - 2 alpha) interval made of the two one-sided bounds (None: no bound with so
    few pairs). `p` is the one-sided p-value of "the candidate is worse"."""
    verdict: str
    pairs: int
    change: float = None
    low: float = None
    high: float = None
    p: float = None
    reason: str = ""
    suggested_pairs: int = None


def signed_rank_cdf(n):
    """P(W+ <= s) for s = 0 .. n(n+1)/2 under the null (ranks 1..n, random signs):
    a numpy array. Exact for n <= EXACT_MAX_PAIRS, else the normal approximation."""
    top = n * (n + 1) // 2
    if n > EXACT_MAX_PAIRS:
        mu, sd = top / 2.0, math.sqrt(n * (n + 1) * (2 * n + 1) / 24.0)
        s = np.arange(top + 1)
        return np.array([0.5 * math.erfc(-(x + 0.5 - mu) / (sd * math.sqrt(2))) for x in s])
    dist = np.zeros(top + 1)
    dist[0] = 1.0
    for k in range(1, n + 1):
        shifted = np.zeros_like(dist)
        shifted[k:] = dist[:-k]
        dist = (dist + shifted) / 2.0
    return np.cumsum(dist)


def bound_index(cdf, alpha):
    """k (1-based) such that the k-th smallest Walsh average is the one-sided (1 - alpha)
    lower bound: the largest k with P(W+ <= k - 1) <= alpha; 0 when none exists."""
    ok = np.nonzero(cdf <= alpha + 1e-12)[0]
    return int(ok[-1]) + 1 if len(ok) else 0


def min_pairs(alpha):
    """The fewest pairs with which the signed-rank test can reach `alpha` (2^-n <= alpha)."""
    return max(1, math.ceil(math.log2(1.0 / alpha) - 1e-12))


def worsening(ref, cand, threshold):
    """(w list, limit L, to_change) on the scale of the rule; to_change maps a worsening
    w back to the counter's change (relative or absolute). Raises ValueError when the
    samples cannot be put on a relative scale (reference median 0)."""
    higher = threshold.direction == names.HIGHER
    if threshold.absolute:
        w = [(a - b) if higher else (b - a) for a, b in zip(ref, cand)]
        return w, threshold.limit, (lambda x: -x if higher else x)
    t = threshold.limit / 100.0
    if all(a > 0 for a in ref) and all(b > 0 for b in cand):
        w = [math.log(a / b) if higher else math.log(b / a) for a, b in zip(ref, cand)]
        limit = (-math.log(1.0 - t) if t < 1 else math.inf) if higher else math.log(1.0 + t)
        return w, limit, (lambda x: math.exp(-x) - 1.0 if higher else math.exp(x) - 1.0)
    scale = abs(float(np.median(ref)))
    if scale == 0:
        raise ValueError("the reference's median is 0: a relative threshold has no scale")
    w = [((a - b) if higher else (b - a)) / scale for a, b in zip(ref, cand)]
    return w, t, (lambda x: -x if higher else x)


def decide(ref, cand, threshold, alpha=DEFAULT_ALPHA):
    """The Decision for paired samples ref[i], cand[i] (same length, pair i measured
    together) of one counter under `threshold` (a comparison.Threshold). Pure; raises
    ValueError for samples of different lengths or alpha outside (0, 0.5)."""
    if len(ref) != len(cand):
        raise ValueError(f"{len(ref)} reference samples, {len(cand)} candidate samples")
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must lie in (0, 0.5), not {alpha}")
    n = len(ref)
    if n == 0:
        return Decision(UNDECIDED, 0, reason="no pair of samples")
    try:
        w, limit, to_change = worsening(ref, cand, threshold)
    except ValueError as e:
        return Decision(UNDECIDED, n, reason=str(e))
    walsh = np.sort(np.array([(w[i] + w[j]) / 2.0 for i in range(n) for j in range(i, n)]))
    estimate = float(np.median(walsh))
    cdf = signed_rank_cdf(n)
    observed = float(np.sum(walsh > 0) + 0.5 * np.sum(walsh == 0))
    # P(W+ >= observed) = P(W+ <= top - observed) by symmetry; W+ is an integer or a half.
    below = math.floor(len(walsh) - observed + 1e-9)
    p = float(min(1.0, cdf[below])) if below >= 0 else 0.0
    k = bound_index(cdf, alpha)
    lower = float(walsh[k - 1]) if k else -math.inf
    upper = float(walsh[len(walsh) - k]) if k else math.inf

    # The interval on the counter's scale: to_change reverses the order for a
    # higher-is-better counter (more worsening = a lower value).
    ends = [to_change(x) if math.isfinite(x) else None for x in (lower, upper)]
    finite = [e for e in ends if e is not None]
    low, high = (min(finite), max(finite)) if len(finite) == 2 else (None, None)
    d = Decision(UNDECIDED, n, change=to_change(estimate), low=low, high=high, p=p)
    if lower > limit and estimate > limit and p <= alpha:
        d.verdict, d.reason = BAD, "confidently past the threshold"
        return d
    if upper <= limit:
        d.verdict, d.reason = GOOD, "confidently within the threshold"
        return d
    need = min_pairs(alpha)
    if n < need:
        d.reason = f"{n} pairs cannot reach alpha {alpha:g}: at least {need} are needed"
        d.suggested_pairs = need
        return d
    if estimate > limit:
        d.reason = "moved past the threshold, but the interval reaches back inside it"
        half, room = estimate - lower, estimate - limit
    else:
        d.reason = "the interval reaches past the threshold"
        half, room = upper - estimate, limit - estimate
    if room > 0 and math.isfinite(half):
        # The interval's half-width shrinks as 1/sqrt(pairs).
        d.suggested_pairs = min(MAX_SUGGESTED, max(n + 1, math.ceil(n * (half / room) ** 2)))
    return d

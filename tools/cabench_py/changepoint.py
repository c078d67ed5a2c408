"""Change points in a sequence of runs: lasting shifts of a counter's level.

detect(values, direction, min_change) splits a sequence (one value per run, in
commit order) into segments of one level each, by binary segmentation with a
rank statistic, as E-divisive (Matteson and James 2014; MongoDB's change-point
detection) does with energy distances:

  1. In a segment of n >= 2 * min_size runs, every stretch of its first m runs
     (m >= 2 * min_size) and every split k in it (min_size runs at least on
     each side) is scored by the standardized Mann-Whitney statistic of the
     runs before k against the runs from k to m,
       z(k, m) = |U - k(m-k)/2| / sqrt(k(m-k)(m+1)/12),
     U from the ranks within the stretch (ties: average ranks). The (k, m)
     with the largest z is the candidate: Pettitt's test when m = n, and, as
     E-divisive's (tau, kappa) search, a shift later undone (a dip from k to
     m) is found too, which one split of the whole segment would blur.
  2. Its p-value is a permutation test of that maximum: the segment's ranks
     are shuffled `permutations` times (seeded: the same history gives the
     same answer) and p = (1 + #{max z of a shuffle >= max z}) / (1 +
     permutations). Taking the maximum over all splits is part of the test,
     so p is not inflated by having looked at every split.
  3. The candidate is a change point at k when p <= alpha AND the levels
     (medians) of the runs before k and of those from k to m differ by at
     least min_change (relative or absolute: a
     comparison.Threshold). Then both sides are searched again.
One noisy run is not a change point: a split needs min_size runs on each
side, and ranks bound the weight of an outlier. A shift in the newest
min_size - 1 runs is not reported yet: it must last.

A change point's kind comes from the counter's direction (names.def's
`better`, as tools/compare): "regression" when the level moved the bad way,
"improvement" the good way, "change" for a counter with no direction.

Needs numpy and scipy (Debian python3-scipy).
"""
import collections
import math

from .comparison import HIGHER, LOWER

ALPHA = 0.01
MIN_SIZE = 3
PERMUTATIONS = 999
SEED = 15

REGRESSION, IMPROVEMENT, CHANGE = "regression", "improvement", "change"

ChangePoint = collections.namedtuple(
    "ChangePoint", "index before after change p kind")
# index: the first run after the shift (0-based into the values); before/after: the
# levels (medians) of the segments on either side; change: (after - before) / |before|
# for a relative min_change, after - before for an absolute one; p: the permutation
# p-value; kind: regression, improvement or change.


def median(values):
    s = sorted(values)
    n = len(s)
    if n == 0:
        raise ValueError("median of nothing")
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2.0


def relative_change(before, after, absolute):
    """after - before (absolute) or (after - before) / |before| (relative; inf from 0)."""
    if absolute:
        return after - before
    if before == 0:
        return 0.0 if after == 0 else math.copysign(math.inf, after)
    return (after - before) / abs(before)


def kind_of(change, direction):
    if change == 0 or direction not in (HIGHER, LOWER):
        return CHANGE
    worse = change < 0 if direction == HIGHER else change > 0
    return REGRESSION if worse else IMPROVEMENT


def _scan(rows, min_size, chunk=64):
    """(max z, split k, end m) of each row of `rows` (a 2-D numpy array of values; row =
    one ordering of a segment) over every stretch rows[:, :m] (m >= 2 * min_size) and
    split k in it, as E-divisive searches (tau, kappa): the runs before k against those
    from k to m.

    U(k, m) counts the pairs (i < k <= j < m) with x_i > x_j (ties count 1/2), which is
    the Mann-Whitney U of ranks taken within the stretch; with P the 2-D prefix sums of
    the pair matrix, U(k, m) = P[k, m] - P[k, k], so every (k, m) costs O(1)."""
    import numpy as np
    count, n = rows.shape
    k = np.arange(n + 1)[:, None]
    m = np.arange(n + 1)[None, :]
    valid = (k >= min_size) & (m - k >= min_size)
    kk, mm = np.broadcast_arrays(k, m)
    kk, mm = kk[valid].astype(float), mm[valid].astype(float)
    mean = kk * (mm - kk) / 2.0
    sd = np.sqrt(kk * (mm - kk) * (mm + 1.0) / 12.0)
    diag = np.arange(n + 1)
    ties = len(np.unique(rows[0])) < n  # every row holds the same values
    best_z = np.empty(count)
    best = np.empty(count, dtype=int)
    for lo in range(0, count, chunk):
        x = rows[lo:lo + chunk]
        pairs = (x[:, :, None] > x[:, None, :]).astype(np.float32)
        if ties:
            pairs += 0.5 * (x[:, :, None] == x[:, None, :])
        prefix = np.zeros((x.shape[0], n + 1, n + 1), dtype=np.float32)
        prefix[:, 1:, 1:] = pairs.cumsum(axis=1).cumsum(axis=2)
        u = prefix - prefix[:, diag, diag][:, :, None]  # U[k, m] = P[k, m] - P[k, k]
        z = np.abs(u[:, valid] - mean) / sd
        best[lo:lo + chunk] = np.argmax(z, axis=1)
        best_z[lo:lo + chunk] = z[np.arange(z.shape[0]), best[lo:lo + chunk]]
    return best_z, kk[best].astype(int), mm[best].astype(int)


def best_split(values, min_size=MIN_SIZE, permutations=PERMUTATIONS, seed=SEED,
               alpha=None, chunk=64):
    """(split k, end m, permutation p-value) of the strongest shift in `values`: the
    runs before k differ most from those from k to m. None when the sequence is too
    short (fewer than 2 * min_size values) or constant. With `alpha`, the shuffles stop
    as soon as p > alpha is certain, and p is then a lower bound above alpha (most
    stretches hold no shift, so most tests end after a few dozen shuffles)."""
    import numpy as np
    n = len(values)
    if n < 2 * min_size or len(set(values)) == 1:
        return None
    row = np.asarray(values, dtype=float).reshape(1, n)
    z, k, m = _scan(row, min_size)
    rng = np.random.default_rng(seed)
    shuffled = rng.permuted(np.repeat(row, permutations, axis=0), axis=1)
    stop = math.inf if alpha is None else alpha * (1.0 + permutations)
    exceed = 0
    for lo in range(0, permutations, chunk):
        zp, _, _ = _scan(shuffled[lo:lo + chunk], min_size, chunk)
        exceed += int(np.sum(zp >= z[0] - 1e-9))
        if 1.0 + exceed > stop:
            break
    return int(k[0]), int(m[0]), (1.0 + exceed) / (1.0 + permutations)


def detect(values, direction, min_change, alpha=ALPHA, min_size=MIN_SIZE,
           permutations=PERMUTATIONS, seed=SEED):
    """Change points of `values` (floats, one per run, oldest first), as ChangePoints
    sorted by index. `min_change` is a comparison.Threshold (limit, absolute) or None
    (any size); `direction` HIGHER, LOWER or None."""
    limit = 0.0 if min_change is None else min_change.limit
    absolute = bool(min_change is not None and min_change.absolute)
    found = []  # (index, p)

    def search(lo, hi):
        seg = values[lo:hi]
        split = best_split(seg, min_size, permutations, seed, alpha)
        if split is None:
            return
        k, m, p = split
        change = relative_change(median(seg[:k]), median(seg[k:m]), absolute)
        size = abs(change) if absolute else abs(change) * 100.0
        if p > alpha or size < limit:
            return
        found.append((lo + k, p))
        search(lo, lo + k)
        search(lo + k, hi)

    search(0, len(values))
    found.sort()
    # Report each shift between the levels of its neighbouring segments.
    bounds = [0] + [i for i, _ in found] + [len(values)]
    out = []
    for j, (index, p) in enumerate(found):
        before = median(values[bounds[j]:bounds[j + 1]])
        after = median(values[bounds[j + 1]:bounds[j + 2]])
        change = relative_change(before, after, absolute)
        out.append(ChangePoint(index, before, after, change, p, kind_of(change, direction)))
    return out


def levels(values, points):
    """The level (median of its segment) at each position of `values`."""
    bounds = [0] + [c.index for c in points] + [len(values)]
    out = []
    for lo, hi in zip(bounds, bounds[1:]):
        out += [median(values[lo:hi])] * (hi - lo)
    return out


def standing_regressions(values, points, min_change):
    """The regression change points the newest run still sits after: those whose level
    before the shift is better than the newest segment's level by at least min_change.
    A regression later undone (an improvement back to within min_change) is not one."""
    if not points or not values:
        return []
    newest = levels(values, points)[-1]
    limit = 0.0 if min_change is None else min_change.limit
    absolute = bool(min_change is not None and min_change.absolute)
    out = []
    for c in points:
        if c.kind != REGRESSION:
            continue
        change = relative_change(c.before, newest, absolute)
        size = abs(change) if absolute else abs(change) * 100.0
        if kind_of(change, _direction_of_kind(c)) == REGRESSION and size >= limit:
            out.append(c)
    return out


def _direction_of_kind(c):
    """The counter direction a regression change point implies."""
    return LOWER if c.change > 0 else HIGHER


# ---------------------------------------------------------------- the end of the history
#
# A change point needs MIN_SIZE runs after the shift and a permutation p-value taken
# over every stretch of the history, so a shift in the newest runs is reported late.
# end_shift() asks the one question the gate needs at once: are the newest k runs
# (k = 1, 2, 3) worse than the runs before them?
#
#   reference: the REF_WINDOW runs before the newest k (fewer if a change point
#     lies among them: only the runs after it; at least MIN_REF);
#   scale: log values for a relative min_change (a ratio is what the noise
#     multiplies), the values themselves for an absolute one;
#   level c and spread s: the mean and standard deviation of the reference runs
#     within TRIM x 1.4826 MAD of its median (the history's own spread; a run far
#     out -- a badly loaded machine, a broken run -- neither moves the level nor
#     inflates the spread; a tighter cut would trim ordinary runs and make the
#     spread too small);
#   each newest run's deviation z the counter's bad way, in units of s;
#   k = 1: the newest run alone; k = 2: both newest runs must be worse (the least
#     bad one counts); k = 3: two of the three (the median counts), so one loaded
#     run neither makes nor hides a shift;
#   p_k = P(at least that many of k new runs lie z spreads out) if every run were
#     independent and normal like the reference, the level's and the spread's
#     estimation error included (tail_p; for k = 1 Student's t);
#   one newest run alone (k = 1) must also lie K1_MIN_Z robust spreads out: a loaded
#     machine makes one run 35-45% slower (results/history/noise_model.json), so only
#     a drop well beyond that is believed from one run;
#   the best k is the one with the smallest p; trying three k is paid for by
#     Bonferroni: p = min(1, 3 p_k).
# It is an end shift when p <= end_alpha, the level of the newest k (their median)
# moved the bad way from c by at least min_change. The p-value assumes independent
# normal runs; the machine's are neither (loaded spells, correlation from run to
# run), so END_ALPHA is small and was chosen by simulating the fitted noise model
# (tools/gate-rates, results/history/gate_rates.json): one history of 20 benchmarks
# x 3 counters should raise a false alarm in at most 5% of flat histories.

END_ALPHA = 0.00003
END_KS = (1, 2, 3)
REF_WINDOW = 20
MIN_REF = 5
K1_MIN_Z = 8.0
GATE_ALPHA = 0.0002  # a standing regression gates only this sure ...
GATE_PERMUTATIONS = 9999  # ... by a test of its own segment with this many shuffles
MIN_RUNS = MIN_REF + max(END_KS)  # the fewest runs the gate works on

EndShift = collections.namedtuple("EndShift", "k before after change p z kind")
# k: how many newest runs; before: the reference level (median), after: the newest k's
# median; change as ChangePoint's; p: the Bonferroni-corrected p-value; z: the
# deviation (robust spreads) of the run that counts; kind: regression (only those are
# returned by end_shift).


def _tail_count(k):
    """How many of the newest k runs must lie beyond the deviation (see above)."""
    return k if k <= 2 else k - (k - 1) // 2


TRIM = 3.5  # reference runs beyond TRIM x 1.4826 MAD of its median are left out of s


def tail_p(z, k, m, df, nodes=48, draws=256):
    """P(at least _tail_count(k) of k new runs lie z estimated spreads or more beyond an
    estimated level) when every run is N(mu, sigma) independently and the level and
    spread come from a reference of m runs (the level's error N(0, sigma^2 / m), the
    spread sigma * sqrt(chi2_df / df), independent). For k = 1 this is Student's t:
    P(T_df >= z / sqrt(1 + 1/m)). A deterministic quadrature: Gauss-Hermite over the
    level's error, `draws` quantiles of the spread."""
    import numpy as np
    from scipy import stats
    if k == 1:
        return float(stats.t.sf(z / math.sqrt(1.0 + 1.0 / m), df))
    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    c = x / math.sqrt(m)
    ratio = np.sqrt(stats.chi2.ppf((np.arange(draws) + 0.5) / draws, df) / df)
    q = stats.norm.cdf(c[:, None] - z * ratio[None, :])
    tail = stats.binom.sf(_tail_count(k) - 1, k, q)
    return float(np.sum(w[:, None] * tail) / (np.sum(w) * draws))


def end_shift_p(values, k, direction, absolute=False, ref_start=0, ref_window=REF_WINDOW):
    """(p_k, z, reference) of the newest k of `values` against the reference before them
    (uncorrected for trying several k); None when the reference holds fewer than
    MIN_REF runs. Log scale unless `absolute` (or a value is not positive)."""
    n = len(values)
    lo = max(0, n - k - ref_window)
    if n - k - max(lo, ref_start) >= MIN_REF:
        lo = max(lo, ref_start)
    ref = values[lo:n - k]
    if len(ref) < MIN_REF:
        return None
    if not absolute and min(values[lo:]) <= 0:
        absolute = True
    scale = (lambda v: v) if absolute else math.log
    r = [scale(v) for v in ref]
    mid = median(r)
    mad = 1.4826 * median([abs(v - mid) for v in r])
    keep = [v for v in r if abs(v - mid) <= TRIM * mad] if mad > 0 else r
    if len(keep) < 3:
        keep = r
    c = sum(keep) / len(keep)
    s = math.sqrt(sum((v - c) ** 2 for v in keep) / (len(keep) - 1))
    s = max(s, 1e-9 * max(1.0, abs(c)))  # a constant reference: any move is far out
    sign = 1.0 if direction == HIGHER else -1.0
    devs = sorted((sign * (c - scale(v)) / s for v in values[n - k:]), reverse=True)
    z = devs[_tail_count(k) - 1]
    return tail_p(z, k, len(keep), len(keep) - 1), z, ref


def end_shift(values, direction, min_change, end_alpha=END_ALPHA, ks=END_KS, ref_start=0):
    """The EndShift of `values` (one per run, oldest first) when the newest k runs (k in
    `ks`) are worse than the runs before them by p <= end_alpha and by at least
    min_change (a comparison.Threshold or None), else None. `ref_start`: the reference
    begins no earlier (the last change point), while that leaves MIN_REF runs. Counters
    with no direction have no end shift."""
    if direction not in (HIGHER, LOWER):
        return None
    limit = 0.0 if min_change is None else min_change.limit
    absolute = bool(min_change is not None and min_change.absolute)
    tried = [k for k in ks if len(values) - k >= MIN_REF]
    best = None
    for k in tried:
        got = end_shift_p(values, k, direction, absolute, ref_start)
        if got is None:
            continue
        p, z, ref = got
        p = min(1.0, len(tried) * p)
        before, after = median(ref), median(values[-k:])
        change = relative_change(before, after, absolute)
        size = abs(change) if absolute else abs(change) * 100.0
        if (p > end_alpha or size < limit or kind_of(change, direction) != REGRESSION
                or (k == 1 and z < K1_MIN_Z)):
            continue
        if best is None or p < best.p:
            best = EndShift(k, before, after, change, p, z, REGRESSION)
    return best


def gate_p(values, points, c, permutations=GATE_PERMUTATIONS, seed=SEED, alpha=None):
    """The p-value of change point `c` (one of `points`, detect()'s answer for `values`)
    by the permutation test of best_split() on its own segment -- the runs between the
    change points on either side of it -- with `permutations` shuffles: the report's
    999 shuffles cannot give p below 0.001, and the gate needs surer change points
    (it watches every benchmark and counter at once). 1.0 when the segment's best split
    is elsewhere."""
    bounds = [0] + [q.index for q in points] + [len(values)]
    j = bounds.index(c.index)
    lo, hi = bounds[j - 1], bounds[j + 1]
    split = best_split(values[lo:hi], MIN_SIZE, permutations, seed, alpha)
    if split is None or lo + split[0] != c.index:
        return 1.0
    return split[2]


def gate(values, direction, min_change, alpha=ALPHA, end_alpha=END_ALPHA, cps=None,
         gate_alpha=GATE_ALPHA):
    """(change points, standing regressions, end shift or None) of `values`: the gate
    fails when either of the last two is non-empty. A standing regression counts only
    with gate_p <= gate_alpha. `cps`: detect()'s answer if known."""
    if cps is None:
        cps = detect(values, direction, min_change, alpha=alpha)
    standing = [c for c in standing_regressions(values, cps, min_change)
                if gate_p(values, cps, c, alpha=gate_alpha) <= gate_alpha]
    start = cps[-1].index if cps else 0
    return cps, standing, end_shift(values, direction, min_change, end_alpha,
                                    ref_start=start)

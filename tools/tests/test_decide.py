"""cabench_py.decide: the bad / good / undecided rule of tools/bisect-check on hand-made
paired samples whose verdict is known, its figures (p-value, estimate, bounds) against
values worked out by hand, and its error rates on seeded noise."""
import math
import random
import unittest

import helpers  # noqa: F401  (puts tools/ on sys.path)
from cabench_py import decide as D
from cabench_py.comparison import DEFAULT_THRESHOLDS, Threshold, parse_threshold

OPS = DEFAULT_THRESHOLDS["ops_per_s"]      # higher is better, -10%
P99 = DEFAULT_THRESHOLDS["p99_us"]         # lower is better, +25%
ERRORS = DEFAULT_THRESHOLDS["errors"]      # lower is better, any rise (absolute 0)


def jitter(base, n, spread=0.002):
    """n values around base, spread by +-spread (relative), deterministic."""
    return [base * (1 + spread * ((i * 7) % 5 - 2) / 2) for i in range(n)]


class KnownAnswerTest(unittest.TestCase):
    def test_figures_worked_out_by_hand(self):
        # Worsenings w = log(ref / cand) = 1..5: all 5 pairs worse, so W+ = 15 (its
        # maximum) and p = 2^-5; the Walsh averages' median is 3; with 5 pairs the 95%
        # one-sided bounds are the smallest and largest Walsh averages, 1 and 5.
        d = D.decide([1.0] * 5, [math.exp(-x) for x in (1, 2, 3, 4, 5)], OPS)
        self.assertEqual(d.verdict, D.BAD)
        self.assertAlmostEqual(d.p, 1 / 32)
        self.assertAlmostEqual(d.change, math.exp(-3) - 1)
        self.assertAlmostEqual(d.low, math.exp(-5) - 1)
        self.assertAlmostEqual(d.high, math.exp(-1) - 1)

    def test_signed_rank_distribution(self):
        # n = 3: sums of subsets of {1, 2, 3}: 0,1,2,3,3,4,5,6 -> P(W+ <= s) * 8.
        self.assertEqual([round(x * 8) for x in D.signed_rank_cdf(3)], [1, 2, 3, 5, 6, 7, 8])
        self.assertEqual(D.min_pairs(0.05), 5)
        self.assertEqual(D.min_pairs(0.01), 7)
        self.assertEqual(D.bound_index(D.signed_rank_cdf(5), 0.05), 1)  # 1/32 <= .05 < 2/32
        # The normal approximation beyond the exact range agrees at the centre.
        cdf = D.signed_rank_cdf(D.EXACT_MAX_PAIRS + 1)
        self.assertAlmostEqual(float(cdf[len(cdf) // 2]), 0.5, places=2)

    def test_a_clear_slowdown_is_bad(self):
        d = D.decide(jitter(1000, 10), jitter(700, 10), OPS)
        self.assertEqual(d.verdict, D.BAD)
        self.assertAlmostEqual(d.p, 2 ** -10)
        self.assertAlmostEqual(d.change, -0.30, places=2)
        self.assertLess(d.high, -0.10)

    def test_no_change_with_little_noise_is_good(self):
        d = D.decide(jitter(1000, 10), list(reversed(jitter(1000, 10))), OPS)
        self.assertEqual(d.verdict, D.GOOD)
        self.assertGreater(d.low, -0.10)

    def test_an_improvement_is_good(self):
        self.assertEqual(D.decide(jitter(1000, 8), jitter(1300, 8), OPS).verdict, D.GOOD)

    def test_a_significant_move_inside_the_threshold_is_good_not_bad(self):
        d = D.decide(jitter(1000, 10), jitter(950, 10), OPS)
        self.assertLess(d.p, 0.01)  # surely slower ...
        self.assertEqual(d.verdict, D.GOOD)  # ... but by 5%, inside the 10% allowed

    def test_significant_and_past_the_threshold_but_not_confidently_is_undecided(self):
        # Every pair is worse (p = 2^-10) and the estimate is past -10%, but the
        # interval reaches back inside the threshold: a weaker rule would say bad.
        ref = [1000.0] * 10
        cand = [850, 850, 850, 850, 850, 850, 950, 950, 980, 990]
        d = D.decide(ref, cand, OPS)
        self.assertAlmostEqual(d.p, 2 ** -10)
        self.assertLess(d.change, -0.10)
        self.assertGreater(d.high, -0.10)
        self.assertEqual(d.verdict, D.UNDECIDED)
        self.assertIn("reaches back inside", d.reason)

    def test_past_the_threshold_but_not_significant_is_undecided(self):
        # Medians 20% apart, but two of the six pairs go the other way.
        ref = [1000, 1000, 1000, 1000, 1000, 1000]
        cand = [600, 700, 800, 1100, 750, 1200]
        d = D.decide(ref, cand, OPS)
        self.assertLess(d.change, -0.10)
        self.assertGreater(d.p, 0.05)
        self.assertEqual(d.verdict, D.UNDECIDED)
        self.assertIn("reaches back inside", d.reason)
        self.assertGreater(d.suggested_pairs, 6)

    def test_a_wide_interval_around_no_change_is_undecided(self):
        ref = [1000] * 6
        cand = [800, 1250, 900, 1150, 1000, 950]
        d = D.decide(ref, cand, OPS)
        self.assertEqual(d.verdict, D.UNDECIDED)
        self.assertIn("reaches past the threshold", d.reason)
        self.assertGreater(d.suggested_pairs, 6)

    def test_too_few_pairs_never_decide(self):
        # 4 pairs cannot reach p <= 0.05 (2^-4 > 0.05): even a halving is undecided.
        d = D.decide([1000] * 4, [500] * 4, OPS)
        self.assertEqual(d.verdict, D.UNDECIDED)
        self.assertEqual(d.suggested_pairs, 5)
        self.assertIn("at least 5", d.reason)
        self.assertEqual(D.decide([1000] * 5, [500] * 5, OPS).verdict, D.BAD)
        self.assertEqual(D.decide([1000] * 6, [500] * 6, OPS, alpha=0.01).verdict,
                         D.UNDECIDED)
        self.assertEqual(D.decide([], [], OPS).verdict, D.UNDECIDED)

    def test_lower_is_better(self):
        self.assertEqual(D.decide(jitter(100, 8), jitter(140, 8), P99).verdict, D.BAD)
        self.assertEqual(D.decide(jitter(100, 8), jitter(110, 8), P99).verdict, D.GOOD)
        self.assertEqual(D.decide(jitter(100, 8), jitter(60, 8), P99).verdict, D.GOOD)

    def test_absolute_thresholds(self):
        zeros = [0.0] * 8
        d = D.decide(zeros, zeros, ERRORS)
        self.assertEqual((d.verdict, d.change), (D.GOOD, 0.0))
        self.assertGreater(d.p, 0.5)  # every Walsh average is 0: counted half positive
        self.assertEqual(D.decide(zeros, [3, 1, 2, 4, 1, 2, 5, 1], ERRORS).verdict, D.BAD)
        _, pt = parse_threshold("hit_rate_pct=2pt")
        self.assertEqual(D.decide([90.0] * 8, jitter(87.0, 8), pt).verdict, D.BAD)
        self.assertEqual(D.decide([90.0] * 8, jitter(89.0, 8), pt).verdict, D.GOOD)

    def test_relative_threshold_on_samples_that_are_not_positive(self):
        th = Threshold(10, False, "higher")
        self.assertEqual(D.decide([0.0, 10, 10, 10, 10, 10], [0.0, 5, 5, 5, 5, 5], th).verdict,
                         D.BAD)
        self.assertEqual(D.decide([0.0] * 6, [-1.0] * 6, th).verdict, D.UNDECIDED)

    def test_bad_arguments(self):
        with self.assertRaises(ValueError):
            D.decide([1, 2], [1], OPS)
        with self.assertRaises(ValueError):
            D.decide([1] * 5, [1] * 5, OPS, alpha=0.5)


class ErrorRateTest(unittest.TestCase):
    """Seeded log-normal noise (sigma 0.15 per run, the case where the old mean-only rule
    called a good commit bad about 13% of the time with 5 repetitions)."""
    SEEDS = 300

    def verdicts(self, factor, pairs, sigma=0.15):
        rng = random.Random(20261208)
        out = {D.BAD: 0, D.GOOD: 0, D.UNDECIDED: 0}
        for _ in range(self.SEEDS):
            ref = [1000 * math.exp(rng.gauss(0, sigma)) for _ in range(pairs)]
            cand = [1000 * factor * math.exp(rng.gauss(0, sigma)) for _ in range(pairs)]
            out[D.decide(ref, cand, OPS).verdict] += 1
        return out

    def test_no_change_is_rarely_called_bad(self):
        # BAD needs p <= 0.05 and an estimate past -10%: at most 5% by construction.
        for pairs in (5, 10, 20):
            v = self.verdicts(1.0, pairs)
            self.assertLessEqual(v[D.BAD], 0.05 * self.SEEDS, (pairs, v))
            self.assertGreater(v[D.GOOD], 0, (pairs, v))

    def test_a_real_slowdown_is_found_and_never_called_good(self):
        v = self.verdicts(0.7, 20)
        self.assertGreaterEqual(v[D.BAD], 0.95 * self.SEEDS, v)
        self.assertEqual(v[D.GOOD], 0, v)

    def test_a_slowdown_just_inside_the_threshold_is_rarely_called_bad(self):
        # 8% slower, 10% allowed: a good commit. "Estimate past -10% and p <= 0.05"
        # would call it bad far more often than 5%.
        v = self.verdicts(0.92, 10)
        self.assertLessEqual(v[D.BAD], 0.05 * self.SEEDS, v)

    def test_a_slowdown_of_exactly_the_threshold_is_rarely_called_good(self):
        v = self.verdicts(0.9, 20)
        self.assertLessEqual(v[D.GOOD], 0.05 * self.SEEDS, v)


if __name__ == "__main__":
    unittest.main()

"""Change points (cabench_py/changepoint.py) and tools/history, on synthetic histories made
from the committed baseline (results/baseline/cabench.json) with noise like the reference
machine's (cabench_py/synthetic.py) and a counter shifted at a known commit.

The rate test measures, over many seeds, how often a shift is found at the right run
and how often a flat history reports one; it prints both (python3 -m unittest -v
test_history shows them) and fails when they fall below what tools/history --help
states."""
import json
import math
import os
import re
import sys
import unittest

from helpers import ROOT, TOOLS, ToolTestCase, git_repo, run_tool

sys.path.insert(0, TOOLS)
from cabench_py import changepoint, comparison, synthetic  # noqa: E402

BASELINE = os.path.join(ROOT, "results", "baseline", "cabench.json")
OPS = comparison.DEFAULT_THRESHOLDS["ops_per_s"]
RUNS, SHIFT_AT = 24, 12


def load_baseline():
    with open(BASELINE) as f:
        return json.load(f)


def bench_with_ops(doc):
    """The run name of the first benchmark of `doc` that has ops_per_s."""
    return next(e.get("run_name", e["name"]) for e in doc["benchmarks"] if "ops_per_s" in e)


def detection_rates(shift, seeds, runs=RUNS, at=SHIFT_AT):
    """(exact, within one run): fractions of `seeds` histories of ops_per_s (a
    baseline-like level, the machine's noise, shifted by `shift` from run `at`) where
    detect() finds the shift at run `at`, and within one run of it."""
    exact = near = 0
    for seed in range(seeds):
        values = synthetic.shifted_values(runs, at, shift, base=15000.0, seed=seed)
        found = changepoint.detect(values, comparison.HIGHER, OPS)
        exact += any(c.index == at for c in found)
        near += any(abs(c.index - at) <= 1 for c in found)
    return exact / seeds, near / seeds


def false_alarm_rate(seeds, runs=RUNS):
    """The fraction of `seeds` flat histories (noise only) where detect() finds any
    change point."""
    false = 0
    for seed in range(seeds):
        flat = synthetic.shifted_values(runs, None, 0.0, base=15000.0, seed=100000 + seed)
        false += bool(changepoint.detect(flat, comparison.HIGHER, OPS))
    return false / seeds


class ChangePointTest(unittest.TestCase):
    def test_a_shift_is_found_at_its_run_with_its_size_and_kind(self):
        values = synthetic.shifted_values(RUNS, SHIFT_AT, -0.4, base=15000.0, seed=7,
                                          outlier_rate=0.0)
        found = changepoint.detect(values, comparison.HIGHER, OPS)
        self.assertEqual([c.index for c in found], [SHIFT_AT])
        c = found[0]
        self.assertEqual(c.kind, changepoint.REGRESSION)
        self.assertAlmostEqual(c.change, -0.4, delta=0.12)
        self.assertLessEqual(c.p, changepoint.ALPHA)
        self.assertEqual(changepoint.standing_regressions(values, found, OPS), found)
        # The gate's own test of it (9999 shuffles of its segment) is surer still.
        self.assertLessEqual(changepoint.gate_p(values, found, c), changepoint.GATE_ALPHA)
        self.assertEqual(changepoint.gate(values, comparison.HIGHER, OPS)[1], found)

    def test_direction_decides_the_kind(self):
        values = synthetic.shifted_values(RUNS, SHIFT_AT, 0.6, base=500.0, seed=7)
        self.assertEqual([c.kind for c in changepoint.detect(values, comparison.LOWER, OPS)],
                         [changepoint.REGRESSION])  # a latency that rose
        self.assertEqual([c.kind for c in changepoint.detect(values, comparison.HIGHER, OPS)],
                         [changepoint.IMPROVEMENT])
        self.assertEqual([c.kind for c in changepoint.detect(values, None, OPS)],
                         [changepoint.CHANGE])

    def test_one_noisy_run_is_not_a_change_point(self):
        values = synthetic.shifted_values(RUNS, None, 0.0, base=15000.0, seed=3,
                                          outlier_rate=0.0)
        values[RUNS // 2] *= 0.3  # one run on a loaded machine
        self.assertEqual(changepoint.detect(values, comparison.HIGHER, OPS), [])
        values[-1] *= 0.3  # nor the newest one: a shift must last
        self.assertEqual(changepoint.detect(values, comparison.HIGHER, OPS), [])

    def test_a_shift_below_the_minimum_change_is_not_reported(self):
        values = [1000.0 + (i % 3) for i in range(12)] + [960.0 + (i % 3) for i in range(12)]
        self.assertEqual(changepoint.detect(values, comparison.HIGHER, OPS), [])
        found = changepoint.detect(values, comparison.HIGHER, None)
        self.assertEqual([c.index for c in found], [12])

    def test_an_undone_regression_does_not_stand(self):
        values = [1000.0 + (i % 4) for i in range(8)] + [600.0 + (i % 4) for i in range(8)] + \
            [1000.0 + (i % 4) for i in range(8)]
        found = changepoint.detect(values, comparison.HIGHER, OPS)
        self.assertEqual([(c.index, c.kind) for c in found],
                         [(8, changepoint.REGRESSION), (16, changepoint.IMPROVEMENT)])
        self.assertEqual(changepoint.standing_regressions(values, found, OPS), [])

    def test_the_same_history_gives_the_same_answer(self):
        values = synthetic.shifted_values(RUNS, SHIFT_AT, -0.25, base=15000.0, seed=11)
        self.assertEqual(changepoint.detect(values, comparison.HIGHER, OPS),
                         changepoint.detect(values, comparison.HIGHER, OPS))

    def test_too_short_or_constant_has_no_change_point(self):
        self.assertEqual(changepoint.detect([1.0, 2.0, 3.0, 1.0, 2.0], "higher", OPS), [])
        self.assertEqual(changepoint.detect([5.0] * 20, "higher", OPS), [])

    def test_detection_and_false_alarm_rates(self):
        # The figures tools/history --help states (24 runs, shift after run 12).
        seeds = 200
        exact, near = detection_rates(-0.4, seeds)
        false = false_alarm_rate(2 * seeds)
        print(f"\n  -40% shift: at the right run {exact:.0%}, within one run {near:.0%} "
              f"({seeds} seeds); flat: {false:.1%} with a change point ({2 * seeds} seeds)",
              file=sys.stderr)
        self.assertGreaterEqual(exact, 0.65)
        self.assertGreaterEqual(near, 0.75)
        self.assertLessEqual(false, 0.03)
        exact, near = detection_rates(-0.2, seeds // 2)
        print(f"  -20% shift: at the right run {exact:.0%}, within one run {near:.0%}",
              file=sys.stderr)
        self.assertGreaterEqual(near, 0.15)


def model_history(seed, runs=RUNS, spells=True):
    """A flat ops_per_s history with the fitted, correlated noise model
    (results/history/noise_model.json); without its loaded spells if not `spells`."""
    model = synthetic.NoiseModel.from_file()
    if not spells:
        model.spell_rate = 0.0
    return list(15000.0 * model.factors(runs, synthetic.rng_of(seed))[0])


class EndShiftTest(unittest.TestCase):
    SEEDS = 50

    def end_rate(self, k, drop, seeds=SEEDS, spells=True):
        hits = 0
        for seed in range(seeds):
            values = model_history(500 + seed, spells=spells)
            values[-k:] = [v * (1.0 + drop) for v in values[-k:]]
            _, standing, end = changepoint.gate(values, comparison.HIGHER, OPS)
            hits += bool(standing) or end is not None
        return hits / seeds

    def test_a_drop_in_the_newest_runs_is_caught(self):
        # One run is believed only for a drop far beyond a loaded machine's; then two
        # runs of a 50% drop, three of a 40% drop (the floors are below the rates measured with
        # these seeds: 92%, 56%, 40%; tools/gate-rates measures more seeds).
        rates = {1: self.end_rate(1, -0.85), 2: self.end_rate(2, -0.5),
                 3: self.end_rate(3, -0.4)}
        print(f"\n  end shift caught: newest 1 run -85% {rates[1]:.0%}, newest 2 -50% "
              f"{rates[2]:.0%}, newest 3 -40% {rates[3]:.0%} ({self.SEEDS} seeds)",
              file=sys.stderr)
        self.assertGreaterEqual(rates[1], 0.85)
        self.assertGreaterEqual(rates[2], 0.45)
        self.assertGreaterEqual(rates[3], 0.3)

    def test_one_loaded_newest_run_is_not_an_end_shift(self):
        # A loaded machine keeps 58-66% of a run's throughput (noise_model.json); the
        # history has no other loaded run (two in a row look like a 40% drop).
        self.assertLessEqual(self.end_rate(1, -0.4, spells=False), 0.02)

    def test_an_improvement_at_the_end_is_not_an_end_shift(self):
        self.assertEqual(self.end_rate(3, 0.6, seeds=20), 0.0)

    def test_known_answer_p_of_a_tiny_history(self):
        # Reference 50 52 48 51 49: mean 50, sd sqrt(10/4); the newest run 40 is
        # z = 10 / 1.5811 = 6.3246 spreads low; one new run against 5: Student's t with
        # 4 degrees of freedom at z / sqrt(1 + 1/5), whose tail has a closed form.
        values = [50.0, 52.0, 48.0, 51.0, 49.0, 40.0]
        p, z, ref = changepoint.end_shift_p(values, 1, comparison.HIGHER, absolute=True)
        self.assertAlmostEqual(z, 10.0 / math.sqrt(2.5), places=9)
        t = z / math.sqrt(1.2)
        x = t / math.sqrt(4.0 + t * t)
        self.assertAlmostEqual(p, 0.5 - 0.5 * x * (1.5 - 0.5 * x * x), places=12)
        self.assertAlmostEqual(p, 0.0022342, places=6)
        # z 6.3 < K1_MIN_Z: one run is not believed; at 30 (z 12.6) it is, with its own
        # p (only k = 1 fits in 6 runs: no factor for trying several k).
        hit = comparison.Threshold(2, True, comparison.HIGHER)
        self.assertIsNone(changepoint.end_shift(values, comparison.HIGHER, hit, 0.01))
        found = changepoint.end_shift(values[:-1] + [30.0], comparison.HIGHER, hit, 0.01)
        self.assertEqual((found.k, found.before, found.after, found.change), (1, 50.0, 30.0,
                                                                              -20.0))
        t = 20.0 / math.sqrt(2.5) / math.sqrt(1.2)
        x = t / math.sqrt(4.0 + t * t)
        self.assertAlmostEqual(found.p, 0.5 - 0.5 * x * (1.5 - 0.5 * x * x), places=12)

    def test_tail_p_of_several_runs_matches_a_simulation(self):
        import numpy as np
        rng = np.random.default_rng(0)
        n, m, z = 100000, 12, 2.0
        ref = rng.normal(size=(n, m))
        new = rng.normal(size=(n, 3))
        devs = (ref.mean(1)[:, None] - new) / ref.std(1, ddof=1)[:, None]
        for k, col in ((2, 0), (3, 1)):  # both of 2 (the least); 2 of 3 (the middle)
            simulated = float(np.mean(np.sort(devs[:, :k], axis=1)[:, col] >= z))
            self.assertAlmostEqual(changepoint.tail_p(z, k, m, m - 1), simulated,
                                   delta=4 * math.sqrt(simulated / n) + 1e-4)


class HistoryToolTest(ToolTestCase):
    TOOL = "history"

    def setUp(self):
        super().setUp()
        self.repo = os.path.join(self.tmp, "repo")
        self.shas = git_repo(self.repo, RUNS)
        self.root = os.path.join(self.tmp, "history")
        self.base = load_baseline()
        self.bench = bench_with_ops(self.base)

    def write(self, shift_at=None, shift=0.0, counter="ops_per_s", machine="m1", seed=5,
              shas=None, **kw):
        runs = synthetic.make_history(self.base, shas or self.shas, shift_at, shift, counter,
                                      self.bench, seed=seed, **kw)
        return synthetic.write_history(self.root, machine, runs)

    def history(self, *args, machine="m1"):
        return run_tool("history", "--history", self.root, "--repo", self.repo,
                        "--machine", machine, *args)

    def test_a_regression_is_named_at_its_commit_and_exits_1(self):
        self.write(SHIFT_AT, -0.4, outlier_rate=0.0, repetitions=3)
        proc = self.history("--counter", "ops_per_s", "--png", "--out", self.tmp)
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn(f"first at {self.shas[SHIFT_AT][:12]} (run {SHIFT_AT + 1}", proc.stdout)
        self.assertIn(f"between {self.shas[SHIFT_AT - 1][:7]}..{self.shas[SHIFT_AT][:7]} "
                      "(1 commit", proc.stdout)
        self.assertIn("sits after 1 regression(s)", proc.stdout)
        self.assertIn(f"REGRESSION {self.bench} ops_per_s", proc.stdout)
        self.assertTrue(any(n.endswith(".history.png") for n in os.listdir(self.tmp)))

    def test_a_flat_history_reports_none_and_exits_0(self):
        self.write(repetitions=3)
        proc = self.history("-q")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("none: no lasting shift in any counter", proc.stdout)
        self.assertIn("No regression stands at the newest run", proc.stdout)

    def test_an_improvement_exits_0(self):
        self.write(SHIFT_AT, 0.5, outlier_rate=0.0)
        proc = self.history("-q", "--counter", "ops_per_s")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("improvement", proc.stdout)

    def test_runs_are_ordered_by_commit_not_by_time(self):
        # Recorded newest commit first: the order must still be git's.
        runs = synthetic.make_history(self.base, self.shas, SHIFT_AT, -0.4, "ops_per_s",
                                      self.bench, seed=5, outlier_rate=0.0)
        stamps = [stamp for _, stamp, _ in runs][::-1]
        synthetic.write_history(self.root, "m1", [(sha, stamp, doc) for (sha, _, doc), stamp
                                                  in zip(runs, stamps)])
        proc = self.history("-q", "--counter", "ops_per_s")
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn(f"first at {self.shas[SHIFT_AT][:12]}", proc.stdout)

    def test_dirty_runs_and_runs_off_the_line_are_left_out(self):
        self.write(repetitions=1)
        other = git_repo(os.path.join(self.tmp, "other"), 1, "elsewhere")
        self.write(shas=other, seed=9)
        doc = synthetic.make_history(self.base, [self.shas[-1]], seed=4)[0][2]
        doc["context"]["cabench_git_rev"] += "-dirty"
        with open(os.path.join(self.root, "m1", f"20991231-000000_{self.shas[-1][:12]}.json"),
                  "w") as f:
            json.dump(doc, f)
        proc = self.history("-q")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn(f"{RUNS} runs on the first-parent line", proc.stdout)
        self.assertIn("not on the first-parent line of HEAD (not analysed)", proc.stdout)
        self.assertIn("dirty tree; --include-dirty", proc.stdout)

    def test_a_drop_in_the_newest_runs_exits_1_naming_it(self):
        for k, drop in ((1, -0.9), (2, -0.6), (3, -0.5)):
            self.write(RUNS - k, drop, outlier_rate=0.0, machine=f"k{k}")
            proc = self.history("-q", "--counter", "ops_per_s", machine=f"k{k}")
            self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
            self.assertIn(f"REGRESSION  {self.bench}  ops_per_s", proc.stdout)
            # The k with the smallest p is named: never more runs than the drop has.
            named = re.search(r"in the newest (\d) runs?, since (\w+)", proc.stdout)
            self.assertIsNotNone(named, proc.stdout)
            j = int(named.group(1))
            self.assertLessEqual(j, k)
            self.assertEqual(named.group(2), self.shas[RUNS - j][:12])

    def test_a_loaded_newest_run_and_an_improvement_at_the_end_exit_0(self):
        runs = synthetic.make_history(self.base, self.shas, RUNS - 1, -0.4, "ops_per_s",
                                      None, seed=5, outlier_rate=0.0)  # every benchmark
        synthetic.write_history(self.root, "m1", runs)
        proc = self.history("-q", "--counter", "ops_per_s")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("none: the newest runs are not worse", proc.stdout)
        self.write(RUNS - 3, 0.6, outlier_rate=0.0, machine="m2")
        proc = self.history("-q", "--counter", "ops_per_s", machine="m2")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)

    def test_a_regression_too_weak_to_gate_is_named_and_exits_0(self):
        # 10 runs, 5 before and 5 after a -50% shift: found at p = 0.009 <= --alpha,
        # but 5 against 5 cannot reach the gate's p <= 0.0002 (60 series are watched).
        self.write(5, -0.5, outlier_rate=0.0, shas=self.shas[:10])
        proc = self.history("-q", "--counter", "ops_per_s")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn(f"REGRESSION  {self.bench}  ops_per_s", proc.stdout)
        self.assertIn("stands at the newest run, but its own test", proc.stdout)
        self.assertIn("not gating", proc.stdout)

    def test_too_few_runs_for_the_gate(self):
        self.write(shas=self.shas[:changepoint.MIN_RUNS - 1])
        self.assert_one_line_error(self.history(), f"{changepoint.MIN_RUNS - 1} runs to analyse",
                                   f"needs at least {changepoint.MIN_RUNS}")

    def test_alpha_outside_0_1(self):
        self.write(shas=self.shas[:2])
        self.assert_one_line_error(self.history("--alpha", "1.5"), "--alpha must be between")
        self.assert_one_line_error(self.history("--end-alpha", "0"),
                                   "--end-alpha must be between")

    # Bad input: one line on stderr, exit 2.
    def test_missing_history(self):
        proc = run_tool("history", "--history", os.path.join(self.tmp, "nope"),
                        "--repo", self.repo, "--machine", "m1")
        self.assert_one_line_error(proc, "no results history at")

    def test_empty_history(self):
        os.makedirs(self.root)
        self.assert_one_line_error(self.history(), "is empty: no recorded run")

    def test_one_run(self):
        self.write(shas=self.shas[:1])
        self.assert_one_line_error(self.history(), "has one run", "two or more")

    def test_unknown_counter(self):
        self.write()
        self.assert_one_line_error(self.history("--counter", "ops_per_s,frobs_per_s"),
                                   "no run of machine 'm1' has counter 'frobs_per_s'")

    def test_machine_with_no_runs(self):
        self.write()
        self.assert_one_line_error(self.history(machine="m2"), "machine 'm2' has no runs",
                                   "machines with runs: m1")

    def test_runs_sharing_no_benchmark_name(self):
        runs = synthetic.make_history(self.base, self.shas[:2], seed=1)
        for i, (_, _, doc) in enumerate(runs):
            for e in doc["benchmarks"]:
                e["run_name"] = e["name"] = f"{e['name']}/run{i}"
        synthetic.write_history(self.root, "m1", runs)
        self.assert_one_line_error(self.history(), "share no benchmark name")

    def test_garbled_run_file(self):
        self.write(shas=self.shas[:3])
        with open(os.path.join(self.root, "m1", f"20990101-000000_{self.shas[3][:12]}.json"),
                  "w") as f:
            f.write("{not json")
        self.assert_one_line_error(self.history(), "not valid JSON")

    def test_filter_matching_nothing_and_bad_min_change(self):
        self.write()
        self.assert_one_line_error(self.history("--filter", "^nothing$"), "matches no benchmark")
        self.assert_one_line_error(self.history("--min-change", "ops_per_s=lots"),
                                   "--min-change 'ops_per_s=lots'", "not a number")


if __name__ == "__main__":
    unittest.main()

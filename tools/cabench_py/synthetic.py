"""Synthetic results histories: a real result file repeated over commits, with noise like
the reference machine's and, if asked, a counter shifted from a known commit on.

Used by the tests of tools/history and bisect-check (tools/tests/test_history.py) and
by results/history/make_example (the trend chart of results/history/README.md). Nothing here is a
measurement: every number is a real run's number times seeded noise.

The noise model is the reference machine's (results/baseline/README.md, a 2-vCPU
shared VM): one run differs from the next by roughly 10-15% (three alternating
runs of one build: concurrency 11,610-14,285 ops/s; three repetitions in
tools/tests/data/reps_a.json: CV 20-36%), and now and then other jobs load the
machine and a run is 40-70% slower while hit rates stay put. So a run's factor is

  f = exp(N(0, sigma))                              (sigma 0.15 by default)
  f *= U(0.3, 0.6) with probability outlier_rate    (5%: a loaded machine)

drawn once per run and benchmark (the load part once per run, shared by all of its
benchmarks). ops_per_s is multiplied by f, every *_us counter divided by it;
hit rates and counts are left as they are.

  factors(n, rng, ...)          n run factors (numpy array)
  shifted_values(n, at, ...)    a counter's sequence: base * factors * (1 + shift from `at`)
  make_history(base, shas, ...) [(sha, stamp, document)]: one result document per commit
  write_history(root, machine, runs)  files them as tools/record would
"""
import copy
import datetime
import json
import os

SIGMA = 0.15
OUTLIER_RATE = 0.05
OUTLIER_FACTOR = (0.3, 0.6)  # a run on a loaded machine keeps 30-60% of its throughput


def rng_of(seed):
    import numpy as np
    return np.random.default_rng(seed)


def factors(n, rng, sigma=SIGMA, outlier_rate=OUTLIER_RATE, load=None):
    """n run factors: lognormal noise times, on a fraction outlier_rate of the runs, a
    loaded machine's 0.3-0.6. `load` (n factors) replaces the drawn load part."""
    import numpy as np
    f = np.exp(rng.normal(0.0, sigma, n))
    if load is None:
        load = load_factors(n, rng, outlier_rate)
    return f * load


def load_factors(n, rng, outlier_rate=OUTLIER_RATE):
    """n factors: 1, or U(0.3, 0.6) on a fraction outlier_rate of the runs."""
    import numpy as np
    hit = rng.random(n) < outlier_rate
    return np.where(hit, rng.uniform(*OUTLIER_FACTOR, n), 1.0)


def shifted_values(n, at, shift, base=1000.0, rng=None, seed=0, **noise):
    """A counter's values over n runs: base * factor, times (1 + shift) from run `at`
    (0-based; None: no shift) on. A list of floats."""
    rng = rng or rng_of(seed)
    f = factors(n, rng, **noise)
    return [float(base * f[i] * (1.0 + shift if at is not None and i >= at else 1.0))
            for i in range(n)]


def _scaled(entry, factor, shift_counter, shift):
    """entry with the run factor (and the shift of shift_counter) applied."""
    for key, value in list(entry.items()):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        if key == "ops_per_s":
            value = value * factor
        elif key.endswith("_us"):
            value = value / factor
        if key == shift_counter:
            value = value * (1.0 + shift)
        entry[key] = value
    return entry


def make_history(base, shas, shift_at=None, shift=0.0, counter="ops_per_s", bench=None,
                 seed=0, start=None, repetitions=1, **noise):
    """[(sha, stamp, document)] for the commits `shas` (oldest first): copies of the
    Google Benchmark document `base` whose counters carry run noise and, for the
    benchmarks whose name contains `bench` (all when None), `counter` times (1 + shift)
    from commit index shift_at on. Each document's context names its commit
    (cabench_git_rev, 12 digits) and date (one hour per commit from `start`). With
    repetitions > 1 each benchmark has that many iteration entries (noise drawn per
    repetition, the machine's load per run)."""
    rng = rng_of(seed)
    start = start or datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc)
    iterations = [e for e in base["benchmarks"] if e.get("run_type", "iteration") == "iteration"]
    load = load_factors(len(shas), rng, noise.get("outlier_rate", OUTLIER_RATE))
    out = []
    for i, sha in enumerate(shas):
        doc = copy.deepcopy(base)
        when = start + datetime.timedelta(hours=i)
        doc["context"]["cabench_git_rev"] = sha[:12]
        doc["context"]["date"] = when.isoformat()
        entries = []
        for e in iterations:
            name = e.get("run_name", e["name"])
            shifted = shift_at is not None and i >= shift_at and (bench is None or bench in name)
            for r in range(repetitions):
                f = factors(1, rng, noise.get("sigma", SIGMA), load=load[i:i + 1])[0]
                entry = _scaled(copy.deepcopy(e), float(f), counter, shift if shifted else 0.0)
                entry["run_name"] = name
                if repetitions > 1:
                    entry["repetitions"] = repetitions
                    entry["repetition_index"] = r
                entries.append(entry)
        doc["benchmarks"] = entries
        out.append((sha, when.strftime("%Y%m%d-%H%M%S"), doc))
    return out


def write_history(root, machine, runs, indent=1):
    """Files `runs` ([(sha, stamp, document)]) under root/machine/ as tools/record
    names them: <stamp>_<sha12>.json (JSON indented by `indent`; None: one line).
    Returns the paths."""
    folder = os.path.join(root, machine)
    os.makedirs(folder, exist_ok=True)
    paths = []
    for sha, stamp, doc in runs:
        path = os.path.join(folder, f"{stamp}_{sha[:12]}.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=indent)
            f.write("\n")
        paths.append(path)
    return paths


# ---------------------------------------------------------------- the fitted noise model
#
# The model above draws every run independently. The reference machine's runs are not:
# a run's neighbours in time share its machine's state (other jobs come and go over
# minutes), and a loaded machine stays loaded for several runs. The correlated model
# (fitted by tools/fit-noise to the repository's own repeated runs; its parameters in
# results/history/noise_model.json) draws a sequence of n runs' log factors as
#
#   a_t = phi * a_{t-1} + sqrt(1 - phi^2) * N(0, sigma)    (AR(1), stationary sd sigma)
#   l_t = log U(depth)  while a loaded spell lasts, else 0  (the machine's load)
#   log f_t = a_t + l_t
#
# A spell starts at a run with probability spell_rate (when none is on) and lasts a
# geometric number of runs of mean spell_length; each run of it keeps U(depth_lo,
# depth_hi) of its throughput. The load is the machine's, shared by every benchmark of
# the run; the AR(1) part is each benchmark's own. Latency counters (*_us) are divided
# by the factor and carry noise of their own, lognormal with latency_sigma.

NOISE_MODEL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                           "results", "history", "noise_model.json")


class NoiseModel:
    """The parameters of the correlated model (see above); `from_file` reads the ones
    tools/fit-noise wrote."""

    FIELDS = ("sigma", "phi", "spell_rate", "spell_length", "depth_lo", "depth_hi",
              "latency_sigma")

    def __init__(self, sigma=SIGMA, phi=0.0, spell_rate=OUTLIER_RATE, spell_length=1.0,
                 depth_lo=OUTLIER_FACTOR[0], depth_hi=OUTLIER_FACTOR[1], latency_sigma=0.0):
        self.sigma, self.phi = float(sigma), float(phi)
        self.spell_rate, self.spell_length = float(spell_rate), max(1.0, float(spell_length))
        self.depth_lo, self.depth_hi = float(depth_lo), float(depth_hi)
        self.latency_sigma = float(latency_sigma)

    @classmethod
    def from_file(cls, path=NOISE_MODEL):
        with open(path, encoding="utf-8") as f:
            params = json.load(f)["parameters"]
        return cls(**{k: params[k] for k in cls.FIELDS})

    def as_dict(self):
        return {k: getattr(self, k) for k in self.FIELDS}

    def ar1(self, n, rng, count=1):
        """(count, n) AR(1) log factors, stationary sd sigma, lag-1 correlation phi."""
        import numpy as np
        e = rng.normal(0.0, self.sigma, (count, n))
        out = np.empty((count, n))
        out[:, 0] = e[:, 0]
        tail = np.sqrt(max(0.0, 1.0 - self.phi ** 2))
        for t in range(1, n):
            out[:, t] = self.phi * out[:, t - 1] + tail * e[:, t]
        return out

    def load(self, n, rng, count=1):
        """(count, n) load factors: 1 outside a spell, U(depth_lo, depth_hi) inside. The
        first run is in a spell with the stationary probability."""
        import numpy as np
        stop = 1.0 / self.spell_length
        busy = self.spell_rate / (self.spell_rate + stop) if self.spell_rate > 0 else 0.0
        on = rng.random(count) < busy
        out = np.ones((count, n))
        for t in range(n):
            if t:
                u = rng.random(count)
                on = np.where(on, u >= stop, u < self.spell_rate)
            out[on, t] = rng.uniform(self.depth_lo, self.depth_hi, int(on.sum()))
        return out

    def factors(self, n, rng, count=1, load=None):
        """(count, n) run factors of `count` benchmarks sharing one machine: each its
        own AR(1) part, times the machine's load (drawn once, or given: n factors)."""
        import numpy as np
        if load is None:
            load = self.load(n, rng)[0]
        return np.exp(self.ar1(n, rng, count)) * np.asarray(load)[None, :]

    def latency_noise(self, shape, rng):
        import numpy as np
        return np.exp(rng.normal(0.0, self.latency_sigma, shape))

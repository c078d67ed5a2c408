"""The results history: runs filed by machine and commit, as plain files.

Layout (ROOT is CABENCH_HISTORY_DIR, or results/history/ of the checkout):

  ROOT/<machine>/<YYYYmmdd-HHMMSS>_<sha>.json   the run's Google Benchmark JSON, as written
  ROOT/<machine>/<YYYYmmdd-HHMMSS>_<sha>/       series/ and histograms/ of the run (the
                                                files of its benchmarks), and record.json:
                                                where it came from and its marks

The time is the run's own (the JSON context's `date`) in UTC; <sha> is the
context's cabench_git_rev without "-dirty" (12 hex digits as cabench writes it).
<machine> is CABENCH_MACHINE or machine_name(context): the run's host name and,
when the run was made on this host, the CPU model of /proc/cpuinfo (else the
context's CPU count and MHz).

Marks: a run is recorded whatever it is, but marked when its tree was dirty
(cabench_git_rev ends in "-dirty"), its build was not "Release"
(cabench_build_type), or its data preset is not the machine's usual one (the
preset most of the machine's clean Release runs used; ties: the newest's).
The marks are facts of the context, so a JSON file copied into a machine's
folder by hand is marked the same way; record.json keeps them as they were
when the run was filed.

  machine_name(context)        the default machine name of a run
  record(path, root, machine)  files a result file (+ series, histograms); a Recorded
  load_machine(root, machine)  the machine's runs (HistoryRun), oldest first
  usual_preset(runs)           the preset most clean Release runs used
  first_parent(repo)           full shas of `git rev-list --first-parent HEAD`, newest first
  order_by_commit(runs, shas)  (runs on that line, oldest commit first; the others)

Errors about the user's input raise ToolError (one line). Python 3 standard
library only (plus gbench for reading result files).
"""
import collections
import datetime
import json
import os
import re
import shutil
import socket
import subprocess

from .common import Failure, ToolError, load_json
from .gbench import results_from_json

HISTORY_ENV = "CABENCH_HISTORY_DIR"
MACHINE_ENV = "CABENCH_MACHINE"
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEFAULT_ROOT = os.path.join(ROOT, "results", "history")
STEM = re.compile(r"^(\d{8}-\d{6})_([0-9a-f]{4,40})$")
MACHINE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
SIDECAR = "record.json"
RUN_FOLDERS = ("series", "histograms")
DIRTY, BUILD, PRESET = "dirty", "build", "preset"


def default_root(env=None):
    env = os.environ if env is None else env
    return env.get(HISTORY_ENV) or DEFAULT_ROOT


# ---------------------------------------------------------------- names

def slug(text, keep_dots=False):
    """Lowercase words of `text` joined by '-' (letters, digits and, if asked, dots)."""
    allowed = r"[^a-z0-9.]+" if keep_dots else r"[^a-z0-9]+"
    return re.sub(allowed, "-", text.lower()).strip("-.")


def cpu_model(cpuinfo="/proc/cpuinfo"):
    """The 'model name' of the first CPU in `cpuinfo`, or None."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            for line in f:
                key, sep, value = line.partition(":")
                if sep and key.strip() in ("model name", "Model", "cpu model") and value.strip():
                    return value.strip()
    except OSError:
        pass
    return None


def cpu_slug(model):
    """A short name of a CPU model: 'Intel(R) Xeon(R) CPU E5-2620 v4 @ 2.10GHz' ->
    'intel-xeon-e5-2620-v4-2.10ghz'."""
    text = re.sub(r"\((R|TM|tm|r)\)", " ", model)
    text = re.sub(r"\b(CPU|Processor|processor|with Radeon.*|\d+-Core)\b", " ", text)
    text = text.replace("@", " ")
    return slug(text, keep_dots=True)[:40].strip("-.")


def machine_name(context, env=None, cpuinfo="/proc/cpuinfo", this_host=None):
    """CABENCH_MACHINE, else '<host>-<cpu>': the run's host name (first label) and the CPU
    model of `cpuinfo` when the run was made on this host, else '<N>cpu-<MHz>mhz' from
    the context (num_cpus, mhz_per_cpu)."""
    env = os.environ if env is None else env
    given = env.get(MACHINE_ENV)
    if given:
        if not MACHINE.match(given):
            raise ToolError(f"{MACHINE_ENV}='{given}': a machine name is letters, digits, "
                            "'.', '_' and '-' (at most 64)")
        return given
    host = str(context.get("host_name") or "unknown-host")
    this_host = socket.gethostname() if this_host is None else this_host
    short = slug(host.split(".")[0]) or "host"
    cpu = None
    if host.split(".")[0] == this_host.split(".")[0]:
        model = cpu_model(cpuinfo)
        cpu = cpu_slug(model) if model else None
    if not cpu:
        n, mhz = context.get("num_cpus"), context.get("mhz_per_cpu")
        cpu = "-".join(p for p in (f"{n}cpu" if n else "", f"{mhz}mhz" if mhz else "") if p)
    return f"{short}-{cpu}" if cpu else short


def this_machine(env=None, cpuinfo="/proc/cpuinfo"):
    """The machine name runs made here get (CABENCH_MACHINE or host + CPU model)."""
    host = socket.gethostname()
    return machine_name({"host_name": host}, env, cpuinfo, host)


def commit_of(context, path):
    """(sha, dirty) of a run's context; raises ToolError when it names no commit."""
    rev = str(context.get("cabench_git_rev") or "").strip()
    dirty = rev.endswith("-dirty")
    sha = rev[:-len("-dirty")] if dirty else rev
    if not re.fullmatch(r"[0-9a-f]{4,40}", sha):
        raise ToolError(f"{path}: its context has no git revision (cabench_git_rev is "
                        f"'{rev or 'missing'}'): a run is filed by commit; record runs of a "
                        "cabench built from a git checkout")
    return sha, dirty


def stamp_of(context, path):
    """YYYYmmdd-HHMMSS (UTC) of the context's date; raises ToolError."""
    text = str(context.get("date") or "")
    try:
        when = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise ToolError(f"{path}: its context has no readable date ('{text or 'missing'}')")
    if when.tzinfo is not None:
        when = when.astimezone(datetime.timezone.utc)
    return when.strftime("%Y%m%d-%H%M%S")


def series_stem(benchmark):
    """The file stem cabench gives a benchmark's series and histograms files."""
    return benchmark.replace("/", "_").replace(":", "-")


# ---------------------------------------------------------------- runs

class HistoryRun:
    """One recorded run: its file, stamp, commit, context facts and marks (lazily
    loaded Results)."""

    def __init__(self, path, stamp, sha, data):
        self.path = path
        self.stem = os.path.basename(path)[:-len(".json")]
        self.stamp = stamp
        self.sha = sha
        self.data = data
        self.context = data.get("context") if isinstance(data, dict) else None
        if not isinstance(self.context, dict):
            self.context = {}
        rev = str(self.context.get("cabench_git_rev") or "")
        self.dirty = rev.endswith("-dirty")
        self.build = self.context.get("cabench_build_type")
        self.preset = self.context.get("data_preset")
        self._results = None

    @property
    def results(self):
        if self._results is None:
            self._results = results_from_json(self.data, self.path)
        return self._results

    @property
    def when(self):
        """'YYYY-mm-dd HH:MM' (UTC) of the stamp."""
        s = self.stamp
        return f"{s[0:4]}-{s[4:6]}-{s[6:8]} {s[9:11]}:{s[11:13]}"

    def marks(self, usual):
        """Why the tools leave this run out by default: a list of (kind, text)."""
        out = []
        if self.dirty:
            out.append((DIRTY, "dirty tree"))
        if self.build != "Release":
            out.append((BUILD, f"{self.build or 'unknown'} build"))
        if usual is not None and self.preset != usual:
            out.append((PRESET, f"preset {self.preset or 'unknown'} (usual: {usual})"))
        return out


def machines(root):
    """Machine folders of a history (names with at least one run file), sorted."""
    out = []
    if os.path.isdir(root):
        for name in sorted(os.listdir(root)):
            folder = os.path.join(root, name)
            if os.path.isdir(folder) and _run_files(folder):
                out.append(name)
    return out


def _run_files(folder):
    try:
        names_ = os.listdir(folder)
    except OSError:
        return []
    return sorted(n for n in names_ if n.endswith(".json") and STEM.match(n[:-5])
                  and os.path.isfile(os.path.join(folder, n)))


def check_root(root):
    """Raises ToolError when the history folder is missing or holds no run."""
    if not os.path.isdir(root):
        raise ToolError(f"no results history at {root} (record runs with tools/run --record "
                        f"or tools/record FILE.json; {HISTORY_ENV} names another folder)")
    if not machines(root):
        raise ToolError(f"the results history {root} is empty: no recorded run (record runs "
                        "with tools/run --record or tools/record FILE.json)")


def load_machine(root, machine):
    """The runs of `machine` in history `root`, oldest first; raises ToolError for a
    missing or empty history, a machine with no runs, or a garbled run file."""
    check_root(root)
    folder = os.path.join(root, machine)
    files = _run_files(folder) if MACHINE.match(machine) else []
    if not files:
        raise ToolError(f"machine '{machine}' has no runs in {root} (machines with runs: "
                        f"{', '.join(machines(root))}; choose one with --machine or "
                        f"{MACHINE_ENV})")
    runs = []
    for name in files:
        path = os.path.join(folder, name)
        stamp, sha = STEM.match(name[:-5]).groups()
        data = load_json(path, "Google Benchmark JSON file")
        run = HistoryRun(path, stamp, sha, data)
        run.results  # validates now: one clear line for a garbled file
        runs.append(run)
    return runs


def usual_preset(runs):
    """The preset most of the clean Release runs used (ties: the newest run's); None
    when no run qualifies."""
    clean = [r for r in runs if not r.dirty and r.build == "Release" and r.preset]
    if not clean:
        clean = [r for r in runs if r.preset]
    if not clean:
        return None
    counts = collections.Counter(r.preset for r in clean)
    top = max(counts.values())
    for r in sorted(clean, key=lambda r: r.stamp, reverse=True):
        if counts[r.preset] == top:
            return r.preset
    return None


# ---------------------------------------------------------------- commits

def git(repo, *args):
    """stdout of `git -C repo ARGS`; raises ToolError with git's message."""
    try:
        proc = subprocess.run(["git", "-C", repo, *args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    except FileNotFoundError:
        raise ToolError("git is not installed (apt-get install git)")
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        raise ToolError(f"git {' '.join(args)} in {repo}: {last}")
    return proc.stdout


def first_parent(repo):
    """Full shas of the current branch's first-parent line, newest first."""
    return git(repo, "rev-list", "--first-parent", "HEAD").split()


def resolve(repo, rev):
    """The full sha of a revision; raises ToolError."""
    try:
        return git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").strip()
    except ToolError:
        raise ToolError(f"'{rev}' is not a commit of {repo}")


def order_by_commit(runs, shas):
    """(on, off): the runs whose commit is on `shas` (newest first, as first_parent
    returns them) ordered oldest commit first, then by time; and the other runs, by
    time. Each run of `on` gets `position` (0 = oldest commit) and `full_sha`."""
    position = {}
    lengths = {len(r.sha) for r in runs}
    for i, full in enumerate(reversed(shas)):
        for n in lengths:
            position.setdefault(full[:n], (i, full))
    on, off = [], []
    for r in runs:
        hit = position.get(r.sha)
        if hit is None:
            off.append(r)
        else:
            r.position, r.full_sha = hit
            on.append(r)
    on.sort(key=lambda r: (r.position, r.stamp))
    off.sort(key=lambda r: r.stamp)
    return on, off


# ---------------------------------------------------------------- recording

Recorded = collections.namedtuple("Recorded", "path folder machine marks series histograms "
                                  "sources existed")


def _outputs(path, context):
    """Folders that may hold the run's series/ and histograms/: beside the JSON, then the
    context's out_dir (absolute, or relative to the current folder or the checkout)."""
    out = [os.path.dirname(os.path.abspath(path))]
    out_dir = context.get("out_dir")
    if isinstance(out_dir, str) and out_dir:
        if os.path.isabs(out_dir):
            out.append(out_dir)
        else:
            out += [os.path.abspath(out_dir), os.path.join(ROOT, out_dir)]
    seen, unique = set(), []
    for d in out:
        d = os.path.normpath(d)
        if d not in seen:
            seen.add(d)
            unique.append(d)
    return unique


def run_files_of(results, folder):
    """{kind: [file paths]} of the series and histograms files in `folder` that belong
    to the benchmarks of `results` (cabench names them after the benchmark)."""
    stems = {series_stem(name) for name in results.runs}
    stems |= {series_stem(e["name"]) for e in results.entries}
    pattern = re.compile(r"^(.*?)(?:_run[0-9]+)?\.json$")
    out = {}
    for kind in RUN_FOLDERS:
        d = os.path.join(folder, kind)
        if not os.path.isdir(d):
            continue
        for n in sorted(os.listdir(d)):
            m = pattern.match(n)
            if m and m.group(1) in stems:
                out.setdefault(kind, []).append(os.path.join(d, n))
    return out


def record(path, root, machine=None, env=None):
    """Files the result file `path` (and the series and histograms of its benchmarks,
    found beside it or in its context's out_dir) into history `root`. Returns a
    Recorded; raises ToolError for bad input or a different run already filed there,
    Failure when the history cannot be written."""
    data = load_json(path, "Google Benchmark JSON file")
    results = results_from_json(data, path)
    if not results.runs:
        raise ToolError(f"{path}: no benchmark in it: nothing to record")
    context = results.context
    sha, dirty = commit_of(context, path)
    stamp = stamp_of(context, path)
    machine = machine or machine_name(context, env)
    if not MACHINE.match(machine):
        raise ToolError(f"machine name '{machine}': letters, digits, '.', '_' and '-' only")
    folder = os.path.join(root, machine)
    stem = f"{stamp}_{sha}"
    dest = os.path.join(folder, stem + ".json")
    run_dir = os.path.join(folder, stem)
    with open(path, "rb") as f:
        content = f.read()
    if os.path.exists(dest):
        with open(dest, "rb") as f:
            if f.read() == content:
                return Recorded(dest, run_dir, machine, [], 0, 0, [], True)
        raise ToolError(f"{dest} already holds another run of commit {sha} made at the same "
                        "second; remove it first if it is wrong")
    previous = []
    if os.path.isdir(folder):
        try:
            previous = load_machine(root, machine)
        except ToolError:
            previous = []
    files, sources = {}, []
    for d in _outputs(path, context):
        found = run_files_of(results, d)
        if found:
            files, sources = found, [d]
            break
    try:
        os.makedirs(run_dir, exist_ok=True)
        for kind, paths in files.items():
            os.makedirs(os.path.join(run_dir, kind), exist_ok=True)
            for p in paths:
                shutil.copy2(p, os.path.join(run_dir, kind, os.path.basename(p)))
        tmp = dest + ".tmp"
        with open(tmp, "wb") as f:
            f.write(content)
        os.replace(tmp, dest)
    except OSError as e:
        raise Failure(f"cannot write into {folder}: {e.strerror}")
    run = HistoryRun(dest, stamp, sha, data)
    marks = run.marks(usual_preset(previous + [run]))
    sidecar = {
        "recorded": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "source": os.path.abspath(path),
        "machine": machine,
        "cabench_git_rev": context.get("cabench_git_rev"),
        "cabench_build_type": context.get("cabench_build_type"),
        "data_preset": context.get("data_preset"),
        "marks": [text for _, text in marks],
        "series": len(files.get("series", [])),
        "histograms": len(files.get("histograms", [])),
        "files_from": sources[0] if sources else None,
    }
    with open(os.path.join(run_dir, SIDECAR), "w", encoding="utf-8") as f:
        json.dump(sidecar, f, indent=1)
        f.write("\n")
    return Recorded(dest, run_dir, machine, marks, sidecar["series"], sidecar["histograms"],
                    sources, False)

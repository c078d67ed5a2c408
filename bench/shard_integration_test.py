#!/usr/bin/env python3
"""Sharded runs end to end: shards against the real servers, merged by tools/merge.

  shard_integration_test.py CABENCH REPO_ROOT

Endpoints come from CABENCH_* (tools/servers start; cabench_load --preset=small).
One unsharded run of concurrency (4 threads, --queries=1000) is the reference; then

  * LocalShardsTest: three cabench processes with --shard_index=0..2 --shard_count=3 and one
    --start_at, merged; and the same open loop, whose shards' intended starts must make one
    schedule at the target rate from --start_at;
  * SlurmShardsTest: a real one-node Slurm (Debian's slurm-wlm and munge, installed by
    tools/lib.sh cabench_install_deps): the test writes a slurm.conf in a temporary folder
    (its own ports, state, spool, pid and log files, munged on its own socket and key,
    proctrack/linuxproc, task/none, no cgroups), starts munged, slurmctld and slurmd, runs
    deploy/slurm/cabench.sbatch with three tasks (srun: one shard per task, then
    tools/merge), and stops everything it started.

For both: the merged ops, reads and writes equal the unsharded run's exactly (the shards' threads
keep their global indexes, so they send the same operations), the merged name is the unsharded
one, the merged percentiles are those of the shards' histograms added together, every shard
removed the bookings it inserted, and tools/compare (Google Benchmark's compare.py) accepts the
merged run against the unsharded one. Hit counts are not compared: which read hits depends on
how the threads interleave, in one process as in three.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

CABENCH, ROOT = sys.argv[1:3]
del sys.argv[1:3]
sys.path.insert(0, os.path.join(ROOT, "tools"))
# The cabench_report built beside this cabench computes what the merge must equal.
os.environ.setdefault("CABENCH_REPORT", os.path.join(os.path.dirname(CABENCH), "cabench_report"))
from cabench_py import report  # noqa: E402

PERCENTILES = [50, 95, 99, 99.9]


def concatenated(paths):
    """The histograms of the records `paths` added together, by cabench's own code
    (cabench_report --out), as {key: report.Stats}."""
    with tempfile.TemporaryDirectory() as tmp:
        merged = os.path.join(tmp, "merged.json")
        report.run_counters(paths, {}, out=merged)
        return report.load_histograms(merged, PERCENTILES)

FILTER = "^CacheAside/concurrency/"
QUERIES = "1000"
NAME = ("CacheAside/concurrency/read_pct:80/ttl_ms:300000/access:pool/iterations:1000/"
        "real_time/threads:4")
# Time for every shard to start and shard 0 to flush before the measurement starts (more
# under sanitizers: CABENCH_SHARD_START_DELAY_MS).
START_DELAY_MS = int(os.environ.get("CABENCH_SHARD_START_DELAY_MS", "4000"))
TOOLS = os.path.join(ROOT, "tools")


def now_ms():
    return int(time.time() * 1000)


def entry(path):
    """The one benchmark entry of a run's JSON (a shard's is named threads:<its threads>)."""
    with open(path) as f:
        (e,) = json.load(f)["benchmarks"]
    return e


UNSHARDED = {}


def setUpModule():
    out = tempfile.mkdtemp(prefix="cabench-unsharded-")
    UNSHARDED["dir"] = out
    proc = subprocess.run(
        [CABENCH, "--benchmark_filter=" + FILTER, "--queries=" + QUERIES, "--no_twins",
         "--out_dir=" + out, "--benchmark_out=" + os.path.join(out, "cabench.json"),
         "--benchmark_out_format=json", "--benchmark_format=json"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"the unsharded run failed ({proc.returncode}): {proc.stderr}")
    UNSHARDED["entry"] = entry(os.path.join(out, "cabench.json"))


def tearDownModule():
    shutil.rmtree(UNSHARDED.get("dir", "/nonexistent"), ignore_errors=True)


class ShardChecks:
    """What every sharded run must give; `self.out` is its --out_dir, merged."""

    def check_merged(self, out, source):
        u = UNSHARDED["entry"]
        merged_json = os.path.join(out, "merged", "cabench.json")
        m = entry(merged_json)
        self.assertEqual(m["name"], NAME)
        self.assertEqual(u["name"], NAME)
        self.assertEqual(m["threads"], 4)
        for k in ("ops", "reads", "writes", "errors"):
            self.assertEqual(m[k], u[k], k)
        self.assertEqual(m["ops"], 4000)
        self.assertEqual(m["cache_hits"] + m["cache_misses"], u["reads"])
        self.assertEqual(m["bookings_removed"], m["writes"])
        # Manifests: three shards, global threads 0 and 3 / 1 / 2.
        hists, shard_ops = [], 0
        for i, threads in enumerate([[0, 3], [1], [2]]):
            with open(os.path.join(out, f"shard-{i}", "shard.json")) as f:
                man = json.load(f)
            self.assertEqual(man["shard_source"], source)
            (b,) = man["benchmarks"]
            self.assertEqual(b["thread_indexes"], threads)
            self.assertLess(abs(b["start_skew_ms"]), 500, b)
            hists.append(os.path.join(out, f"shard-{i}", b["histograms"]))
            shard_ops += entry(os.path.join(out, f"shard-{i}", "cabench.json"))["ops"]
        self.assertEqual(shard_ops, 4000)
        # Percentiles of the concatenated histograms, exactly.
        together = concatenated(hists)
        self.assertEqual(together["overall"].count, 4000)
        for k, p in [("p50_us", 50), ("p95_us", 95), ("p99_us", 99), ("p999_us", 99.9)]:
            self.assertEqual(m[k], together["overall"].percentile(p) / 1000.0, k)
        for cls in ("hit", "miss", "write"):
            self.assertEqual(m[f"{cls}_p99_us"], together[cls].percentile(99) / 1000.0, cls)
        # compare.py and tools/compare read it against the unsharded run.
        # (Sanitizer builds are not Release: the format is what is checked here.)
        cmp = subprocess.run([os.path.join(TOOLS, "compare"), "--allow-non-release",
                              os.path.join(UNSHARDED["dir"], "cabench.json"), merged_json],
                             capture_output=True, text=True, timeout=120)
        self.assertIn(cmp.returncode, (0, 1), cmp.stdout + cmp.stderr)
        self.assertIn("== " + NAME, cmp.stdout)


class LocalShardsTest(ShardChecks, unittest.TestCase):

    def run_three_shards(self, out, flags):
        """Runs shards 0..2 of FILTER as three local processes with one --start_at and
        `flags`, then tools/merge on `out`; each must exit 0. Returns the --start_at."""
        start_at = now_ms() + START_DELAY_MS
        procs = [subprocess.Popen(
            [CABENCH, "--benchmark_filter=" + FILTER, "--queries=" + QUERIES, "--out_dir=" + out,
             f"--shard_index={i}", "--shard_count=3", f"--start_at={start_at}"] + flags,
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for i in range(3)]
        for i, p in enumerate(procs):
            _, err = p.communicate(timeout=300)
            self.assertEqual(p.returncode, 0, f"shard {i}: {err}")
        merge = subprocess.run([os.path.join(TOOLS, "merge"), "--quiet", out],
                               capture_output=True, text=True, timeout=120)
        self.assertEqual(merge.returncode, 0, merge.stderr)
        return start_at

    def test_three_local_processes(self):
        out = tempfile.mkdtemp(prefix="cabench-shards-")
        self.addCleanup(shutil.rmtree, out, ignore_errors=True)
        self.run_three_shards(out, ["--run_id=local-test"])
        self.check_merged(out, "flags")

    def test_open_loop_shards_keep_one_schedule(self):
        # 4,000 operations at 4,000/s over 4 threads: each thread runs at 1,000/s from the
        # agreed origin, phase-offset by its global index, whichever shard it is in.
        out = tempfile.mkdtemp(prefix="cabench-shards-open-")
        self.addCleanup(shutil.rmtree, out, ignore_errors=True)
        start_at = self.run_three_shards(out, ["--rate_per_s=4000"])
        m = entry(os.path.join(out, "merged", "cabench.json"))
        self.assertEqual(m["ops"], 4000)
        self.assertEqual(m["target_rate_per_s"], 4000)
        firsts, lasts, hists = [], [], []
        for i in range(3):
            with open(os.path.join(out, f"shard-{i}", "shard.json")) as f:
                (b,) = json.load(f)["benchmarks"]
            firsts.append(b["first_intended_ns"])
            lasts.append(b["last_intended_ns"])
            hists.append(os.path.join(out, f"shard-{i}", b["histograms"]))
        # The shards' intended starts together make one schedule at the target rate (had
        # each shard run at the full rate, or from its own origin, this would be far off).
        scheduled = (m["ops"] - 1) / ((max(lasts) - min(firsts)) / 1e9)
        self.assertLess(abs(scheduled - 4000) / 4000, 0.05, scheduled)
        self.assertLess(abs(min(firsts) / 1e6 - start_at), 50)
        # The intended times of every class of every shard, added up by cabench's code.
        self.assertEqual(m["intended_p99_us"], report.run_counters(hists, {})["intended_p99_us"])
        together = concatenated(hists)
        self.assertEqual(sum(together[f"intended_{c}"].count
                             for c in ("hit", "miss", "write", "db_read", "fallback", "error")),
                         m["ops"])

    def test_start_at_in_the_past_is_one_line(self):
        proc = subprocess.run(
            [CABENCH, "--benchmark_filter=" + FILTER, "--out_dir=/tmp/unused", "--shard_index=0",
             "--shard_count=3", f"--start_at={now_ms() - 1000}"],
            cwd=ROOT, capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
        self.assertIn("in the past", proc.stderr)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SLURM_CONF = """ClusterName=cabench
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
AuthType=auth/munge
AuthInfo=socket={dir}/munge/munge.socket
CredType=cred/munge
StateSaveLocation={dir}/state
SlurmdSpoolDir={dir}/spool
SlurmctldPidFile={dir}/slurmctld.pid
SlurmdPidFile={dir}/slurmd.pid
SlurmctldLogFile={dir}/slurmctld.log
SlurmdLogFile={dir}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/linear
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=cabench Nodes=localhost Default=YES MaxTime=10 State=UP OverSubscribe=YES
"""


class OneNodeSlurm:
    """munged, slurmctld and slurmd of our own in a temporary folder; stop() ends exactly
    the processes start() started (by the pids in their pid files)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="cabench-slurm-")
        self.conf = os.path.join(self.dir, "slurm.conf")
        self.env = dict(os.environ, SLURM_CONF=self.conf)
        self.pid_files = []

    def _daemon(self, args, pid_file):
        proc = subprocess.run(args, env=self.env, capture_output=True, text=True, timeout=30)
        if proc.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {proc.stderr.strip()} (see {self.dir})")
        self.pid_files.append(pid_file)

    def start(self):
        d = self.dir
        for sub in ("state", "spool", "munge"):
            os.makedirs(os.path.join(d, sub))
        os.chmod(os.path.join(d, "munge"), 0o711)
        key = os.path.join(d, "munge", "munge.key")
        subprocess.run(["/usr/sbin/mungekey", "--create", f"--keyfile={key}"], check=True,
                       capture_output=True, timeout=30)
        os.chmod(key, 0o400)
        self._daemon(["/usr/sbin/munged", "--force", f"--socket={d}/munge/munge.socket",
                      f"--key-file={key}", f"--pid-file={d}/munge/munged.pid",
                      f"--log-file={d}/munge/munged.log", f"--seed-file={d}/munge/munged.seed"],
                     f"{d}/munge/munged.pid")
        with open(self.conf, "w") as f:
            f.write(SLURM_CONF.format(dir=d, ctld_port=free_port(), slurmd_port=free_port()))
        self._daemon(["/usr/sbin/slurmctld", "-f", self.conf], f"{d}/slurmctld.pid")
        self._daemon(["/usr/sbin/slurmd", "-f", self.conf, "-N", "localhost"], f"{d}/slurmd.pid")
        deadline = time.time() + 30
        while time.time() < deadline:
            info = subprocess.run(["sinfo", "-h", "-o", "%T"], env=self.env, capture_output=True,
                                  text=True, timeout=10)
            if info.stdout.strip() == "idle":
                return
            time.sleep(0.2)
        raise RuntimeError(f"the Slurm node did not become idle (see {self.dir}/*.log)")

    def stop(self):
        for pid_file in reversed(self.pid_files):
            try:
                with open(pid_file) as f:
                    pid = int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                continue
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
        shutil.rmtree(self.dir, ignore_errors=True)


class SlurmShardsTest(ShardChecks, unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        for tool in ("/usr/sbin/munged", "/usr/sbin/slurmctld", "/usr/sbin/slurmd"):
            if not os.path.exists(tool):
                raise RuntimeError(f"{tool} is missing: install slurm-wlm and munge "
                                   "(tools/lib.sh cabench_install_deps)")
        cls.slurm = OneNodeSlurm()
        try:
            cls.slurm.start()
        except Exception:
            cls.slurm.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.slurm.stop()

    def test_sbatch_three_tasks_merged(self):
        out = tempfile.mkdtemp(prefix="cabench-slurm-shards-")
        self.addCleanup(shutil.rmtree, out, ignore_errors=True)
        log = os.path.join(out, "job.log")
        env = dict(self.slurm.env, CABENCH=CABENCH, CABENCH_TOOLS=TOOLS,
                   CABENCH_START_DELAY_MS=str(START_DELAY_MS))
        proc = subprocess.run(
            ["sbatch", "--wait", "--nodes=1", "--ntasks=3", "--ntasks-per-node=3",
             "--overcommit", f"--output={log}", "--time=5",
             os.path.join(ROOT, "deploy", "slurm", "cabench.sbatch"), FILTER, out,
             "--queries=" + QUERIES],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        with open(log) as f:
            job_log = f.read()
        self.assertEqual(proc.returncode, 0, proc.stderr + job_log)
        self.assertIn(os.path.join(out, "merged", "cabench.json"), job_log)
        job_id = proc.stdout.split()[-1]
        with open(os.path.join(out, "shard-0", "shard.json")) as f:
            self.assertEqual(json.load(f)["run_id"], f"slurm-{job_id}")
        self.check_merged(out, "slurm")


if __name__ == "__main__":
    unittest.main()

"""Checks of the launchers in deploy/ (no cluster needed): the Kubernetes manifests parse and
have the fields a sharded cabench run relies on, and the Slurm batch script is valid bash that
runs one shard per task and then tools/merge. The cabench flags both pass are flags cabench
parses (bench/flags.cc)."""
import os
import re
import subprocess
import unittest

import yaml

from helpers import ROOT

K8S = os.path.join(ROOT, "deploy", "kubernetes")
SBATCH = os.path.join(ROOT, "deploy", "slurm", "cabench.sbatch")
PLACEHOLDERS = {"CABENCH_IMAGE", "CABENCH_RUN_ID", "CABENCH_START_AT"}


def load(name):
    with open(os.path.join(K8S, name)) as f:
        text = f.read()
    return text, yaml.safe_load(text)


def cabench_flags():
    """The flags cabench declares (bench/flags.cc): --name= for a value, --name for a bool."""
    with open(os.path.join(ROOT, "bench", "flags.cc")) as f:
        return {f"--{name}" if kind == "bool" else f"--{name}="
                for kind, name in re.findall(r"ABSL_FLAG\(\s*([\w:]+),\s*(\w+),", f.read())}


def flag_names(args):
    return {a.split("=", 1)[0] + ("=" if "=" in a else "") for a in args if a.startswith("--")}


class KubernetesTest(unittest.TestCase):

    def test_shards_job_is_an_indexed_job_of_shard_count_pods(self):
        text, job = load("shards-job.yaml")
        self.assertEqual(job["apiVersion"], "batch/v1")
        self.assertEqual(job["kind"], "Job")
        spec = job["spec"]
        self.assertEqual(spec["completionMode"], "Indexed")
        # All shards at once (one --start_at), never retried (a retry misses it).
        self.assertEqual(spec["parallelism"], spec["completions"])
        self.assertEqual(spec["backoffLimit"], 0)
        pod = spec["template"]["spec"]
        self.assertEqual(pod["restartPolicy"], "Never")
        (c,) = pod["containers"]
        args = c["command"] + c.get("args", [])
        counts = [a for a in args if a.startswith("--shard_count=")]
        self.assertEqual(counts, [f"--shard_count={spec['completions']}"])
        # The index comes from JOB_COMPLETION_INDEX, which Kubernetes sets in an Indexed Job.
        self.assertFalse([a for a in args if a.startswith("--shard_index")])
        self.assertIn("--start_at=$(CABENCH_START_AT)", args)
        self.assertIn("--run_id=$(CABENCH_RUN_ID)", args)
        self.assertIn("--out_dir=/out/$(CABENCH_RUN_ID)", args)
        self.assertTrue(any(a.startswith("--benchmark_filter=") for a in args))
        self.assertLessEqual(flag_names(args) - {"--benchmark_filter="}, cabench_flags())
        # Every $(VAR) the command uses is defined in the container's env.
        env = {e["name"] for e in c["env"]}
        self.assertLessEqual(set(re.findall(r"\$\(([A-Z_]+)\)", " ".join(args))), env)
        for var in ("CABENCH_CACHE_URL", "CABENCH_DB_URL", "CABENCH_DB_PASSWORD"):
            self.assertIn(var, env)
        mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
        self.assertEqual(mounts["out"], "/out")
        (vol,) = [v for v in pod["volumes"] if v["name"] == "out"]
        self.assertEqual(vol["persistentVolumeClaim"]["claimName"], "cabench-out")
        self.assertEqual(set(re.findall(r"\$\{([A-Z_]+)\}", text)), PLACEHOLDERS)

    def test_merge_job_reads_the_same_folder(self):
        text, job = load("merge-job.yaml")
        self.assertEqual(job["kind"], "Job")
        pod = job["spec"]["template"]["spec"]
        (c,) = pod["containers"]
        self.assertEqual(c["command"], ["tools/merge", "/out/${CABENCH_RUN_ID}"])
        self.assertEqual(c["volumeMounts"][0]["mountPath"], "/out")
        self.assertEqual(pod["volumes"][0]["persistentVolumeClaim"]["claimName"], "cabench-out")
        self.assertLessEqual(set(re.findall(r"\$\{([A-Z_]+)\}", text)), PLACEHOLDERS)

    def test_volume_is_shared_by_every_pod(self):
        _, pvc = load("pvc.yaml")
        self.assertEqual(pvc["kind"], "PersistentVolumeClaim")
        self.assertEqual(pvc["metadata"]["name"], "cabench-out")
        self.assertEqual(pvc["spec"]["accessModes"], ["ReadWriteMany"])


class SlurmScriptTest(unittest.TestCase):

    def test_valid_bash_running_srun_then_merge(self):
        proc = subprocess.run(["bash", "-n", SBATCH], capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(SBATCH) as f:
            text = f.read()
        self.assertIn("#SBATCH --ntasks-per-node=1", text)
        srun = text.index("srun ")
        self.assertGreater(text.index('"$tools/merge" "$out"'), srun)
        for flag in ("--start_at=", "--run_id=", "--out_dir="):
            self.assertIn(flag, text[srun:])
            self.assertIn(flag, cabench_flags())

    def test_usage_error_without_arguments(self):
        proc = subprocess.run(["bash", SBATCH], capture_output=True, text=True)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("usage:", proc.stderr)


if __name__ == "__main__":
    unittest.main()

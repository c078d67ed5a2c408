#!/usr/bin/env python3
"""Bad input to the real executables, table-driven, with no server running.

  bad_input_test.py CABENCH CABENCH_LOAD

Every case runs cabench or cabench_load (bounded by a timeout) and expects:
the documented exit status (2: usage or configuration, 1: runtime, e.g. a
server that does not answer), exactly one line on stderr that starts with
the program's name and names the problem, no crash (no signal, no
"terminate called", no sanitizer report), and never the database password.
Endpoints point at loopback ports where nothing listens, so nothing here
needs a server; the cases that do (wrong password, missing or unmarked
schema) are in fault_integration_test.py.
"""
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

CABENCH, CABENCH_LOAD = sys.argv[1:3]
del sys.argv[1:3]

PASSWORD = "pw-bad-input-7f3a9c"
TIMEOUT_S = 30  # per run; a hang fails the case
GOOD = "name: good\nthreads: 1\nqueries_per_thread: 10\n"
# An agreed start ten minutes ahead (a sharded run's --start_at).
START_AT = int(time.time() * 1000) + 600_000


def closed_port():
    """A loopback port on which nothing listens (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CLOSED_CACHE = closed_port()
CLOSED_DB = closed_port()
BASE_ENV = {
    "CABENCH_CACHE_URL": "redis://127.0.0.1:%d/0" % CLOSED_CACHE,
    "CABENCH_DB_URL": "mysql://cabench@127.0.0.1:%d/cabench" % CLOSED_DB,
    "CABENCH_DB_PASSWORD": PASSWORD,
}

# (name, program, args, scenario files {name: text} or None for no folder
#  flag, env changes (None deletes), exit status, regex the line must match)
# In args, "{dir}" is the case's scenario folder and "{tmp}" its temp folder.
CASES = [
    # YAML syntax
    ("yaml_unclosed_list", "cabench", [], {"x.yaml": "name: x\nthreads: [1, 2\n"}, {}, 2,
     r"x\.yaml:\d+: YAML syntax error"),
    ("yaml_bad_indent", "cabench", [], {"x.yaml": "name: x\n  read_pct: 5\n"}, {}, 2,
     r"x\.yaml:\d+: YAML syntax error"),
    ("yaml_nested_too_deep", "cabench", [], {"x.yaml": "name: x\nthreads: " + "[" * 5000}, {},
     2, r"x\.yaml:\d+: .*(nested|syntax)"),
    # yaml-cpp 0.7.0's LoadAll() never returns on a stray top-level ','
    # (found by bench/fuzz/scenario_fuzzer.cc); the loader must not hang.
    ("yaml_stray_comma", "cabench", [], {"x.yaml": ","}, {}, 2,
     r"x\.yaml:1: YAML syntax error: unexpected ','"),
    ("yaml_stray_comma_after_tag", "cabench", [], {"x.yaml": "!,n"}, {}, 2,
     r"x\.yaml:1: YAML syntax error: unexpected ','"),
    ("yaml_binary_garbage", "cabench", [], {"x.yaml": "\x00\xff\xfe\x01name"}, {}, 2,
     r"x\.yaml:\d+: "),
    ("yaml_two_documents", "cabench", [], {"x.yaml": "name: x\n---\nname: y\n"}, {}, 2,
     r"x\.yaml:\d+: a second YAML document"),
    ("yaml_top_level_list", "cabench", [], {"x.yaml": "- name: x\n"}, {}, 2,
     r"x\.yaml:1: expected a map"),
    # Keys and types
    ("unknown_key", "cabench", [], {"x.yaml": "name: x\nread_ratio: 50\n"}, {}, 2,
     r"x\.yaml:2: unknown key 'read_ratio'"),
    ("duplicate_key", "cabench", [], {"x.yaml": "name: x\nread_pct: 5\nread_pct: 6\n"}, {}, 2,
     r"x\.yaml:3: duplicate key 'read_pct'"),
    ("wrong_type_threads", "cabench", [], {"x.yaml": "name: x\nthreads: four\n"}, {}, 2,
     r"x\.yaml:2: threads: expected an integer"),
    ("wrong_type_bool", "cabench", [], {"x.yaml": "name: x\ncache: yes\n"}, {}, 2,
     r"x\.yaml:2: cache: expected true or false"),
    ("wrong_type_quoted_int", "cabench", [], {"x.yaml": "name: x\nread_pct: \"80\"\n"}, {}, 2,
     r"x\.yaml:2: read_pct: expected an integer"),
    ("wrong_type_float", "cabench", [], {"x.yaml": "name: x\nttl_ms: 1.5\n"}, {}, 2,
     r"x\.yaml:2: ttl_ms: expected an integer"),
    ("unknown_enum", "cabench", [], {"x.yaml": "name: x\naccess: zipfian\n"}, {}, 2,
     r"x\.yaml:2: access: expected pool, random, zipf, hotspot or trace"),
    # Out of range
    ("read_pct_150", "cabench", [], {"x.yaml": "name: x\nread_pct: 150\n"}, {}, 2,
     r"x\.yaml:2: read_pct: 150 is out of range 0\.\.100"),
    ("queries_negative", "cabench", [], {"x.yaml": "name: x\nqueries_per_thread: -5\n"}, {}, 2,
     r"queries_per_thread: -5 is out of range"),
    ("ttl_zero", "cabench", [], {"x.yaml": "name: x\nttl_ms: 0\n"}, {}, 2,
     r"ttl_ms: 0 is out of range"),
    ("threads_2000", "cabench", [], {"x.yaml": "name: x\nthreads: [1, 2000]\n"}, {}, 2,
     r"threads: 2000 is out of range 1\.\.1024"),
    ("seed_too_big", "cabench", [], {"x.yaml": "name: x\nseed: 99999999999999999999999\n"}, {},
     2, r"seed: .* is out of range"),
    # Warm-up and stampede keys (issue 13): contradictions are one line and
    # exit 2, whatever the order of the keys.
    ("write_policy_misspelt", "cabench", [], {"x.yaml": "name: x\nwrite_policy: ttl-only\n"},
     {}, 2, r"x\.yaml:2: write_policy: expected refresh, invalidate or ttl_only"),
    ("single_flight_without_cache", "cabench", [],
     {"x.yaml": "name: x\nsingle_flight: true\ncache: false\n"}, {}, 2,
     r"x\.yaml:2: single_flight: true needs a cache \(cache: true\)"),
    ("early_refresh_without_cache", "cabench", [],
     {"x.yaml": "name: x\ncache: false\nearly_refresh_beta: 1\n"}, {}, 2,
     r"x\.yaml:3: early_refresh_beta: needs a cache \(cache: true\)"),
    ("early_refresh_beta_zero", "cabench", [], {"x.yaml": "name: x\nearly_refresh_beta: 0\n"},
     {}, 2, r"x\.yaml:2: early_refresh_beta: 0 must be > 0 \(leave it out to turn early refresh"),
    ("lock_ms_zero", "cabench", [],
     {"x.yaml": "name: x\nsingle_flight: true\nsingle_flight_lock_ms: 0\n"}, {}, 2,
     r"x\.yaml:3: single_flight_lock_ms: 0: a lock TTL must be > 0"),
    ("lock_ms_without_single_flight", "cabench", [],
     {"x.yaml": "name: x\nsingle_flight_lock_ms: 500\n"}, {}, 2,
     r"x\.yaml:2: single_flight_lock_ms: needs single_flight: true"),
    ("window_without_until_steady", "cabench", [],
     {"x.yaml": "name: x\nwarmup_window_ops: 1000\n"}, {}, 2,
     r"x\.yaml:2: warmup_window_ops: needs warmup: until_steady"),
    ("until_steady_without_cache", "cabench", [],
     {"x.yaml": "name: x\nwarmup: until_steady\ncache: false\n"}, {}, 2,
     r"x\.yaml:2: warmup: until_steady needs a cache \(cache: true\)"),
    ("until_steady_too_short", "cabench", [],
     {"x.yaml": "name: x\nwarmup_ops: 6000\nwarmup: until_steady\n"}, {}, 2,
     r"x\.yaml:2: warmup_ops: 6000 is too short to compare three windows"),
    # Empty and missing
    ("empty_file", "cabench", [], {"x.yaml": ""}, {}, 2, r"x\.yaml:1: the file is empty"),
    ("only_a_comment", "cabench", [], {"x.yaml": "# nothing here\n"}, {}, 2,
     r"the file is empty"),
    ("missing_name", "cabench", [], {"x.yaml": "read_pct: 5\n"}, {}, 2, r"name: missing"),
    ("name_differs_from_file", "cabench", [], {"x.yaml": "name: y\n"}, {}, 2,
     r"name: 'y' differs from the file name stem 'x'"),
    ("file_too_large", "cabench", [], {"x.yaml": "name: x\n" + "#" * (1 << 20) + "\n"}, {}, 2,
     r"larger than the 1 MiB"),
    ("missing_scenarios_folder", "cabench", ["--scenarios={tmp}/nope"], None, {}, 2,
     r"nope: scenario folder does not exist"),
    ("scenarios_folder_without_yaml", "cabench", [], {"notes.txt": "hi"}, {}, 2,
     r"no scenario files \(\*\.yaml\)"),
    ("scenarios_is_a_file", "cabench", ["--scenarios={dir}/good.yaml"], {"good.yaml": GOOD}, {},
     2, r"good\.yaml: not a folder"),
    # Flags
    ("unknown_flag", "cabench", ["--querys=5"], {"good.yaml": GOOD}, {}, 2,
     r"unknown flag '--querys=5'"),
    ("queries_not_a_number", "cabench", ["--queries=abc"], {"good.yaml": GOOD}, {}, 2,
     r"--queries: expected a whole number"),
    ("queries_zero", "cabench", ["--queries=0"], {"good.yaml": GOOD}, {}, 2,
     r"--queries: expected a whole number"),
    ("rate_negative", "cabench", ["--rate_per_s=-5"], {"good.yaml": GOOD}, {}, 2,
     r"--rate_per_s: expected operations per second"),
    ("rate_word", "cabench", ["--rate_per_s=fast"], {"good.yaml": GOOD}, {}, 2,
     r"--rate_per_s: expected operations per second"),
    ("rate_in_file_zero", "cabench", [], {"x.yaml": "name: x\nrate_per_s: 0\n"}, {}, 2,
     r"x\.yaml:2: rate_per_s:"),
    ("arrival_misspelt", "cabench", [], {"x.yaml": "name: x\nrate_per_s: 5\narrival: poison\n"},
     {}, 2, r"x\.yaml:3: arrival: expected poisson or uniform"),
    ("pool_larger_than_threads", "cabench", [],
     {"x.yaml": "name: x\nthreads: 2\ndb_pool_size: 3\n"}, {}, 2, r"x\.yaml:3: db_pool_size:"),
    ("baseline_unknown", "cabench", [], {"x.yaml": "name: x\nbaseline: redis\n"}, {}, 2,
     r"x\.yaml:2: baseline: expected no_cache"),
    ("timeout_zero", "cabench", ["--timeout_ms=0"], {"good.yaml": GOOD}, {}, 2,
     r"--timeout_ms: expected milliseconds"),
    ("connect_timeout_junk", "cabench", ["--connect_timeout_ms=5s"], {"good.yaml": GOOD}, {},
     2, r"--connect_timeout_ms: expected milliseconds"),
    ("empty_out_dir", "cabench", ["--out_dir="], {"good.yaml": GOOD}, {}, 2,
     r"--out_dir: expected a folder"),
    ("filter_matches_nothing", "cabench", ["--benchmark_filter=^nothing$"], {"good.yaml": GOOD},
     {}, 2, r"no benchmark matches --benchmark_filter='\^nothing\$'"),
    ("filter_not_a_regex", "cabench", ["--benchmark_filter=("], {"good.yaml": GOOD}, {}, 2,
     r"--benchmark_filter: '\(' is not a valid regular expression"),
    ("bad_benchmark_flag_value", "cabench", ["--benchmark_repetitions=abc"],
     {"good.yaml": GOOD}, {}, 2, r"benchmark_repetitions"),
    # URLs and environment
    ("cache_url_unset", "cabench", [], {"good.yaml": GOOD}, {"CABENCH_CACHE_URL": None}, 2,
     r"CABENCH_CACHE_URL is not set; start the servers"),
    ("cache_url_wrong_scheme", "cabench", [], {"good.yaml": GOOD},
     {"CABENCH_CACHE_URL": "http://127.0.0.1:6379/0"}, 2,
     r"CABENCH_CACHE_URL: expected redis://HOST:PORT/DB"),
    ("cache_url_port_out_of_range", "cabench", [], {"good.yaml": GOOD},
     {"CABENCH_CACHE_URL": "redis://127.0.0.1:70000/0"}, 2,
     r"port '70000' is out of range 1\.\.65535"),
    ("cache_url_flag_malformed_ipv6", "cabench", ["--cache_url=redis://[::1:6379/0"],
     {"good.yaml": GOOD}, {}, 2, r"--cache_url: missing '\]'"),
    ("db_url_missing_schema", "cabench", [], {"good.yaml": GOOD},
     {"CABENCH_DB_URL": "mysql://cabench@127.0.0.1:3306/"}, 2,
     r"CABENCH_DB_URL: missing schema"),
    ("db_url_with_password", "cabench", [], {"good.yaml": GOOD},
     {"CABENCH_DB_URL": "mysql://cabench:" + PASSWORD + "@127.0.0.1:3306/cabench"}, 2,
     r"a password in the URL \(USER:PASSWORD@\) is not allowed"),
    ("db_url_flag_bad_schema_chars", "cabench", ["--db_url=mysql://u@127.0.0.1/a-b"],
     {"good.yaml": GOOD}, {}, 2, r"--db_url: schema 'a-b' must be"),
    ("password_file_missing", "cabench", [], {"good.yaml": GOOD},
     {"CABENCH_DB_PASSWORD": None, "CABENCH_DB_PASSWORD_FILE": "{tmp}/no_such_file"}, 2,
     r"CABENCH_DB_PASSWORD_FILE: cannot open"),
    ("remote_cache_without_allow_remote", "cabench", [], {"good.yaml": GOOD},
     {"CABENCH_CACHE_URL": "redis://192.0.2.1:6379/0"}, 2,
     r"endpoint host '192\.0\.2\.1' is not on loopback; pass --allow_remote"),
    ("cache_read_url_malformed", "cabench", [], {"good.yaml": GOOD},
     {"CABENCH_CACHE_READ_URL": "redis://127.0.0.1:/0"}, 2,
     r"CABENCH_CACHE_READ_URL: missing port number"),
    ("db_read_url_with_password", "cabench", [], {"good.yaml": GOOD},
     {"CABENCH_DB_READ_URL": "mysql://cabench:" + PASSWORD + "@127.0.0.1:3307/cabench"}, 2,
     r"CABENCH_DB_READ_URL: a password in the URL"),
    ("cache_read_url_beside_a_cluster", "cabench", [], {"good.yaml": GOOD},
     {"CABENCH_CACHE_URL": "redis-cluster://127.0.0.1:7000,127.0.0.1:7001/0",
      "CABENCH_CACHE_READ_URL": "redis://127.0.0.1:7002/0"}, 2,
     r"CABENCH_CACHE_READ_URL: read replicas are not supported with a cluster cache"),
    ("remote_replica_without_allow_remote", "cabench", [], {"good.yaml": GOOD},
     {"CABENCH_CACHE_READ_URL": "redis://192.0.2.1:6379/0"}, 2,
     r"endpoint host '192\.0\.2\.1' is not on loopback"),
    ("unreachable_cache", "cabench", ["--connect_timeout_ms=2000"], {"good.yaml": GOOD}, {}, 1,
     r"cache server at redis://127\.0\.0\.1:\d+/0: .*(refused|connect)"),
    # A cluster URL (redis-cluster://): database 0 only, well-formed node lists, every
    # node on loopback, and an unreachable cluster is a runtime error.
    ("cluster_url_db_not_zero", "cabench", [], {"good.yaml": GOOD},
     {"CABENCH_CACHE_URL": "redis-cluster://127.0.0.1:7000,127.0.0.1:7001/3"}, 2,
     r"CABENCH_CACHE_URL: database 3: a cluster has only database 0"),
    ("cluster_url_empty_node", "cabench", [], {"good.yaml": GOOD},
     {"CABENCH_CACHE_URL": "redis-cluster://127.0.0.1:7000,,127.0.0.1:7001/0"}, 2,
     r"CABENCH_CACHE_URL: empty node in the list"),
    ("cluster_url_flag_bad_port", "cabench", ["--cache_url=redis-cluster://127.0.0.1:7000,h:x/0"],
     {"good.yaml": GOOD}, {}, 2, r"--cache_url: port 'x' is not a number"),
    ("cluster_remote_node_without_allow_remote", "cabench", [], {"good.yaml": GOOD},
     {"CABENCH_CACHE_URL": "redis-cluster://127.0.0.1:7000,192.0.2.1:7001/0"}, 2,
     r"endpoint host '192\.0\.2\.1' is not on loopback; pass --allow_remote"),
    ("unreachable_cluster", "cabench", ["--connect_timeout_ms=2000"], {"good.yaml": GOOD},
     {"CABENCH_CACHE_URL": "redis-cluster://127.0.0.1:%d/0" % CLOSED_CACHE}, 1,
     r"cache server at redis-cluster://127\.0\.0\.1:\d+/0: .*(refused|connect)"),
    # cabench_load
    ("load_no_flags", "cabench_load", [], None, {}, 2, r"missing --preset"),
    ("load_unknown_preset", "cabench_load", ["--preset=huge"], None, {}, 2, r"huge"),
    ("load_bad_seed", "cabench_load", ["--preset=small", "--seed=abc"], None, {}, 2,
     r"bad number in '--seed=abc'"),
    ("load_unknown_flag", "cabench_load", ["--presets=small"], None, {}, 2,
     r"unknown flag '--presets'"),
    ("load_verify_with_preset", "cabench_load", ["--verify", "--preset=small"], None, {}, 2,
     r"--verify takes no other flags"),
    ("load_db_url_unset", "cabench_load", ["--preset=small"], None, {"CABENCH_DB_URL": None}, 2,
     r"CABENCH_DB_URL is not set"),
    ("load_unreachable_db", "cabench_load", ["--preset=small"], None, {}, 1,
     r"(refused|connect|2002|2003)"),
    # Sharded runs (lib/engine/shard.h): checked before any server is contacted.
    ("shard_index_out_of_range", "cabench", ["--shard_index=3", "--shard_count=3"],
     {"good.yaml": GOOD}, {}, 2, r"--shard_index: expected a shard index 0\.\.2"),
    ("shard_count_zero", "cabench", ["--shard_index=0", "--shard_count=0"], {"good.yaml": GOOD},
     {}, 2, r"--shard_count: expected a shard count 1\.\.1024"),
    ("shard_index_without_count", "cabench", ["--shard_index=1"], {"good.yaml": GOOD}, {}, 2,
     r"--shard_index needs a shard count"),
    ("slurm_procid_out_of_range", "cabench", [], {"good.yaml": GOOD},
     {"SLURM_PROCID": "4", "SLURM_NTASKS": "3"}, 2, r"SLURM_PROCID: expected a shard index"),
    ("shard_start_at_in_the_past", "cabench",
     ["--shard_index=0", "--shard_count=2", "--start_at=1000"], {"good.yaml": GOOD}, {}, 2,
     r"--start_at=1000 is \d+ ms in the past"),
    ("shard_without_start_at", "cabench", ["--shard_index=0", "--shard_count=2"],
     {"good.yaml": GOOD}, {}, 2, r"needs --start_at"),
    ("start_at_without_shards", "cabench", [f"--start_at={START_AT}"], {"good.yaml": GOOD}, {},
     2, r"--start_at and --run_id belong to a sharded run"),
    ("shard_two_benchmarks", "cabench",
     ["--shard_index=0", "--shard_count=2", f"--start_at={START_AT}"],
     {"a.yaml": GOOD.replace("good", "a"), "b.yaml": GOOD.replace("good", "b")}, {}, 2,
     r"a sharded run measures ONE benchmark"),
    ("shard_bad_run_id", "cabench",
     ["--shard_index=0", "--shard_count=2", f"--start_at={START_AT}", "--run_id=a/b"],
     {"good.yaml": GOOD}, {}, 2, r"--run_id: expected"),
]


def run(program, args, env_changes, tmp, scenario_dir):
    exe = CABENCH if program == "cabench" else CABENCH_LOAD
    env = dict(os.environ)
    for key in list(env):
        if key.startswith("CABENCH_"):
            del env[key]
    env.update(BASE_ENV)
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value.format(tmp=tmp, dir=scenario_dir)
    argv = [exe]
    if program == "cabench" and not any(a.startswith("--scenarios=") for a in args):
        argv.append("--scenarios=" + scenario_dir)
    argv += [a.format(tmp=tmp, dir=scenario_dir) for a in args]
    if program == "cabench":
        argv.append("--out_dir=" + os.path.join(tmp, "out"))
    return subprocess.run(argv, capture_output=True, env=env, timeout=TIMEOUT_S, cwd=tmp)


class BadInputTest(unittest.TestCase):

    def test_table_has_enough_cases(self):
        self.assertGreaterEqual(len(CASES), 25)
        self.assertEqual(len({c[0] for c in CASES}), len(CASES), "case names must be unique")

    def check(self, case):
        name, program, args, files, env_changes, code, pattern = case
        with tempfile.TemporaryDirectory() as tmp:
            scenario_dir = os.path.join(tmp, "scenarios")
            if files is not None:
                os.mkdir(scenario_dir)
                for fname, text in files.items():
                    with open(os.path.join(scenario_dir, fname), "wb") as f:
                        f.write(text.encode("utf-8", "surrogateescape"))
            start = time.monotonic()
            proc = run(program, args, env_changes, tmp, scenario_dir)
            elapsed = time.monotonic() - start
        stderr = proc.stderr.decode("utf-8", "replace")
        stdout = proc.stdout.decode("utf-8", "replace")
        where = "%s: exit %d after %.1fs\nstderr: %r\nstdout: %r" % (
            name, proc.returncode, elapsed, stderr[-2000:], stdout[-500:])
        self.assertGreaterEqual(proc.returncode, 0, "killed by a signal: " + where)
        self.assertEqual(proc.returncode, code, where)
        lines = [l for l in stderr.splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, "expected exactly one line on stderr: " + where)
        self.assertTrue(lines[0].startswith(program + ": "), where)
        self.assertRegex(lines[0], pattern, where)
        for bad in ("terminate called", "Sanitizer", "runtime error", "Aborted", "what()"):
            self.assertNotIn(bad, stderr, where)
        self.assertNotIn(PASSWORD, stderr + stdout, "the password leaked: " + where)

    def test_cases(self):
        for case in CASES:
            with self.subTest(case=case[0]):
                self.check(case)

    def test_remote_check_happens_before_connecting(self):
        """A remote endpoint without --allow_remote stops cabench before it
        connects to anything: a loopback listener posing as the other server
        sees no connection."""
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.settimeout(0.2)
        port = listener.getsockname()[1]
        accepted = []
        done = threading.Event()

        def accept():
            while not done.is_set():
                try:
                    conn, _ = listener.accept()
                    accepted.append(conn)
                except socket.timeout:
                    pass
                except OSError:
                    return

        thread = threading.Thread(target=accept)
        thread.start()
        try:
            for cache_url, db_url in [
                    ("redis://127.0.0.1:%d/0" % port, "mysql://cabench@192.0.2.7:3306/cabench"),
                    ("redis://[2001:db8::1]:6379/0", "mysql://cabench@127.0.0.1:%d/cabench" % port),
                    ("redis://cache.example.com:6379/0",
                     "mysql://cabench@127.0.0.1:%d/cabench" % port)]:
                with self.subTest(cache=cache_url, db=db_url), \
                        tempfile.TemporaryDirectory() as tmp:
                    sdir = os.path.join(tmp, "s")
                    os.mkdir(sdir)
                    with open(os.path.join(sdir, "good.yaml"), "w") as f:
                        f.write(GOOD)
                    proc = run("cabench", [], {"CABENCH_CACHE_URL": cache_url,
                                               "CABENCH_DB_URL": db_url}, tmp, sdir)
                    self.assertEqual(proc.returncode, 2, proc.stderr)
                    self.assertIn(b"--allow_remote", proc.stderr)
            time.sleep(0.3)
            self.assertEqual(accepted, [], "cabench connected before refusing a remote endpoint")
        finally:
            done.set()
            thread.join()
            listener.close()
            for conn in accepted:
                conn.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)

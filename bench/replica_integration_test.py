#!/usr/bin/env python3
"""Read replicas (issue 14), against servers of its own.

  replica_integration_test.py CABENCH CABENCH_LOAD SERVERS_SCRIPT

Starts its OWN servers with `tools/servers start --replicas` on ports derived
from its pid (never the servers in CABENCH_*), loads the small preset into the
primary, and checks:

- a short run with CABENCH_CACHE_READ_URL and CABENCH_DB_READ_URL: its GETs
  reach the cache replica (the replica's keyspace hits + misses grow by at
  least the reads, the primary's not at all), its misses' SELECTs the
  database replica (its Com_select grows), its INSERTs the primary (JSON
  db_inserts), the JSON has db_replica_lag_max_s and
  cache_replica_offset_lag_max and the replicas' URLs in its context (never
  the password), and the run's bookings are gone afterwards, on the primary
  and (replicated) on the replica;
- a READ URL that names a server that does not replicate (a primary, a
  replica whose replication was stopped) is refused before any benchmark
  runs, with one line and exit 2; a malformed one names its variable;
- tools/servers status lists the replicas, and a second start reuses them.
"""
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import unittest

CABENCH, CABENCH_LOAD, SERVERS = sys.argv[1:4]
del sys.argv[1:4]
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(SERVERS))))
from cabench_py import servers as srv  # noqa: E402

ENV = {}
PASSWORD = ""
LOADED_BOOKINGS = 0
THREADS = 2
QUERIES = 1500


def base_env(changes=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CABENCH_")}
    env.update(ENV)
    env.update(changes or {})
    return env


def sql(sock, query):
    """SQL as the OS user over one of our servers' sockets (no password)."""
    cmd = [shutil.which("mariadb") or "mysql", "--no-defaults", "--protocol=socket",
           "--socket=" + os.path.join(ENV["CABENCH_SERVERS_DIR"], sock),
           "--user=" + pwd.getpwuid(os.getuid()).pw_name, "-N", "-B", "-e", query]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise AssertionError("sql %r failed: %s" % (query, proc.stderr))
    return proc.stdout.strip()


def keyspace(url):
    """keyspace_hits + keyspace_misses of the cache at `url`."""
    host, port, _ = srv.parse_cache_url(url)
    with srv.Resp(host, port) as r:
        info = r.call("INFO", "stats").decode()
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    return int(fields["keyspace_hits"]) + int(fields["keyspace_misses"])


def com_select(sock):
    return int(sql(sock, "SHOW GLOBAL STATUS LIKE 'Com_select'").split()[1])


def bookings(sock):
    return int(sql(sock, "SELECT COUNT(*) FROM cabench.booking"))


def cabench(folder, env_changes=None, timeout=120):
    out = os.path.join(folder, "out.json")
    proc = subprocess.run(
        [CABENCH, "--scenarios=" + folder, "--out_dir=" + os.path.join(folder, "runs"),
         "--benchmark_out=" + out, "--benchmark_out_format=json"],
        capture_output=True, text=True, env=base_env(env_changes), timeout=timeout)
    return proc, out


def write_scenario(folder):
    with open(os.path.join(folder, "replicas.yaml"), "w") as f:
        f.write("name: replicas\nthreads: %d\nqueries_per_thread: %d\nread_pct: 90\n"
                "pool_size: 500\nttl_ms: 60000\nflush: true\nclean_end: true\n"
                "key_prefix: \"cabench:replicas:\"\n" % (THREADS, QUERIES))


def setUpModule():
    global ENV, PASSWORD, LOADED_BOOKINGS
    pid = os.getpid()
    last_error = ""
    for attempt in range(6):
        cache_port = 25000 + (pid * 7 + attempt * 131) % 4000 * 2
        db_port = cache_port + 10000
        ENV = {"CABENCH_CACHE_PORT": str(cache_port), "CABENCH_DB_PORT": str(db_port)}
        proc = subprocess.run([SERVERS, "start", "--replicas"], capture_output=True, text=True,
                              env=base_env(), timeout=180)
        if proc.returncode == 0:
            break
        last_error = proc.stderr
    else:
        raise AssertionError("could not start servers with replicas: " + last_error)
    ENV.update(srv.parse_exports(proc.stdout))
    ENV.pop("CABENCH_DB_PASSWORD", None)
    with open(ENV["CABENCH_DB_PASSWORD_FILE"]) as f:
        PASSWORD = f.readline().strip()
    load = subprocess.run([CABENCH_LOAD, "--preset=small"], capture_output=True, text=True,
                          env=base_env(), timeout=300)
    if load.returncode != 0:
        tearDownModule()
        raise AssertionError("cabench_load failed: " + load.stderr)
    LOADED_BOOKINGS = bookings("db.sock")


def tearDownModule():
    subprocess.run([SERVERS, "stop"], capture_output=True, text=True, env=base_env(), timeout=180)


class ReplicaTest(unittest.TestCase):
    def test_reads_go_to_the_replicas_and_writes_to_the_primaries(self):
        self.assertIn("CABENCH_CACHE_READ_URL", ENV)
        self.assertIn("CABENCH_DB_READ_URL", ENV)
        primary_gets = keyspace(ENV["CABENCH_CACHE_URL"])
        replica_gets = keyspace(ENV["CABENCH_CACHE_READ_URL"])
        replica_selects = com_select("db-replica.sock")
        with tempfile.TemporaryDirectory() as tmp:
            write_scenario(tmp)
            proc, out = cabench(tmp)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            with open(out) as f:
                text = f.read()
            report = json.loads(text)
        self.assertNotIn(PASSWORD, text + proc.stdout + proc.stderr)
        ctx = report["context"]
        self.assertEqual(ctx["cache_read_endpoint"], ENV["CABENCH_CACHE_READ_URL"])
        self.assertEqual(ctx["db_read_endpoint"], ENV["CABENCH_DB_READ_URL"])
        b = report["benchmarks"][0]
        self.assertIn("db_replica_lag_max_s", b)
        self.assertIn("cache_replica_offset_lag_max", b)
        self.assertGreaterEqual(b["db_replica_lag_max_s"], 0)
        self.assertGreaterEqual(b["cache_replica_offset_lag_max"], 0)
        reads = b["cache_hits"] + b["cache_misses"]
        self.assertGreater(reads, 0.8 * THREADS * QUERIES)
        self.assertGreater(b["cache_misses"], 0)
        # Every read's GET went to the replica; the primary served none (its
        # SETs and DELs count no hits or misses).
        self.assertGreaterEqual(keyspace(ENV["CABENCH_CACHE_READ_URL"]) - replica_gets, reads)
        self.assertEqual(keyspace(ENV["CABENCH_CACHE_URL"]), primary_gets)
        # Every miss's SELECT, and the refreshes', ran on the database replica.
        self.assertGreaterEqual(com_select("db-replica.sock") - replica_selects,
                                b["cache_misses"])
        self.assertGreater(b["db_inserts"], 0)  # the primary's Com_insert
        self.assertGreaterEqual(b["db_inserts"], b["writes"])
        # The run's rows were removed, on the primary and through replication.
        self.assertEqual(bookings("db.sock"), LOADED_BOOKINGS)
        pos = sql("db.sock", "SELECT @@GLOBAL.gtid_binlog_pos")
        self.assertEqual(sql("db-replica.sock", "SELECT MASTER_GTID_WAIT('%s', 30)" % pos), "0")
        self.assertEqual(bookings("db-replica.sock"), LOADED_BOOKINGS)

    def test_status_and_a_second_start_include_the_replicas(self):
        status = subprocess.run([SERVERS, "status"], capture_output=True, text=True,
                                env=base_env(), timeout=60)
        self.assertEqual(status.returncode, 0, status.stdout + status.stderr)
        for name in ("cache:", "db:", "cache-replica:", "db-replica:"):
            self.assertRegex(status.stdout, r"(?m)^%s\s+running" % name)
        # A plain start reuses them and prints the same lines, read URLs too.
        again = subprocess.run([SERVERS, "start"], capture_output=True, text=True,
                               env=base_env(), timeout=60)
        self.assertEqual(again.returncode, 0, again.stderr)
        exports = srv.parse_exports(again.stdout)
        for name in ("CABENCH_CACHE_READ_URL", "CABENCH_DB_READ_URL", "CABENCH_CACHE_URL"):
            self.assertEqual(exports[name], ENV[name])

    def assertRefused(self, changes, *words):
        with tempfile.TemporaryDirectory() as tmp:
            write_scenario(tmp)
            proc, out = cabench(tmp, changes)
            self.assertFalse(os.path.exists(out))
        self.assertEqual(proc.returncode, 2, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, proc.stderr)
        for word in words:
            self.assertIn(word, lines[0])

    def test_a_read_url_that_does_not_replicate_is_refused(self):
        # The primaries themselves: a master, and no SHOW SLAVE STATUS.
        self.assertRefused({"CABENCH_CACHE_READ_URL": ENV["CABENCH_CACHE_URL"]},
                           "CABENCH_CACHE_READ_URL", "role:master")
        self.assertRefused({"CABENCH_DB_READ_URL": ENV["CABENCH_DB_URL"]},
                           "CABENCH_DB_READ_URL", "not a replica")
        self.assertRefused({"CABENCH_DB_READ_URL": "mysql://cabench@127.0.0.1/"},
                           "CABENCH_DB_READ_URL")
        # A replica whose replication was stopped.
        sql("db-replica.sock", "STOP SLAVE")
        try:
            self.assertRefused({}, "CABENCH_DB_READ_URL", "Slave_IO_Running No")
        finally:
            sql("db-replica.sock", "START SLAVE")


if __name__ == "__main__":
    unittest.main(verbosity=2)

#!/usr/bin/env python3
"""Faults, safety and server-side bad input, against servers of its own.

  fault_integration_test.py CABENCH CABENCH_LOAD SERVERS_SCRIPT [TEST...]

TEST: unittest names (FaultTest, SafetyTest.test_password_is_nowhere, ...);
every test by default. ctest runs it in three parts side by side, each a
process with servers of its own.

This test starts its OWN throwaway servers with tools/servers, on a port pair
derived from its pid (never the servers in CABENCH_*: it stops, pauses and
restarts the servers it uses), loads the small preset, and checks:

Faults during a run (issue 6, point 1): the cache restarted, the cache paused
(SIGSTOP) for 2 s, the database restarted, every connection reset (CLIENT
KILL + KILL CONNECTION), and a cache outage with fallback_to_db. Each run
completes (exit 0), counts every failed operation in errors and by kind,
reconnects (counted) and recovers, keeps reads + writes + errors equal to the
operations attempted, never lets an operation wait past the configured
timeout, and leaves the booking count as loaded.

Safety (point 3): other applications' keys survive a run; cabench refuses a
schema without the cabench mark and writes nothing into it; the bookings of a
run are removed when it fails midway (SIGTERM) and the leftovers of a
SIGKILLed run by the next run, while another application's bookings of every
seat shape, inserted meanwhile, survive; the password is in no output, JSON, time
series, log or command line (sampled with ps while a run is in progress and
while tools/servers starts).

Bad input that needs a server (point 2): wrong password, missing schema,
unmarked schema, unreachable database, a filter that matches nothing.
"""
import glob
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

CABENCH, CABENCH_LOAD, SERVERS = sys.argv[1:4]
del sys.argv[1:4]

RUN_TIMEOUT_S = 300  # any single cabench run; a hang fails the test
TIMEOUT_MS = 300     # --timeout_ms for fault runs
RUN_SECONDS = 20     # fault runs are sized to last about this long (at the
                     # calibrated rate; a faster machine still leaves ~10 s)
THREADS = 2

ENV = {}       # CABENCH_* of our servers (set in setUpModule)
SERVERS_DIR = ""
PASSWORD = ""
LOADED_BOOKINGS = 0
OPS_PER_S_PER_THREAD = 0.0
PS_SAMPLES_AT_START = []


def base_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("CABENCH_")}
    env.update(ENV)
    return env


def servers(*args, check=True, timeout=180):
    proc = subprocess.run([SERVERS, *args], capture_output=True, text=True, env=base_env(),
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError("tools/servers %s failed: %s" % (" ".join(args), proc.stderr))
    return proc


def sql(query, schema=""):
    """Runs SQL as the OS user over our server's socket (no password)."""
    cmd = [shutil.which("mariadb") or "mysql", "--no-defaults", "--protocol=socket",
           "--socket=" + os.path.join(SERVERS_DIR, "db.sock"),
           "--user=" + pwd.getpwuid(os.getuid()).pw_name, "-N", "-B", "-e", query]
    if schema:
        cmd.append(schema)
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise AssertionError("sql %r failed: %s" % (query, proc.stderr))
    return proc.stdout.strip()


def booking_count(schema="cabench"):
    return int(sql("SELECT COUNT(*) FROM %s.booking" % schema))


FOREIGN_PRICE = "1.23"  # marks the rows insert_foreign() writes
SLOT_CHARS = "0123456789abcdefghijklmnopqrstuvwxyz"


def insert_foreign(flight):
    """Another application's bookings of every seat shape on `flight`, in one
    statement: a 4-character seat starting with every run slot's character
    (whichever slot a run holds, its own included), 2- and 3-character seats
    starting with each, a seat like the loader's and a NULL seat. None can
    collide with a run's seats (theirs end in the thread's digit, 0-1 here)
    or the loader's (rows 1-60, letters A-F). Returns how many."""
    seats = (["'%sfqx'" % c for c in SLOT_CHARS] + ["'%sQ'" % c for c in SLOT_CHARS] +
             ["'%sQZ'" % c for c in SLOT_CHARS] + ["'61A'", "NULL"])
    sql("INSERT INTO cabench.booking (flight_id, seat, passenger_id, price) VALUES " +
        ",".join("(%d, %s, 7, %s)" % (flight, seat, FOREIGN_PRICE) for seat in seats))
    return len(seats)


def foreign_count():
    return int(sql("SELECT COUNT(*) FROM cabench.booking WHERE price = %s" % FOREIGN_PRICE))


def redis(*args, port=None, db=0):
    """One command to our cache over RESP; returns the decoded reply."""
    port = port or int(re.search(r":(\d+)/", ENV["CABENCH_CACHE_URL"]).group(1))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        f = s.makefile("rb")

        def send(parts):
            out = b"*%d\r\n" % len(parts)
            for p in parts:
                p = p if isinstance(p, bytes) else str(p).encode()
                out += b"$%d\r\n%s\r\n" % (len(p), p)
            s.sendall(out)

        def read():
            line = f.readline()
            kind, rest = line[:1], line[1:-2]
            if kind in (b"+",):
                return rest.decode()
            if kind == b"-":
                raise AssertionError("redis error: " + rest.decode())
            if kind == b":":
                return int(rest)
            if kind == b"$":
                n = int(rest)
                if n < 0:
                    return None
                data = f.read(n + 2)[:-2]
                return data.decode()
            if kind == b"*":
                n = int(rest)
                return None if n < 0 else [read() for _ in range(n)]
            raise AssertionError("bad reply %r" % line)

        if db:
            send(["SELECT", db])
            read()
        send(list(args))
        return read()


def write_scenario(folder, name, **fields):
    os.makedirs(folder, exist_ok=True)
    text = "name: %s\n" % name
    for key, value in fields.items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, str):
            value = json.dumps(value)  # a YAML double-quoted string
        text += "%s: %s\n" % (key, value)
    with open(os.path.join(folder, name + ".yaml"), "w") as f:
        f.write(text)


class Run:
    """One cabench run in the background: stderr is read line by line so
    that a fault can be triggered once the timed loop is under way."""

    def __init__(self, tmp, scenario_fields, flags=(), env_changes=None, name="fault"):
        self.out = os.path.join(tmp, "out")
        self.json_path = os.path.join(tmp, "cabench.json")
        scenarios = os.path.join(tmp, "scenarios")
        write_scenario(scenarios, name, **scenario_fields)
        env = base_env()
        env.update(env_changes or {})
        self.cmd = [CABENCH, "--scenarios=" + scenarios, "--out_dir=" + self.out,
                    "--benchmark_out=" + self.json_path, "--benchmark_out_format=json", *flags]
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env)
        self.stderr_lines = []
        self.progress = threading.Event()
        self.stdout = ""
        self._reader = threading.Thread(target=self._read_stderr)
        self._reader.start()
        self._out_reader = threading.Thread(target=self._read_stdout)
        self._out_reader.start()

    def _read_stderr(self):
        for line in self.proc.stderr:
            self.stderr_lines.append(line)
            if re.search(r"cabench: CacheAside/.*: \d+% \(", line):
                self.progress.set()

    def _read_stdout(self):
        self.stdout = self.proc.stdout.read()

    def wait_for_loop(self, timeout=60):
        """Returns once the timed loop has run for ~2 s (first progress line);
        fails when cabench ended (or hung) before that."""
        deadline = time.monotonic() + timeout
        while not self.progress.wait(0.1):
            if self.proc.poll() is not None:
                raise AssertionError("cabench ended before its loop ran 2 s (exit %d): %s" %
                                     (self.proc.returncode, "".join(self.stderr_lines)[-2000:]))
            if time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError("no progress line from cabench within %ds: %s" %
                                     (timeout, "".join(self.stderr_lines)[-2000:]))

    def finish(self, timeout=RUN_TIMEOUT_S):
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("cabench hung: " + "".join(self.stderr_lines[-20:]))
        self._reader.join()
        self._out_reader.join()
        self.proc.stdout.close()
        self.proc.stderr.close()
        self.stderr = "".join(self.stderr_lines)
        return self.proc.returncode

    def report(self):
        with open(self.json_path) as f:
            return json.load(f)

    def series(self):
        files = sorted(glob.glob(os.path.join(self.out, "series", "*.json")))
        result = []
        for name in files:
            with open(name) as f:
                result.append(json.load(f))
        return result


def run_to_end(scenario_fields, flags=(), env_changes=None, name="fault"):
    with tempfile.TemporaryDirectory() as tmp:
        r = Run(tmp, scenario_fields, flags, env_changes, name)
        rc = r.finish()
        report = r.report() if os.path.exists(r.json_path) else None
        return rc, r, report


def setUpModule():
    global ENV, SERVERS_DIR, PASSWORD, LOADED_BOOKINGS, OPS_PER_S_PER_THREAD
    # A port pair of our own, from the pid; another if taken.
    pid = os.getpid()
    last_error = ""
    for attempt in range(6):
        cache_port = 21000 + (pid * 7 + attempt * 131) % 8000
        db_port = cache_port + 10000
        ENV = {"CABENCH_CACHE_PORT": str(cache_port), "CABENCH_DB_PORT": str(db_port)}
        sampler = PsSampler()
        sampler.start()
        proc = subprocess.run([SERVERS, "start"], capture_output=True, text=True,
                              env=base_env(), timeout=180)
        sampler.stop()
        if proc.returncode == 0:
            break
        last_error = proc.stderr
    else:
        raise AssertionError("could not start servers: " + last_error)
    PS_SAMPLES_AT_START.extend(sampler.samples)
    for line in proc.stdout.splitlines():
        m = re.match(r"export (CABENCH_\w+)=(.*)$", line)
        if m:
            value = m.group(2)
            if value.startswith("'") and value.endswith("'"):
                value = value[1:-1]
            ENV[m.group(1)] = value
    ENV.pop("CABENCH_DB_PASSWORD", None)
    SERVERS_DIR = ENV["CABENCH_SERVERS_DIR"]
    with open(ENV["CABENCH_DB_PASSWORD_FILE"]) as f:
        PASSWORD = f.readline().strip()
    assert len(PASSWORD) >= 16, "tools/servers made a short password"
    load = subprocess.run([CABENCH_LOAD, "--preset=small"], capture_output=True, text=True,
                          env=base_env(), timeout=600)
    if load.returncode != 0:
        servers("stop", check=False)
        raise AssertionError("cabench_load failed: " + load.stderr)
    LOADED_BOOKINGS = booking_count()
    # Calibrate: how fast this machine (and build) runs the fault scenario
    # once its cache is warm (the sized runs start cold, so they run slower
    # than this and last at least as long as asked).
    rc, r, report = run_to_end(fault_fields(2000, warmup_ops=8000))
    if rc != 0:
        servers("stop", check=False)
        raise AssertionError("calibration run failed: " + r.stderr)
    b = report["benchmarks"][0]
    OPS_PER_S_PER_THREAD = max(200.0, b["ops_per_s"] / THREADS)
    print("calibration: %.0f ops/s per thread" % OPS_PER_S_PER_THREAD, file=sys.stderr)


def tearDownModule():
    if ENV:
        servers("stop", check=False)


def fault_fields(queries, **extra):
    fields = {"threads": THREADS, "queries_per_thread": queries, "read_pct": 90,
              "pool_size": 2000, "key_prefix": "cabench:fault:", "clean_end": True}
    fields.update(extra)
    return fields


def sized_queries(seconds=RUN_SECONDS):
    return int(OPS_PER_S_PER_THREAD * seconds)


class PsSampler:
    """Samples `ps -eo args` in the background."""

    def __init__(self):
        self.samples = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop)

    def _loop(self):
        while not self._stop.is_set():
            out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
            self.samples.append(out)
            self._stop.wait(0.05)

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join()


class FaultTest(unittest.TestCase):

    def check_counts(self, b, queries):
        attempted = queries * b["threads"]
        self.assertEqual(b["iterations"], attempted)
        self.assertEqual(b["reads"] + b["writes"] + b["errors"], attempted, b)
        self.assertEqual(b["cache_hits"] + b["cache_misses"] + b["fallback_reads"], b["reads"], b)
        self.assertEqual(b["errors_cache"] + b["errors_db"], b["errors"], b)
        self.assertAlmostEqual(b["ops_per_s"] * b["wall_s"] / b["ops"], 1.0, delta=0.01)

    def check_recovered(self, run, b):
        """Some second after the first failure had successes and no error."""
        if b["errors"] == 0:
            return  # nothing failed (fallback): nothing to recover from
        (series,) = run.series()
        seconds = sorted(series.items(), key=lambda kv: int(kv[0]))
        first_error = next((i for i, (_, s) in enumerate(seconds) if s["errors"] > 0), None)
        self.assertIsNotNone(first_error, "no error in the time series")
        after = [s for _, s in seconds[first_error + 1:]
                 if s["errors"] == 0 and s["count"] > 0]
        self.assertTrue(after, "the run never recovered: %s" % seconds)

    def fault_run(self, fault, timeout_ms=TIMEOUT_MS, seconds=RUN_SECONDS, **extra):
        queries = sized_queries(seconds)
        with tempfile.TemporaryDirectory() as tmp:
            run = Run(tmp, fault_fields(queries, **extra), ["--timeout_ms=%d" % timeout_ms])
            run.wait_for_loop()
            fault()
            rc = run.finish()
            self.assertEqual(rc, 0, run.stderr[-3000:])
            (b,) = run.report()["benchmarks"]
            self.assertFalse(b.get("error_occurred"), b.get("error_message"))
            self.check_counts(b, queries)
            self.check_recovered(run, b)
            # No operation waited past the timeout. The database rounds its
            # timeout up to whole seconds; one second of slack for a loaded
            # machine.
            bound_us = (max(timeout_ms, -(-timeout_ms // 1000) * 1000) + 1000) * 1000
            self.assertLessEqual(b["max_us"], bound_us, b)
            self.assertLessEqual(b.get("error_max_us", 0), bound_us, b)
            self.assertEqual(booking_count(), LOADED_BOOKINGS, "the run left bookings behind")
            return b, run

    def test_cache_restart(self):
        b, _ = self.fault_run(lambda: servers("restart", "cache"))
        self.assertGreater(b["errors_cache"], 0, b)
        self.assertEqual(b["errors_db"], 0, b)
        self.assertGreaterEqual(b["reconnects"], b["threads"], b)
        self.assertGreater(b["reads"], 0)

    def test_cache_paused_two_seconds(self):
        b, _ = self.fault_run(lambda: servers("pause", "cache", "2"))
        self.assertGreater(b["errors_cache"], 0, b)
        self.assertGreaterEqual(b["reconnects"], b["threads"], b)
        # Each thread's first failure is a timed-out command (the server is
        # frozen, not gone): it waited about the timeout, not longer.
        self.assertGreaterEqual(b["error_max_us"], TIMEOUT_MS * 1000 * 0.9, b)

    def test_database_restart(self):
        b, _ = self.fault_run(lambda: servers("restart", "db"), timeout_ms=1000)
        self.assertGreater(b["errors_db"], 0, b)
        self.assertGreaterEqual(b["reconnects"], b["threads"], b)

    def test_connections_reset(self):
        def reset():
            killed = redis("CLIENT", "KILL", "TYPE", "normal")
            self.assertGreaterEqual(killed, THREADS)
            ids = sql("SELECT id FROM information_schema.processlist WHERE user = 'cabench'")
            ids = ids.split()
            self.assertGreaterEqual(len(ids), THREADS)
            for conn in ids:
                try:
                    sql("KILL CONNECTION %s" % conn)
                except AssertionError as e:  # gone in between: fine
                    if "Unknown thread id" not in str(e):
                        raise
        b, _ = self.fault_run(reset)
        self.assertGreater(b["errors"], 0, b)
        self.assertGreaterEqual(b["reconnects"], 2 * THREADS, b)  # both clients, every thread

    def test_cache_outage_falls_back_to_the_database(self):
        # All reads, mostly hits: about three times the calibrated rate.
        b, _ = self.fault_run(lambda: servers("restart", "cache"), seconds=3 * RUN_SECONDS,
                              fallback_to_db=True, read_pct=100)
        self.assertGreater(b["fallback_reads"], 0, b)
        self.assertGreaterEqual(b["reconnects"], b["threads"], b)
        # Reads fall back; only a SET racing with the outage can fail, once
        # per thread (its GET succeeded just before the cache went away).
        self.assertLessEqual(b["errors"], 2 * b["threads"], b)


class RunOwnershipTest(unittest.TestCase):
    """A run owns exactly its rows (lib/dataset/run_ledger.h): it removes the
    bookings it inserted and nothing else; a killed run's rows are removed by
    a later run only once its owner is gone."""

    def test_two_processes_on_one_schema_both_run_and_the_count_is_kept(self):
        queries = sized_queries(4)
        with tempfile.TemporaryDirectory() as a_tmp, tempfile.TemporaryDirectory() as b_tmp:
            a = Run(a_tmp, fault_fields(queries, read_pct=50, key_prefix="cabench:own_a:"),
                    name="own_a")
            b = Run(b_tmp, fault_fields(queries, read_pct=50, key_prefix="cabench:own_b:"),
                    name="own_b")
            a.wait_for_loop()
            b.wait_for_loop()
            self.assertEqual(a.finish(), 0, a.stderr[-2000:])
            self.assertEqual(b.finish(), 0, b.stderr[-2000:])
            for run in (a, b):
                (bench,) = run.report()["benchmarks"]
                self.assertGreater(bench["writes"], 0)
                self.assertEqual(bench["bookings_removed"], bench["writes"], bench)
        self.assertEqual(booking_count(), LOADED_BOOKINGS)

    def test_a_paused_run_keeps_its_rows_until_it_ends(self):
        """Run A is frozen mid-run (alive, its slot held); run B starts, runs
        and ends meanwhile and must not touch A's rows; A then finishes and
        removes them."""
        with tempfile.TemporaryDirectory() as a_tmp:
            a = Run(a_tmp, fault_fields(sized_queries(8), read_pct=0,
                                        key_prefix="cabench:own_a:"), name="own_a")
            a.wait_for_loop()
            os.kill(a.proc.pid, signal.SIGSTOP)
            try:
                time.sleep(0.5)  # the statement in flight completes
                a_rows = booking_count() - LOADED_BOOKINGS
                self.assertGreater(a_rows, 0)
                rc, r, report = run_to_end(fault_fields(300, read_pct=50,
                                                        key_prefix="cabench:own_b:"),
                                           name="own_b")
                self.assertEqual(rc, 0, r.stderr[-2000:])
                self.assertNotIn("left by run", r.stderr)
                self.assertEqual(booking_count() - LOADED_BOOKINGS, a_rows)
            finally:
                os.kill(a.proc.pid, signal.SIGCONT)
            self.assertEqual(a.finish(), 0, a.stderr[-2000:])
        self.assertEqual(booking_count(), LOADED_BOOKINGS)

    def test_rows_someone_else_writes_during_a_run_survive_it(self):
        """Another client inserts bookings of every seat shape while a run
        inserts its own, and between runs: all of them survive, and none of
        the runs' rows do."""
        self.assertEqual(foreign_count(), 0)
        inserted = 0
        try:
            with tempfile.TemporaryDirectory() as tmp:
                run = Run(tmp, fault_fields(sized_queries(8), read_pct=50))
                run.wait_for_loop()
                for flight in (1, 2, 3):
                    inserted += insert_foreign(flight)
                    time.sleep(0.2)
                self.assertIsNone(run.proc.poll(), "the run ended before the last insert")
                self.assertEqual(run.finish(), 0, run.stderr[-2000:])
                (bench,) = run.report()["benchmarks"]
                self.assertEqual(bench["bookings_removed"], bench["writes"], bench)
            self.assertEqual(foreign_count(), inserted)
            self.assertEqual(booking_count(), LOADED_BOOKINGS + inserted)
            # ... between runs, and the next run leaves them all too.
            inserted += insert_foreign(4)
            rc, r, report = run_to_end(fault_fields(200, read_pct=0))
            self.assertEqual(rc, 0, r.stderr[-2000:])
            self.assertEqual(report["benchmarks"][0]["bookings_removed"], 400)
            self.assertEqual(foreign_count(), inserted)
            self.assertEqual(booking_count(), LOADED_BOOKINGS + inserted)
        finally:
            sql("DELETE FROM cabench.booking WHERE price = %s" % FOREIGN_PRICE)
        self.assertEqual(booking_count(), LOADED_BOOKINGS)

    def test_a_schema_of_an_older_load_gains_the_run_column(self):
        """A schema loaded before booking.cabench_run existed: cabench adds
        the column (and cabench_runs' run_no) and runs as usual."""
        sql("ALTER TABLE cabench.booking DROP COLUMN cabench_run")
        if sql("SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = "
               "'cabench' AND table_name = 'cabench_runs' AND column_name = 'run_no'") == "1":
            sql("ALTER TABLE cabench.cabench_runs DROP COLUMN run_no, DROP COLUMN marks_rows")
        rc, r, report = run_to_end(fault_fields(300, read_pct=0))
        self.assertEqual(rc, 0, r.stderr[-2000:])
        (bench,) = report["benchmarks"]
        self.assertEqual(bench["bookings_removed"], 600)
        self.assertEqual(sql("SELECT COUNT(*) FROM information_schema.columns WHERE "
                             "table_schema = 'cabench' AND table_name = 'booking' AND "
                             "column_name = 'cabench_run' AND is_nullable = 'YES'"), "1")
        self.assertEqual(booking_count(), LOADED_BOOKINGS)
        self.assertEqual(int(sql("SELECT COUNT(*) FROM cabench.booking WHERE "
                                 "cabench_run IS NOT NULL")), 0)

    def test_an_empty_booking_table_is_left_empty(self):
        sql("CREATE DATABASE IF NOT EXISTS cabench_empty")
        try:
            url = ENV["CABENCH_DB_URL"].rsplit("/", 1)[0] + "/cabench_empty"
            env = base_env()
            env["CABENCH_DB_URL"] = url
            load = subprocess.run([CABENCH_LOAD, "--preset=small", "--bookings-per-passenger=0"],
                                  capture_output=True, text=True, env=env, timeout=600)
            self.assertEqual(load.returncode, 0, load.stderr)
            self.assertEqual(booking_count("cabench_empty"), 0)
            rc, r, report = run_to_end(fault_fields(300, read_pct=0, key_prefix="cabench:empty:"),
                                       env_changes={"CABENCH_DB_URL": url}, name="empty")
            self.assertEqual(rc, 0, r.stderr[-2000:])
            (bench,) = report["benchmarks"]
            self.assertEqual(bench["writes"], 600)
            self.assertEqual(bench["bookings_removed"], 600)
            self.assertEqual(booking_count("cabench_empty"), 0)
        finally:
            sql("DROP DATABASE IF EXISTS cabench_empty")


class SafetyTest(unittest.TestCase):

    def test_other_applications_keys_survive(self):
        foreign = {
            "otherapp:session:1": "alice",
            "cabench:bookings": "no trailing colon",  # prefix minus its last char
            "cabench:booking:5": "singular",
            "cabench:bookingsX:5": "longer word",
            "Cabench:bookings:5": "other case",
            "cabench:safety*x": "glob character in another app's key",
        }
        for key, value in foreign.items():
            self.assertEqual(redis("SET", key, value), "OK")
        redis("SET", "otherapp:ttl", "v", "PX", "600000")
        redis("HSET", "otherapp:hash", "f", "v")
        # The same key name as cabench's own, in another database.
        redis("SET", "cabench:safety:5", "db1", db=1)
        try:
            rc, r, _ = run_to_end({"threads": 2, "queries_per_thread": 2000,
                                   "key_prefix": "cabench:safety:", "warmup_ops": 200,
                                   "clean_end": True, "flush": True}, name="safety")
            self.assertEqual(rc, 0, r.stderr)
            for key, value in foreign.items():
                self.assertEqual(redis("GET", key), value, key)
            self.assertGreater(redis("PTTL", "otherapp:ttl"), 0)
            self.assertEqual(redis("HGET", "otherapp:hash", "f"), "v")
            self.assertEqual(redis("GET", "cabench:safety:5", db=1), "db1")
            # Its own keys are gone (clean_end).
            self.assertEqual(redis("KEYS", "cabench:safety:*"), [])
        finally:
            redis("DEL", *foreign, "otherapp:ttl", "otherapp:hash")
            redis("DEL", "cabench:safety:5", db=1)

    def test_refuses_a_schema_without_the_mark_and_writes_nothing(self):
        sql("CREATE DATABASE IF NOT EXISTS foreign_app")
        try:
            for table in ("passenger", "flight", "booking"):
                sql("CREATE TABLE foreign_app.%s LIKE cabench.%s" % (table, table))
                sql("INSERT INTO foreign_app.%s SELECT * FROM cabench.%s LIMIT 100" %
                    (table, table))
            before = booking_count("foreign_app")
            url = ENV["CABENCH_DB_URL"].rsplit("/", 1)[0] + "/foreign_app"
            rc, r, _ = run_to_end({"queries_per_thread": 100}, name="unmarked",
                                  env_changes={"CABENCH_DB_URL": url})
            self.assertEqual(rc, 1, r.stderr)
            self.assertIn("not a cabench schema", r.stderr)
            self.assertEqual(booking_count("foreign_app"), before)
            tables = sql("SELECT GROUP_CONCAT(table_name ORDER BY table_name) FROM "
                         "information_schema.tables WHERE table_schema = 'foreign_app'")
            self.assertEqual(tables, "booking,flight,passenger")
        finally:
            sql("DROP DATABASE IF EXISTS foreign_app")

    def test_sigterm_mid_run_removes_the_runs_bookings(self):
        queries = sized_queries(60)
        with tempfile.TemporaryDirectory() as tmp:
            run = Run(tmp, fault_fields(queries, read_pct=50))
            run.wait_for_loop()
            self.assertGreater(booking_count(), LOADED_BOOKINGS)  # it is writing
            run.proc.send_signal(signal.SIGTERM)
            rc = run.finish(timeout=60)
            self.assertEqual(rc, 128 + signal.SIGTERM, run.stderr[-2000:])
            self.assertIn("interrupted by signal %d" % signal.SIGTERM, run.stderr)
        self.assertEqual(booking_count(), LOADED_BOOKINGS)

    def test_cache_dies_mid_run_and_bookings_are_still_removed(self):
        """The cache goes away for good: the run fails once the outage
        exceeds --max_outage_ms, and still removes the bookings it inserted."""
        port = int(re.search(r":(\d+)/", ENV["CABENCH_CACHE_URL"]).group(1))
        queries = sized_queries(30)
        with tempfile.TemporaryDirectory() as tmp:
            run = Run(tmp, fault_fields(queries, read_pct=50),
                      ["--timeout_ms=300", "--max_outage_ms=2000"])
            run.wait_for_loop()
            with open(os.path.join(SERVERS_DIR, "cache.pid")) as f:
                cache_pid = int(f.read().split()[0])
            os.kill(cache_pid, signal.SIGKILL)  # our own cache, gone for good
            killed_at = time.monotonic()
            rc = run.finish(timeout=120)
            took = time.monotonic() - killed_at
            try:
                self.assertEqual(rc, 1, run.stderr[-2000:])
                self.assertRegex(run.stderr, r"cache server unavailable for \d+ ms \(more than "
                                             r"the allowed 2000 ms\)")
                (b,) = run.report()["benchmarks"]
                self.assertTrue(b.get("error_occurred"), b)
                self.assertLess(took, 60, "the failed run took too long to end")
            finally:
                servers("restart", "cache")
        self.assertEqual(booking_count(), LOADED_BOOKINGS)
        self.assertEqual(redis("PING", port=port), "PONG")

    def test_sigkilled_runs_leftovers_are_removed_by_the_next_run(self):
        """A SIGKILLed run leaves its rows; the next run removes exactly
        those, not the rows of every seat shape that another client inserted
        during the killed run and after it."""
        self.assertEqual(foreign_count(), 0)
        foreign = 0
        try:
            queries = sized_queries(60)
            with tempfile.TemporaryDirectory() as tmp:
                run = Run(tmp, fault_fields(queries, read_pct=0))
                run.wait_for_loop()
                for flight in (1, 2):
                    foreign += insert_foreign(flight)
                    time.sleep(0.2)
                self.assertIsNone(run.proc.poll(), "the run ended before the kill")
                run.proc.kill()
                run.finish(timeout=60)
            time.sleep(1)  # the server finishes the killed client's last statement
            foreign += insert_foreign(3)
            left = booking_count() - LOADED_BOOKINGS - foreign
            self.assertGreater(left, 0, "the killed run inserted nothing?")
            rc, r, _ = run_to_end(fault_fields(100))
            self.assertEqual(rc, 0, r.stderr)
            self.assertRegex(r.stderr, r"removed %d booking\(s\) left by run \S+ \(host \S+, "
                                       r"pid %d, started [^)]+\), which ended without cleaning up"
                                       % (left, run.proc.pid))
            self.assertEqual(foreign_count(), foreign)
            self.assertEqual(booking_count(), LOADED_BOOKINGS + foreign)
        finally:
            sql("DELETE FROM cabench.booking WHERE price = %s" % FOREIGN_PRICE)
        self.assertEqual(booking_count(), LOADED_BOOKINGS)

    def test_password_is_nowhere(self):
        # tools/servers start ran while ps was being sampled (setUpModule).
        self.assertTrue(PS_SAMPLES_AT_START)
        for sample in PS_SAMPLES_AT_START:
            self.assertNotIn(PASSWORD, sample, "tools/servers put the password on a command line")
        for how in ("file", "env"):
            env = None
            if how == "env":
                env = {"CABENCH_DB_PASSWORD": PASSWORD, "CABENCH_DB_PASSWORD_FILE": ""}
            with self.subTest(password_from=how), tempfile.TemporaryDirectory() as tmp:
                run = Run(tmp, fault_fields(sized_queries(10)), env_changes=env)
                sampler = PsSampler()
                sampler.start()
                run.wait_for_loop()
                sampler.stop()
                rc = run.finish()
                self.assertEqual(rc, 0, run.stderr[-2000:])
                self.assertTrue(any("cabench --scenarios" in s or CABENCH in s
                                    for s in sampler.samples), "ps never saw cabench")
                for sample in sampler.samples:
                    self.assertNotIn(PASSWORD, sample)
                self.assertNotIn(PASSWORD, run.stdout + run.stderr)
                for root, _, files in os.walk(tmp):
                    for name in files:
                        with open(os.path.join(root, name), "rb") as f:
                            self.assertNotIn(PASSWORD.encode(), f.read(), name)
        for log in ("cache.log", "db.log", "cache.conf"):
            path = os.path.join(SERVERS_DIR, log)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    self.assertNotIn(PASSWORD.encode(), f.read(), log)


# Bad input that needs a server: (name, program, args, env changes, exit
# status, regex the single stderr line must match).
SERVER_CASES = [
    ("wrong_password", "cabench", [], {"CABENCH_DB_PASSWORD": "wrong-password-1"}, 1,
     r"^cabench: database at mysql://cabench@127\.0\.0\.1:\d+/cabench: mysql 1045: "
     r"Access denied"),
    ("wrong_password_load", "cabench_load", ["--verify"],
     {"CABENCH_DB_PASSWORD": "wrong-password-1"}, 1, r"^cabench_load: .*Access denied"),
    ("missing_schema", "cabench", [], {"db_schema": "no_such_schema"}, 1,
     r"^cabench: database at .*/no_such_schema: mysql 1049: Unknown database"),
    ("schema_without_mark", "cabench", [], {"db_schema": "mysql"}, 1,
     r"^cabench: database at .*/mysql: schema 'mysql' is not a cabench schema"),
    ("unreachable_database", "cabench", [], {"db_port": "closed"}, 1,
     r"^cabench: database at mysql://cabench@127\.0\.0\.1:\d+/cabench: mysql 200[23]"),
    ("load_into_foreign_schema", "cabench_load", ["--preset=small"], {"db_schema": "mysql"}, 1,
     r"^cabench_load: .*mysql"),
]


class ServerBadInputTest(unittest.TestCase):

    def test_server_cases(self):
        for name, program, args, changes, code, pattern in SERVER_CASES:
            with self.subTest(case=name), tempfile.TemporaryDirectory() as tmp:
                env = base_env()
                url = env["CABENCH_DB_URL"]
                changes = dict(changes)
                if "db_schema" in changes:
                    url = url.rsplit("/", 1)[0] + "/" + changes.pop("db_schema")
                if changes.pop("db_port", None):
                    with socket.socket() as s:
                        s.bind(("127.0.0.1", 0))
                        closed = s.getsockname()[1]
                    url = re.sub(r":\d+/", ":%d/" % closed, url)
                env["CABENCH_DB_URL"] = url
                env.update(changes)
                scenarios = os.path.join(tmp, "s")
                write_scenario(scenarios, "bad", queries_per_thread=10, threads=1)
                argv = [CABENCH if program == "cabench" else CABENCH_LOAD]
                if program == "cabench":
                    argv += ["--scenarios=" + scenarios, "--out_dir=" + tmp]
                proc = subprocess.run(argv + args, capture_output=True, text=True, env=env,
                                      timeout=60, cwd=tmp)
                where = "%s: exit %d, stderr %r" % (name, proc.returncode, proc.stderr)
                self.assertEqual(proc.returncode, code, where)
                lines = [l for l in proc.stderr.splitlines() if l.strip()]
                self.assertEqual(len(lines), 1, where)
                self.assertRegex(lines[0], pattern, where)
                self.assertNotIn(PASSWORD, proc.stderr + proc.stdout)
        self.assertEqual(booking_count(), LOADED_BOOKINGS)


if __name__ == "__main__":
    unittest.main(verbosity=2)

"""Tests of cabench_py.servers: endpoint URLs, the password, tools/servers' export lines
and the RESP2 client (against a small fake server on loopback; no Redis needed)."""
import os
import socket
import sys
import tempfile
import threading
import unittest

from helpers import TOOLS

sys.path.insert(0, TOOLS)
from cabench_py import servers  # noqa: E402


class UrlTest(unittest.TestCase):
    """The URLs as cabench reads them (its parser, through cabench_report)."""

    def test_cache_url(self):
        self.assertEqual(servers.parse_cache_url("redis://127.0.0.1:16700/0"),
                         ("127.0.0.1", 16700, 0))
        self.assertEqual(servers.parse_cache_url("redis://localhost:6379"),
                         ("localhost", 6379, 0))
        self.assertEqual(servers.parse_cache_url("redis://[::1]:6379/3"), ("::1", 6379, 3))
        self.assertEqual(servers.parse_cache_url("redis://x/0"), ("x", 6379, 0))  # its default
        for bad in ("http://x:1/0", "redis://x:port/0", "redis://x:1/db", "redis://x:1/16",
                    "redis://x:0/0"):
            with self.assertRaises(ValueError, msg=bad):
                servers.parse_cache_url(bad)
        with self.assertRaisesRegex(ValueError, "port"):
            servers.parse_cache_url("redis://x:port/0")

    def test_cluster_url(self):
        url = "redis-cluster://127.0.0.1:16379,127.0.0.1:16380,127.0.0.1:16381/0"
        self.assertEqual(servers.parse_cache_url(url, cluster_ok=True), ("127.0.0.1", 16379, 0))
        with self.assertRaisesRegex(ValueError, "is a cluster: this tool measures one"):
            servers.parse_cache_url(url)
        for bad in ("redis-cluster://x:1/1", "redis-cluster://x:1,y:z/0"):
            with self.assertRaises(ValueError, msg=bad):
                servers.parse_cache_url(bad, cluster_ok=True)

    def test_db_url(self):
        self.assertEqual(servers.parse_db_url("mysql://cabench@127.0.0.1:13700/cabench"),
                         ("cabench", "127.0.0.1", 13700, "cabench"))
        self.assertEqual(servers.parse_db_url("mysql://u@h/s"), ("u", "h", 3306, "s"))
        for bad in ("mysql://127.0.0.1:13700/cabench", "mysql://u@h:1/",
                    "mysql://u@h:1/s;drop", "mysql://u:pw@h:1/s"):
            with self.assertRaises(ValueError, msg=bad):
                servers.parse_db_url(bad)

    def test_password(self):
        self.assertEqual(servers.db_password({"CABENCH_DB_PASSWORD": "pw"}), "pw")
        self.assertEqual(servers.db_password({}), "")
        with tempfile.NamedTemporaryFile("w", delete=False) as f:
            f.write("secret\n")
        try:
            env = {"CABENCH_DB_PASSWORD": "", "CABENCH_DB_PASSWORD_FILE": f.name}
            self.assertEqual(servers.db_password(env), "secret")  # empty counts as unset
        finally:
            os.unlink(f.name)

    def test_exports(self):
        text = ("export CABENCH_CACHE_URL=redis://127.0.0.1:16379/0\n"
                "export CABENCH_DB_PASSWORD_FILE=/tmp/cabench-servers.x\\ y/db_password\n"
                "export CABENCH_SERVERS_DIR='/tmp/a b'\n"
                "export CABENCH_DB_PASSWORD=\n"
                "not an export line\n")
        self.assertEqual(servers.parse_exports(text), {
            "CABENCH_CACHE_URL": "redis://127.0.0.1:16379/0",
            "CABENCH_DB_PASSWORD_FILE": "/tmp/cabench-servers.x y/db_password",
            "CABENCH_SERVERS_DIR": "/tmp/a b",
            "CABENCH_DB_PASSWORD": ""})


class FakeRedis(threading.Thread):
    """Answers one connection: reads RESP arrays, replies from a small dict store."""

    def __init__(self):
        super().__init__(daemon=True)
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.store = {}
        self.commands = []

    def run(self):
        conn, _ = self.listener.accept()
        f = conn.makefile("rb")
        while True:
            line = f.readline()
            if not line:
                break
            args = []
            for _ in range(int(line[1:])):
                n = int(f.readline()[1:])
                args.append(f.read(n + 2)[:-2])
            self.commands.append(args)
            conn.sendall(self.answer(args))
        conn.close()
        self.listener.close()

    def answer(self, args):
        cmd = args[0].upper()
        if cmd == b"SELECT":
            return b"+OK\r\n"
        if cmd == b"SET":
            self.store[args[1]] = args[2]
            return b"+OK\r\n"
        if cmd == b"GET":
            v = self.store.get(args[1])
            return b"$-1\r\n" if v is None else b"$%d\r\n%s\r\n" % (len(v), v)
        if cmd == b"SCAN":  # two pages, to exercise the cursor
            keys = sorted(k for k in self.store if k.startswith(args[3].rstrip(b"*")))
            page, cursor = (keys[:1], b"7") if args[1] == b"0" else (keys[1:], b"0")
            return (b"*2\r\n$%d\r\n%s\r\n*%d\r\n" % (len(cursor), cursor, len(page)) +
                    b"".join(b"$%d\r\n%s\r\n" % (len(k), k) for k in page))
        if cmd == b"UNLINK":
            n = sum(1 for k in args[1:] if self.store.pop(k, None) is not None)
            return b":%d\r\n" % n
        return b"-ERR unknown command\r\n"


class RespTest(unittest.TestCase):
    def test_commands_pipeline_scan_and_errors(self):
        fake = FakeRedis()
        fake.start()
        with servers.Resp("127.0.0.1", fake.port, db=2, timeout=10) as r:
            self.assertEqual(r.call("SET", "p:1", b"v\r\n1"), "OK")  # binary-safe value
            self.assertEqual(r.pipeline([("SET", "p:2", "two"), ("GET", "p:2"),
                                         ("GET", "none")]), ["OK", b"two", None])
            self.assertEqual(r.call("GET", "p:1"), b"v\r\n1")
            self.assertEqual(r.call("SET", "q:1", "x"), "OK")
            self.assertEqual(sorted(r.keys("p:")), [b"p:1", b"p:2"])
            self.assertEqual(r.delete_prefix("p:"), 2)
            self.assertEqual(set(fake.store), {b"q:1"})
            with self.assertRaisesRegex(servers.ServerError, "ERR unknown command"):
                r.call("NOSUCHCOMMAND")
        fake.join(10)
        self.assertEqual(fake.commands[0], [b"SELECT", b"2"])

    def test_encode(self):
        self.assertEqual(servers.Resp.encode("GET", b"k"), b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")

    def test_a_closed_connection_is_a_server_error(self):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)

        def hang_up():
            conn, _ = listener.accept()
            conn.recv(100)
            conn.close()
        t = threading.Thread(target=hang_up, daemon=True)
        t.start()
        r = servers.Resp("127.0.0.1", listener.getsockname()[1], timeout=10)
        with self.assertRaisesRegex(servers.ServerError, "closed the connection"):
            r.call("GET", "k")
        r.close()
        t.join(10)
        listener.close()


if __name__ == "__main__":
    unittest.main()

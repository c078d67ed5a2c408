"""Talking to the servers cabench runs against: endpoint URLs, the database
password, `tools/servers start` output and a small RESP2 client.

  parse_cache_url(url)   redis://HOST:PORT[/DB] -> (host, port, db); a cluster's
                         first node with cluster_ok=True
  parse_db_url(url)      mysql://USER@HOST:PORT/SCHEMA -> (user, host, port, schema)
  db_password(env)       CABENCH_DB_PASSWORD, else the file CABENCH_DB_PASSWORD_FILE names
  parse_exports(text)    {NAME: value} of the `export NAME=value` lines tools/servers prints
  Resp(host, port, db)   a blocking RESP2 client: call, pipeline, keys, delete_prefix

The URLs are parsed by cabench's own parser (lib/config/endpoints.h, through
build/bin/cabench_report), so that a tool reads them as cabench does (no password
in a URL). URL parsers raise ValueError; the client raises ServerError (and OSError
for socket problems).
"""
import re
import shlex
import socket

from . import report
from .common import ToolError


class ServerError(Exception):
    """The cache server answered with an error, an unexpected reply, or hung up."""


def _endpoint(flag, url):
    """The URL as cabench reads it (cabench_report --cache_url/--db_url, the parser of
    lib/config/endpoints.h); raises ValueError with cabench's reason."""
    try:
        return report.endpoint(flag, url)
    except ToolError as e:
        raise ValueError(str(e))


def parse_cache_url(url, cluster_ok=False):
    """(host, port, db) of redis://HOST:PORT[/DB] as cabench reads it; raises ValueError.
    With cluster_ok, a cluster's redis-cluster://HOST:PORT[,HOST:PORT...]/0 gives its first
    node (enough to see that the cluster answers); without, a cluster URL is a ValueError
    that says so."""
    e = _endpoint("cache_url", url)
    if e["cluster"] and not cluster_ok:
        raise ValueError("CABENCH_CACHE_URL '%s' is a cluster: this tool measures one "
                         "cache server (redis://HOST:PORT/DB)" % url)
    return e["host"], e["port"], e["db"]


def parse_db_url(url):
    """(user, host, port, schema) of mysql://USER@HOST:PORT/SCHEMA as cabench reads it;
    raises ValueError."""
    e = _endpoint("db_url", url)
    return e["user"], e["host"], e["port"], e["schema"]


def db_password(env):
    """The database password: CABENCH_DB_PASSWORD when set and not empty, else the first
    line of the file CABENCH_DB_PASSWORD_FILE names, else ''. Raises OSError."""
    if env.get("CABENCH_DB_PASSWORD"):
        return env["CABENCH_DB_PASSWORD"]
    path = env.get("CABENCH_DB_PASSWORD_FILE")
    if path:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    return ""


def parse_exports(text):
    """{NAME: value} of the `export NAME=VALUE` lines of `tools/servers start` (values
    quoted as bash's printf %q or plain); other lines are ignored."""
    out = {}
    for line in text.splitlines():
        m = re.fullmatch(r"export ([A-Z_][A-Z0-9_]*)=(.*)", line.strip())
        if m:
            words = shlex.split(m.group(2)) if m.group(2) else [""]
            out[m.group(1)] = words[0] if words else ""
    return out


class Resp:
    """A minimal blocking RESP2 client: enough for SELECT, SCAN, GET, SET, UNLINK.
    Not thread-safe: one connection, one caller."""

    def __init__(self, host, port, db=0, timeout=30):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        if db:
            self.call("SELECT", str(db))

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()

    @staticmethod
    def encode(*args):
        """One command as a RESP array of bulk strings."""
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        return b"".join(out)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ServerError("cache server closed the connection")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def reply(self):
        """The next reply: str (status), int, bytes or None (bulk), list (array)."""
        line = self._line()
        kind, rest = line[:1], line[1:]
        try:
            if kind == b"+":
                return rest.decode()
            if kind == b"-":
                raise ServerError("cache server: %s" % rest.decode(errors="replace"))
            if kind == b":":
                return int(rest)
            if kind == b"$":
                n = int(rest)
                return None if n < 0 else self._exact(n)
            if kind == b"*":
                n = int(rest)
                return None if n < 0 else [self.reply() for _ in range(n)]
        except ValueError:
            pass
        raise ServerError("cache server: unexpected reply %r" % line[:40])

    def call(self, *args):
        self.sock.sendall(self.encode(*args))
        return self.reply()

    def pipeline(self, commands):
        """Sends every command, then reads one reply each (in order)."""
        self.sock.sendall(b"".join(self.encode(*c) for c in commands))
        return [self.reply() for _ in commands]

    def keys(self, prefix):
        """Every key that starts with `prefix` (SCAN MATCH, glob characters escaped)."""
        pattern = re.sub(r"([*?\[\]\\])", r"\\\1", prefix) + "*"
        cursor, found = "0", []
        while True:
            cursor, batch = self.call("SCAN", cursor, "MATCH", pattern, "COUNT", "1000")
            cursor = cursor.decode()
            found.extend(batch)
            if cursor == "0":
                return found

    def delete_prefix(self, prefix):
        """UNLINKs every key under `prefix`; returns how many there were."""
        keys = self.keys(prefix)
        for i in range(0, len(keys), 1000):
            self.call("UNLINK", *keys[i:i + 1000])
        return len(keys)

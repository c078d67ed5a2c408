#!/usr/bin/env python3
"""No FLUSHALL or FLUSHDB anywhere in cabench's code.

  no_flush_test.py REPO_ROOT

cabench deletes only keys under its own prefix (SCAN MATCH + UNLINK). This
test reads every source, script and configuration file in the repository
(C++, Python, shell, CMake, YAML, SQL, the tools/ scripts) and fails when
FLUSHALL or FLUSHDB appears outside a comment, in any case or spelling
split across a string ("FLUSH" "ALL" is caught too, as is a variable built
from pieces on one line). Comments may name the commands (to say they are
never used), documentation (*.md) is not code, and tests that exist to
check for the commands (this file) are skipped.
"""
import os
import re
import sys
import unittest

ROOT = os.path.abspath(sys.argv[1])
del sys.argv[1]

SKIP_DIRS = {".git", "results", "__pycache__"}
SKIP_FILES = {"bench/no_flush_test.py"}
CODE_SUFFIXES = (".cc", ".h", ".cpp", ".hpp", ".py", ".sh", ".cmake", ".txt", ".yaml", ".yml",
                 ".sql", ".in", ".conf")
# Anything that spells a flush command, also with quotes or spaces between
# FLUSH and ALL/DB.
PATTERN = re.compile(r"flush\W{0,4}(all|db)\b", re.IGNORECASE)


def is_build_dir(path):
    return os.path.exists(os.path.join(path, "CMakeCache.txt"))


def source_files():
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = [d for d in dirnames
                       if d not in SKIP_DIRS and not is_build_dir(os.path.join(dirpath, d))]
        for name in filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, ROOT)
            if rel in SKIP_FILES:
                continue
            if name.endswith(CODE_SUFFIXES) or rel.startswith("tools/") or \
                    rel.startswith(".ci/"):
                yield rel, path


def strip_comment(line, rel):
    """The code part of a line: drops // comments in C++ and # comments in
    scripts (a rough cut: a '#' or '//' inside a string also ends the code,
    which can only hide text after it, never invent a match)."""
    if rel.endswith((".cc", ".h", ".cpp", ".hpp", ".in")):
        code = line.split("//", 1)[0]
        return re.sub(r"/\*.*?\*/", "", code)
    if rel.endswith(".sql"):
        return line.split("--", 1)[0]
    return line.split("#", 1)[0]


class NoFlushTest(unittest.TestCase):

    def test_sources_are_found(self):
        files = [rel for rel, _ in source_files()]
        self.assertIn("lib/redis/redis_client.cc", files)
        self.assertIn("tools/servers", files)

    def test_pattern_catches_spellings(self):
        for text in ['"FLUSHALL"', "flushdb", "'FLUSH' 'ALL'", 'redis-cli FlushAll']:
            self.assertTrue(PATTERN.search(text), text)
        self.assertFalse(PATTERN.search("flush: true"))
        self.assertFalse(PATTERN.search("fflush(stdout)"))

    def test_no_flush_command_in_code(self):
        found = []
        for rel, path in source_files():
            with open(path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
            in_block = False
            for number, line in enumerate(text.splitlines(), 1):
                if rel.endswith((".cc", ".h", ".cpp", ".hpp")):
                    # Skip /* ... */ blocks that span lines.
                    if in_block:
                        if "*/" not in line:
                            continue
                        line = line.split("*/", 1)[1]
                        in_block = False
                    if "/*" in line and "*/" not in line.split("/*", 1)[1]:
                        line = line.split("/*", 1)[0]
                        in_block = True
                if PATTERN.search(strip_comment(line, rel)):
                    found.append("%s:%d: %s" % (rel, number, line.strip()))
        self.assertEqual(found, [], "FLUSHALL/FLUSHDB in code:\n" + "\n".join(found))


if __name__ == "__main__":
    unittest.main(verbosity=2)

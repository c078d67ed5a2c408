"""Tests of cabench_py.tally: test cases counted from GoogleTest and unittest
output, in a log and in ctest's JUnit file (one made by a real ctest run of
planted tests whose counts are known)."""
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

from helpers import TOOLS

sys.path.insert(0, TOOLS)
from cabench_py import tally  # noqa: E402

GTEST_OK = """[==========] 12 tests from 3 test suites ran. (5 ms total)
[  PASSED  ] 12 tests.
"""
GTEST_BAD = """[==========] 40 tests from 9 test suites ran. (70 ms total)
[  PASSED  ] 37 tests.
[  SKIPPED ] 1 test, listed below:
[  SKIPPED ] A.B
[  FAILED  ] 2 tests, listed below:
[  FAILED  ] A.C
[  FAILED  ] A.D

 2 FAILED TESTS
"""
UNITTEST_OK = """test_a (m.T) ... ok
----------------------------------------------------------------------
Ran 5 tests in 0.301s

OK
"""
UNITTEST_BAD = """----------------------------------------------------------------------
Ran 6 tests in 12.5s

FAILED (failures=1, errors=1, skipped=1)
"""


class CountOutputTest(unittest.TestCase):
    def test_gtest_summaries(self):
        self.assertEqual(tally.count_output(GTEST_OK), (12, 0))
        self.assertEqual(tally.count_output(GTEST_BAD), (37, 2))
        self.assertEqual(tally.count_output("[  PASSED  ] 1 test.\n"), (1, 0))

    def test_unittest_summaries(self):
        self.assertEqual(tally.count_output(UNITTEST_OK), (5, 0))
        # 6 ran: 2 failed, 1 skipped (neither), 3 passed.
        self.assertEqual(tally.count_output(UNITTEST_BAD), (3, 2))
        self.assertEqual(tally.count_output("Ran 2 tests in 0.1s\n\nOK (skipped=2)\n"), (0, 0))
        # Failed subtests count one each, but a run never fails more cases than it ran.
        self.assertEqual(tally.count_output("Ran 1 test in 1s\n\nFAILED (failures=4)\n"), (0, 1))

    def test_several_runs_in_one_output_add_up(self):
        text = GTEST_OK + "noise\n" + UNITTEST_BAD + GTEST_BAD + UNITTEST_OK
        self.assertEqual(tally.count_output(text), (12 + 3 + 37 + 5, 2 + 2))

    def test_no_summary_is_none(self):
        self.assertIsNone(tally.count_output(""))
        self.assertIsNone(tally.count_output("cabench: 100% (20 of 20 ops)\nRan away\n"))


class CommandLineTest(unittest.TestCase):
    """tally.py as tools/test calls it."""

    def tally(self, *args):
        return subprocess.run([sys.executable, os.path.join(TOOLS, "cabench_py", "tally.py"),
                               *args], capture_output=True, text=True)

    def test_log(self):
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        log = os.path.join(tmp, "log")
        with open(log, "w") as f:
            f.write("== unit tests (thread)\n" + GTEST_BAD + "== bad input\n" + UNITTEST_OK)
        proc = self.tally("--log", log)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, "42 2\n")
        # A log without a summary adds nothing.
        with open(log, "w") as f:
            f.write("tools/fuzz: scenario: no findings\n")
        self.assertEqual(self.tally("--log", log).stdout, "0 0\n")

    def test_usage(self):
        proc = self.tally("--xml", "x")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("usage: tally.py", proc.stderr)


class CountJunitTest(unittest.TestCase):
    """A real ctest run: a gtest-like entry of 7 cases, a unittest entry of
    2 cases (one fails), an entry without a summary that passes, one that
    fails without a summary (a crash) and one that fails after its gtest
    summary said all passed (a leak report at exit)."""

    def test_a_ctest_run(self):
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        py = textwrap.dedent("""\
            import unittest
            class T(unittest.TestCase):
                def test_a(self): pass
                def test_b(self): self.fail("planted")
            unittest.main(verbosity=2)
            """)
        with open(os.path.join(tmp, "two.py"), "w") as f:
            f.write(py)
        with open(os.path.join(tmp, "CMakeLists.txt"), "w") as f:
            f.write(textwrap.dedent("""\
                cmake_minimum_required(VERSION 3.16)
                project(tally NONE)
                enable_testing()
                add_test(NAME gtest COMMAND sh -c "seq 1 5000; echo '[  PASSED  ] 7 tests.'")
                add_test(NAME py COMMAND python3 ${CMAKE_SOURCE_DIR}/two.py)
                add_test(NAME plain COMMAND sh -c "echo done")
                add_test(NAME crash COMMAND sh -c "echo starting; kill -SEGV $$")
                add_test(NAME leak COMMAND sh -c "echo '[  PASSED  ] 3 tests.'; exit 1")
                """))
        build = os.path.join(tmp, "build")
        subprocess.run(["cmake", "-S", tmp, "-B", build], check=True, capture_output=True)
        junit = os.path.join(tmp, "junit.xml")
        subprocess.run(["ctest", "--test-dir", build, "-j3", "--output-junit", junit,
                        "--test-output-size-passed", "10000000",
                        "--test-output-size-failed", "10000000"], capture_output=True)
        self.assertEqual(tally.count_junit(junit), (7 + 1 + 1 + 0 + 3, 1 + 1 + 1))
        proc = subprocess.run([sys.executable, os.path.join(TOOLS, "cabench_py", "tally.py"),
                               "--junit", junit], capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.split(), ["12", "3"])


if __name__ == "__main__":
    unittest.main()

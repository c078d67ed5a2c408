"""How many test cases passed and failed, from test runners' output.

  count_output(text)   (passed, failed) of the GoogleTest and Python unittest
                       summaries in one output, or None when it has none
  count_junit(path)    (passed, failed) over the test cases of ctest's
                       --output-junit file: each ctest entry counts its
                       GoogleTest and unittest cases, or as one case when its
                       output has no summary (a script, a benchmark run)
  python3 tally.py --junit FILE | --log FILE
                       prints "PASSED FAILED" (tools/test adds them up)

A whole gtest binary is one ctest entry of hundreds of cases; this counts
the cases. Summaries read: GoogleTest's "[  PASSED  ] N tests." and
"[  FAILED  ] N tests, listed below:" (also with --gtest_brief=1); unittest's
"Ran N tests in ..." followed by "OK ..." or "FAILED (failures=F, errors=E)"
(failures and errors count as failed, skipped cases as neither). An entry
that failed without a failed case in its output (a crash, a timeout, an
error before any test ran) counts one failure. ctest must keep whole
outputs (--test-output-size-passed/failed large enough: tools/test sets
them). Python 3 standard library only.
"""
import re
import sys
import xml.etree.ElementTree as ET

_GTEST_PASSED = re.compile(r"^\[  PASSED  \] (\d+) tests?\.", re.M)
_GTEST_FAILED = re.compile(r"^\[  FAILED  \] (\d+) tests?, listed below", re.M)
_UNITTEST = re.compile(r"^Ran (\d+) tests? in [^\n]*\n+(OK|FAILED)([^\n]*)", re.M)


def count_output(text):
    """(passed, failed) of every runner summary in `text`; None when none."""
    passed = failed = 0
    found = False
    for m in _GTEST_PASSED.finditer(text):
        passed += int(m.group(1))
        found = True
    for m in _GTEST_FAILED.finditer(text):
        failed += int(m.group(1))
        found = True
    for m in _UNITTEST.finditer(text):
        ran = int(m.group(1))
        details = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", m.group(3)))
        # Failed subtests are counted one each; a case fails once.
        bad = min(ran, details.get("failures", 0) + details.get("errors", 0) +
                  details.get("unexpected_successes", 0))
        passed += ran - bad - min(ran - bad, details.get("skipped", 0))
        failed += bad
        found = True
    return (passed, failed) if found else None


def count_junit(path):
    """(passed, failed) over the ctest entries of a JUnit file."""
    passed = failed = 0
    for case in ET.parse(path).getroot().iter("testcase"):
        entry_failed = case.get("status") == "fail" or case.find("failure") is not None
        if case.get("status") in ("notrun", "disabled") or case.find("skipped") is not None:
            if not entry_failed:
                continue
        out = case.findtext("system-out") or ""
        counts = count_output(out)
        if counts is None:
            counts = (0, 1) if entry_failed else (1, 0)
        elif entry_failed and counts[1] == 0:
            counts = (counts[0], 1)
        passed += counts[0]
        failed += counts[1]
    return passed, failed


def main(argv):
    if len(argv) != 3 or argv[1] not in ("--junit", "--log"):
        print("usage: tally.py --junit FILE | --log FILE", file=sys.stderr)
        return 2
    if argv[1] == "--junit":
        passed, failed = count_junit(argv[2])
    else:
        with open(argv[2], errors="replace") as f:
            passed, failed = count_output(f.read()) or (0, 0)
    print(passed, failed)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

"""Fatal errors as one clear line, and JSON loading that never shows a traceback.

The exit-code rule of every cabench tool (docs/TOOLS.md):
  0  ok
  1  a failure or regression: a benchmark run that reported an error, a
     counter past its threshold, a target missed, a failed stage or a
     missing program
  2  usage or bad input: an unknown flag, a missing, empty or garbled file
"""
import argparse
import json
import sys

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_REGRESSION = EXIT_FAILURE
EXIT_USAGE = 2
# One line for each tool's --help.
EXIT_RULE = ("Exit status: 0 ok; 1 failure or regression; 2 usage or bad input "
             "(unknown flag, missing or garbled file).")


class ToolError(Exception):
    """A problem with the user's input: printed as one line, exit 2."""


class Failure(Exception):
    """Something failed that is not the user's input (a missing program, a failed run):
    printed as one line, exit 1."""


def one_line_parser(prog):
    """An argparse parser (no automatic -h) whose errors are one line and exit 2."""
    class Parser(argparse.ArgumentParser):
        def error(self, message):
            die(prog, f"{message} (see {prog} --help)")
    return Parser(prog=prog, add_help=False)


def die(prog, message, code=EXIT_USAGE):
    """Prints 'PROG: error: MESSAGE' (one line) on stderr and exits with `code`."""
    one_line = " ".join(str(message).split())
    print(f"{prog}: error: {one_line}", file=sys.stderr)
    sys.exit(code)


def load_json(path, what="JSON file"):
    """Returns the parsed JSON of `path`; raises ToolError naming the file and the problem."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise ToolError(f"{path}: no such file")
    except IsADirectoryError:
        raise ToolError(f"{path}: is a folder, not a {what}")
    except OSError as e:
        raise ToolError(f"{path}: cannot read: {e.strerror}")
    if not raw.strip():
        raise ToolError(f"{path}: empty file, expected a {what}")
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ToolError(f"{path}: not text (not UTF-8), expected a {what}")
    except json.JSONDecodeError as e:
        raise ToolError(f"{path}: not valid JSON ({e.msg} at line {e.lineno} column {e.colno}),"
                        f" expected a {what}")


def is_number(value):
    """True for an int or float that is not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def fmt_num(value, digits=1):
    """A number with thousands separators and `digits` decimals; '-' for None."""
    if value is None:
        return "-"
    if value != value:  # NaN
        return "nan"
    if value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    return f"{value:,.{digits}f}"


def fmt_auto(value):
    """A number shown with a precision suited to its size; '-' for None."""
    if value is None:
        return "-"
    a = abs(value)
    if a >= 1000 or (value == int(value) and a < 1e15):
        return fmt_num(value, 0)
    if a >= 100:
        return fmt_num(value, 1)
    if a >= 1:
        return fmt_num(value, 2)
    return fmt_num(value, 3)

"""Figures in the project's Markdown files, derived from committed results files.

Every measured figure in README.md, docs/ and results/**/README.md sits inside a marker
that names the results file it comes from and how it is derived, so that a test can
derive it again and fail on any difference (tools/figures --check), and a refreshed
results file refreshes the text (tools/figures --write).

A table (one row per benchmark entry the filter selects, in file order):

  <!-- figures: results/ttl/ttl_sweep.json
       rows: ^CacheAside/ttl_sweep/
       columns: TTL ms = @ttl_ms; hit rate % = hit_rate_pct:.1f; model % = predicted_hit_rate_pct:.1f -->
  | TTL ms | hit rate % | model % |
  |---|---|---|
  | 100 | 31.4 | 31.3 |
  <!-- /figures -->

One number in running text:

  <!-- figure: results/micro/mixed.json; row: ^BM_CacheAside_Mixed/threads:1$; value: real_time:.0f -->139<!-- /figure -->

Keys of the marker (separated by ';' or new lines): the file (first, after the colon,
relative to the repository; several files separated by ',', on one line or several, give
their entries one after another, in that order); `rows`/`row`: a Python regular expression searched in each
entry's name (`row` must select exactly one); `where`: FIELD=VALUE pairs, comma separated,
an entry must match (e.g. aggregate_name=median); `in`: for a JSON file that is not
Google Benchmark's, the dotted path of its entries (`in: rows`, `in: results`): a list,
each entry named by its "name", else by its text and whole-number fields as
"key:value/key:value..." (scenario:concurrency/threads:4/...), or an object, each value
that is an object named by its key (an object with no such value is one entry, named by
the path's last part); `columns` (tables): HEADER = EXPR[:FORMAT] items separated by ';' ...
on one line or several; `value` (one number): EXPR[:FORMAT].
EXPR is a field of the entry (a counter, or a standard key such as real_time, threads;
a dotted path reads into an object: capacity.rate_per_s), an @-parameter of the
benchmark (@scenario, @threads, @name and every parameter cabench records for it in the
run folder's benchmarks.json: @read_pct, @ttl_ms, @access, @rate_per_s,
@cache_keys_pct, ...), @1 .. @9 (the groups of the rows/row expression in the entry's
name), @file (the results file the entry comes from, relative to the Markdown file), or
arithmetic over them (+ - * / and parentheses, numbers). A field written FIELD? may be
absent: the figure is then "-" (cabench leaves out a counter that does not apply, never
0). FIELD@AGGREGATE reads the field of the entry's sibling aggregate of a run with
repetitions (the entry of the same run_name whose aggregate_name is AGGREGATE:
ops_per_s@ci95_lo, hit_rate_pct@stddev), so a row of means can show its interval.
FORMAT is a Python format spec (default: the value as is); ',' groups thousands. A
column LO .. HI (two expressions, one format) shows the range "lo..hi" ("-" when either
end is absent).
"""
import ast
import operator
import os
import re

from . import params
from .common import ToolError, load_json

_BLOCK = re.compile(r"<!--\s*figures:(?P<spec>.*?)-->\n(?P<body>.*?)<!--\s*/figures\s*-->",
                    re.S)
_INLINE = re.compile(r"<!--\s*figure:(?P<spec>.*?)-->(?P<body>.*?)<!--\s*/figure\s*-->", re.S)
_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.Div: operator.truediv, ast.USub: operator.neg}
# The context key where cabench records each benchmark's parameters (bench/main.cc).
PARAMS_CONTEXT = "cabench_benchmarks"


def _spec(text, where):
    """{key: value} of a marker's text: the file first, then key: value items."""
    parts = [p.strip() for p in re.split(r";|\n", text) if p.strip()]
    if not parts:
        raise ToolError(f"{where}: a figures marker names no file")
    spec = {"file": parts[0]}
    key = None
    for p in parts[1:]:
        m = re.match(r"^(rows|row|where|in|columns|value)\s*:\s*(.*)$", p)
        if m:
            key = m.group(1)
            spec[key] = [m.group(2)] if m.group(2) else []
        elif key == "columns":
            spec[key].append(p)  # a column on a line of its own
        elif key is None and spec["file"].endswith(","):
            spec["file"] += " " + p  # the list of files goes on
        else:
            raise ToolError(f"{where}: cannot read '{p}' in a figures marker")
    return {k: (v if k in ("file", "columns") else "; ".join(v)) for k, v in spec.items()}


class _Absent(Exception):
    """A FIELD? that the entry does not have: the figure is '-'."""


# One entry of a results file, with what its marker knows about it.
class _Item:
    def __init__(self, entry, name, file, groups, known, aggregates=None):
        self.entry, self.name, self.file, self.groups, self.known = \
            entry, name, file, groups, known
        # (run_name, aggregate_name) -> entry, of the entry's file.
        self.aggregates = aggregates or {}


def _lookup(name, item, where):
    optional = name.endswith("?")
    name = name.rstrip("?")
    entry = item.entry
    if name.startswith("@"):
        key = name[1:]
        if key == "name":
            return item.name
        if key == "file":
            return item.file
        if key.isdigit():
            n = int(key)
            if not 1 <= n <= len(item.groups) or item.groups[n - 1] is None:
                raise ToolError(f"{where}: the rows expression has no group {n} matching "
                                f"{item.name}")
            return item.groups[n - 1]
        if key == "threads" and "threads" in entry:
            return entry.get("threads")
        p = item.known.get(entry.get("run_name", item.name), item.known.get(item.name, {}))
        if key not in p:
            raise ToolError(f"{where}: {item.name} has no parameter {key} (no benchmarks.json "
                            "beside its results file records it)")
        return p[key]
    if "@" in name:
        name, aggregate = name.split("@", 1)
        run = entry.get("run_name", item.name)
        entry = item.aggregates.get((run, aggregate))
        if entry is None:
            if optional:
                raise _Absent()
            raise ToolError(f"{where}: {item.name} has no {aggregate} aggregate (a run with "
                            "repetitions has one)")
    value = entry
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value or value[part] is None:
            if optional:
                raise _Absent()
            raise ToolError(f"{where}: {item.name} has no field {name}")
        value = value[part]
    return value


_NAME = re.compile(r"@\w+|[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*(?:@\w+)?\??")


def _evaluate(expr, item, where):
    """The value of EXPR for `item` (see the module comment); raises _Absent for an
    absent FIELD?."""
    expr = expr.strip()
    if _NAME.fullmatch(expr):
        return _lookup(expr, item, where)
    names = {}

    def rename(m):
        key = f"_v{len(names)}"
        names[key] = _lookup(m.group(0), item, where)
        return key
    text = _NAME.sub(rename, expr)
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise ToolError(f"{where}: cannot read the expression '{expr}'")

    def walk(node):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](walk(node.operand))
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return node.value
        if isinstance(node, ast.Name) and node.id in names:
            return names[node.id]
        raise ToolError(f"{where}: '{expr}' is not arithmetic over fields")
    try:
        return walk(tree)
    except (TypeError, ZeroDivisionError) as e:
        raise ToolError(f"{where}: cannot compute '{expr}' for {item.name}: {e}")


def _format(value, fmt, where):
    if not fmt:
        return str(value)
    try:
        return format(value, fmt)
    except (ValueError, TypeError):
        raise ToolError(f"{where}: cannot format {value!r} with '{fmt}'")


def _figure(expr, fmt, item, where):
    """EXPR (or the range LO .. HI) of `item`, formatted; '-' when a FIELD? in it is
    absent."""
    try:
        lo, dots, hi = expr.partition(" .. ")
        if dots:
            return (_format(_evaluate(lo, item, where), fmt, where) + ".." +
                    _format(_evaluate(hi, item, where), fmt, where))
        return _format(_evaluate(expr, item, where), fmt, where)
    except _Absent:
        return "-"


def _split_format(item):
    """(expression, format) of EXPR[:FORMAT]; a ':' inside a regex is not ours."""
    expr, sep, fmt = item.rpartition(":")
    if not sep or not re.fullmatch(r"[<>^=]?[+\- ]?#?0?\d*[,_]?(\.\d+)?[a-z%]?", fmt):
        return item, ""
    return expr, fmt


def _named_entries(doc, path, where, file):
    """[(name, entry)] of a results file: Google Benchmark's benchmarks, or the entries
    at the dotted path `path` (see the module comment)."""
    if not path:
        return [(e.get("name", ""), e) for e in doc.get("benchmarks", [])
                if isinstance(e, dict)]
    value = doc
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            raise ToolError(f"{where}: {file} has no '{path}'")
        value = value[part]
    if isinstance(value, dict):
        if not any(isinstance(v, dict) for v in value.values()):
            return [(path.split(".")[-1], value)]  # one entry: an object of figures
        return [(str(k), v) for k, v in value.items() if isinstance(v, dict)]
    if isinstance(value, list):
        out = []
        for e in value:
            if not isinstance(e, dict):
                continue
            name = e.get("name") or "/".join(
                f"{k}:{v}" for k, v in e.items()
                if isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool)))
            out.append((name, e))
        return out
    raise ToolError(f"{where}: '{path}' of {file} is neither a list nor an object")


def _entries(root, md_folder, spec, where, cache):
    pattern = re.compile(spec.get("rows") or spec.get("row") or "")
    conditions = []
    for pair in filter(None, (p.strip() for p in spec.get("where", "").split(","))):
        field, _, value = pair.partition("=")
        conditions.append((field.strip(), value.strip()))
    out = []
    for file in filter(None, (f.strip() for f in spec["file"].split(","))):
        path = os.path.join(root, file)
        if path not in cache:
            cache[path] = load_json(path, "results file")
        doc = cache[path]
        if not isinstance(doc, dict):
            raise ToolError(f"{where}: {file} is not a results file (expected an object)")
        known = params.of_results(path, doc) if not spec.get("in") else {}
        shown = os.path.relpath(path, md_folder)
        named = _named_entries(doc, spec.get("in"), where, file)
        aggregates = {(e.get("run_name"), e.get("aggregate_name")): e for _, e in named
                      if e.get("run_type") == "aggregate"}
        for name, e in named:
            m = pattern.search(name)
            if m and all(str(e.get(f)) == v for f, v in conditions):
                out.append(_Item(e, name, shown, m.groups(), known, aggregates))
    if not out:
        raise ToolError(f"{where}: no entry of {spec['file']} matches")
    return out


def render_table(root, spec_text, where, cache, md_folder=None):
    """The Markdown table a `figures` marker describes."""
    spec = _spec(spec_text, where)
    columns = []
    for item in "; ".join(spec.get("columns", [])).split(";"):
        if item.strip():
            header, eq, rest = item.partition("=")
            if not eq:
                raise ToolError(f"{where}: a column is HEADER = EXPR[:FORMAT], not '{item}'")
            columns.append((header.strip(), *_split_format(rest.strip())))
    if not columns:
        raise ToolError(f"{where}: a figures table needs columns")
    entries = _entries(root, md_folder or root, spec, where, cache)
    lines = ["| " + " | ".join(h for h, _, _ in columns) + " |",
             "|" + "---|" * len(columns)]
    for e in entries:
        cells = [_figure(x, f, e, where) for _, x, f in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def render_value(root, spec_text, where, cache, md_folder=None):
    """The one number a `figure` marker describes."""
    spec = _spec(spec_text, where)
    entries = _entries(root, md_folder or root, spec, where, cache)
    if len(entries) != 1:
        raise ToolError(f"{where}: 'row' selects {len(entries)} entries of {spec['file']}, "
                        "not one")
    if "value" not in spec:
        raise ToolError(f"{where}: a figure needs a value")
    expr, fmt = _split_format(spec["value"])
    return _figure(expr, fmt, entries[0], where)


def refresh(root, path, text):
    """(new text, [(line, old, new)]) for one Markdown file: every marker derived again."""
    cache, changes = {}, []
    md_folder = os.path.dirname(os.path.abspath(path))

    def line_of(pos):
        return text.count("\n", 0, pos) + 1

    def table(m):
        where = f"{os.path.relpath(path, root)}:{line_of(m.start())}"
        new = render_table(root, m.group("spec"), where, cache, md_folder)
        if new != m.group("body"):
            changes.append((where, m.group("body"), new))
        return m.group(0).replace(m.group("body"), new, 1) if m.group("body") else \
            m.group(0).replace("-->\n", "-->\n" + new, 1)

    def value(m):
        where = f"{os.path.relpath(path, root)}:{line_of(m.start())}"
        new = render_value(root, m.group("spec"), where, cache, md_folder)
        if new != m.group("body"):
            changes.append((where, m.group("body"), new))
        return m.group(0)[:m.start("body") - m.start()] + new + \
            m.group(0)[m.end("body") - m.start():]
    out = _BLOCK.sub(table, text)
    out = _INLINE.sub(value, out)
    return out, changes


def markdown_files(root):
    """README.md, docs/*.md and results/**/README.md of the repository at `root`."""
    out = [os.path.join(root, "README.md")]
    docs = os.path.join(root, "docs")
    if os.path.isdir(docs):
        out += sorted(os.path.join(docs, f) for f in os.listdir(docs) if f.endswith(".md"))
    for folder, _, files in sorted(os.walk(os.path.join(root, "results"))):
        if "README.md" in files:
            out.append(os.path.join(folder, "README.md"))
    return [p for p in out if os.path.isfile(p)]


def count_markers(text):
    """How many figures markers `text` has (tables and numbers)."""
    return len(_BLOCK.findall(text)) + len(_INLINE.findall(text))

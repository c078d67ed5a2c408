"""cabench's one table of metric names (lib/metrics/names.def), read by the tools.

The C++ code includes names.def as X-macros; this module parses the same
lines, once (on first use), so the tools and the C++ side cannot disagree on
a name. It exposes:

  classes(), steps()          operation classes and steps (Name tuples: id, name, spans)
  class_stats(), step_stats() per-class / per-step counter suffixes (Stat: suffix, better,
                              stat, meaning; stat is mean, p50, p95, p99, p999, an interval's end
                              (p50_lo ... p999_hi) or max)
  counters()                  the run counters, {name: Counter(id, name, unit, better,
                              merge, meaning)}; unit and merge as names.def explains them
  merge_rule(counter)         how shards join a counter (run, sum, same, thread0, verdict
                              or a reason it is left out: shard, server, process, twin)
  class_counter(c, s)         '<class>_<stat>' (hit_p99_us), as lib/metrics/names.h
  all_counter_names()         run counters, then every per-class and per-step counter
  series_fields()             per-second fields: the fixed ones, then per non-error
                              class '<class>_avg_us' and '<class>_p99_us'
  reference_series_fields()   the reference script's nine fields (present in every file)
  histogram_keys()            'overall', the classes, the steps
  aliases()                   {old spelling: name}
  normalize_key(key)          a counter, series or histogram key in today's spelling
  normalize_keys(mapping)     a dict with every key in today's spelling
  normalize_benchmark_name(n) access:0 -> access:pool, access:1 -> access:random
  direction(counter)          'higher', 'lower' or None (a count or a fact); per-class
                              and per-step counters take their stat's direction
  meaning(counter)            the table's one-line meaning, or None

A missing or malformed names.def raises NamesError (a ToolError: one line,
naming the file and line). Python 3 standard library only.
"""
import collections
import functools
import os
import re

from .common import ToolError

NAMES_DEF = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                          "..", "..", "lib", "metrics", "names.def"))

HIGHER, LOWER = "higher", "lower"
# The class of failed operations: it has counters and a histogram, but no
# per-second average or p99 (names.def: "per class with operations" of the
# classes that succeeded).
ERROR_CLASS = "error"
# How files written before the access word spelled it (access:0, access:1).
LEGACY_ACCESS = {"0": "pool", "1": "random"}

Name = collections.namedtuple("Name", "id name spans")
Stat = collections.namedtuple("Stat", "suffix better stat meaning")
Counter = collections.namedtuple("Counter", "id name unit better merge meaning")
SeriesField = collections.namedtuple("SeriesField", "id name when meaning")
# When a series file has a field: always, in runs with a cache, in open-loop
# runs, or when the servers' statistics were read.
SERIES_WHEN = ("always", "cache", "open_loop", "server")
# A counter's unit, how shards merge it, and what a per-class stat is (names.def).
UNITS = ("count", "s", "ms", "us", "per_s", "pct", "ratio", "flag", "mb", "bytes")
MERGE_RULES = ("run", "sum", "same", "thread0", "shard", "server", "process", "twin", "verdict")
STATS = ("mean", "p50", "p95", "p99", "p999", "p50_lo", "p50_hi", "p99_lo", "p99_hi", "p999_lo",
         "p999_hi", "max")

# Macro -> the kind of each argument: 'id' an identifier, 'str' a quoted
# string, 'better' one of higher/lower/none.
_MACROS = {
    "CABENCH_CLASS": ("id", "str", "str"),
    "CABENCH_STEP": ("id", "str", "str"),
    "CABENCH_CLASS_STAT": ("str", "better", "stat", "str"),
    "CABENCH_STEP_STAT": ("str", "better", "stat", "str"),
    "CABENCH_COUNTER": ("id", "str", "unit", "better", "merge", "str"),
    "CABENCH_SERIES": ("id", "str", "when", "str"),
    "CABENCH_ALIAS": ("str", "str"),
}
# A use of a macro: the line starts with its name and an opening parenthesis.
# Definitions (#define, #ifndef, #undef) start with '#' and are not uses.
ENTRY_LINE = re.compile(r"^\s*CABENCH_[A-Z_]+\s*\(")
_ARG = re.compile(r'\s*(?:"([^"\\]*)"|([A-Za-z_][A-Za-z0-9_]*))\s*(,|\))')


class NamesError(ToolError):
    """names.def is missing or has a line this parser does not understand."""


class Table:
    """The parsed names.def. Entries keep the file's order."""

    def __init__(self, path):
        self.path = path
        self.classes, self.steps = [], []
        self.class_stats, self.step_stats = [], []
        self.counters = collections.OrderedDict()
        self.series = []
        self.aliases = collections.OrderedDict()
        self.entries = 0  # macro lines parsed

    def _add(self, macro, args, where):
        seen_names = {n.name for n in self.classes + self.steps}
        if macro in ("CABENCH_CLASS", "CABENCH_STEP"):
            entry = Name(*args)
            if entry.name in seen_names or entry.name == "overall":
                raise NamesError(f"{where}: '{entry.name}' is named twice")
            (self.classes if macro == "CABENCH_CLASS" else self.steps).append(entry)
        elif macro in ("CABENCH_CLASS_STAT", "CABENCH_STEP_STAT"):
            (self.class_stats if macro == "CABENCH_CLASS_STAT" else self.step_stats).append(
                Stat(*args))
        elif macro == "CABENCH_COUNTER":
            entry = Counter(*args)
            if entry.name in self.counters:
                raise NamesError(f"{where}: counter '{entry.name}' is named twice")
            self.counters[entry.name] = entry
        elif macro == "CABENCH_SERIES":
            entry = SeriesField(*args)
            if entry.name in (f.name for f in self.series):
                raise NamesError(f"{where}: series field '{entry.name}' is named twice")
            self.series.append(entry)
        else:
            old, new = args
            if old in self.aliases or old == new:
                raise NamesError(f"{where}: alias '{old}' is named twice or names itself")
            self.aliases[old] = new
        self.entries += 1


def _parse_args(text, kinds, where):
    """The arguments of one macro use; `text` starts after the '('."""
    args, pos = [], 0
    for i, kind in enumerate(kinds):
        m = _ARG.match(text, pos)
        if not m:
            raise NamesError(f"{where}: argument {i + 1} is not a quoted string or identifier")
        string, ident, sep = m.groups()
        if kind == "str" and string is None:
            raise NamesError(f"{where}: argument {i + 1} must be a double-quoted string")
        if kind == "id" and ident is None:
            raise NamesError(f"{where}: argument {i + 1} must be an identifier")
        if kind == "better" and ident not in (HIGHER, LOWER, "none"):
            raise NamesError(f"{where}: argument {i + 1} must be higher, lower or none")
        for name, allowed in (("when", SERIES_WHEN), ("unit", UNITS), ("merge", MERGE_RULES),
                              ("stat", STATS)):
            if kind == name and ident not in allowed:
                raise NamesError(f"{where}: argument {i + 1} must be one of {', '.join(allowed)}")
        args.append(string if string is not None else ident)
        pos = m.end()
        if (sep == ")") != (i == len(kinds) - 1):
            raise NamesError(f"{where}: expected {len(kinds)} arguments")
    rest = text[pos:].strip()
    if rest and not rest.startswith("//"):
        raise NamesError(f"{where}: unexpected text after the entry: '{rest[:30]}'")
    return [None if a == "none" and k == "better" else a for a, k in zip(args, kinds)]


def parse(path=NAMES_DEF):
    """Returns the Table of names.def at `path`; raises NamesError naming the line."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise NamesError(f"{path}: cannot read the table of metric names: {e.strerror}")
    table = Table(path)
    for number, line in enumerate(lines, 1):
        if not ENTRY_LINE.match(line):
            continue
        where = f"{path}:{number}"
        macro, _, rest = line.strip().partition("(")
        macro = macro.strip()
        if macro not in _MACROS:
            raise NamesError(f"{where}: unknown entry {macro}")
        table._add(macro, _parse_args(rest, _MACROS[macro], where), where)
    if not table.classes or not table.counters or not table.series:
        raise NamesError(f"{path}: no classes, counters or series fields: not names.def")
    for old, new in table.aliases.items():
        if new in table.aliases:
            raise NamesError(f"{path}: alias '{old}' points at another alias '{new}'")
    return table


@functools.lru_cache(maxsize=None)
def table():
    """The Table of lib/metrics/names.def, parsed on first use."""
    return parse(NAMES_DEF)


def classes():
    return list(table().classes)


def steps():
    return list(table().steps)


def class_names():
    return [c.name for c in table().classes]


def step_names():
    return [s.name for s in table().steps]


def class_stats():
    return list(table().class_stats)


def step_stats():
    return list(table().step_stats)


def counters():
    return collections.OrderedDict(table().counters)


def aliases():
    return collections.OrderedDict(table().aliases)


def class_counter(name, suffix):
    """'<class or step>_<stat suffix>': class_counter('hit', 'p99_us') == 'hit_p99_us'."""
    return f"{name}_{suffix}"


@functools.lru_cache(maxsize=None)
def _stat_counters():
    """{counter: Stat} of every per-class and per-step counter name."""
    t = table()
    out = {}
    for names, stats in ((t.classes, t.class_stats), (t.steps, t.step_stats)):
        for n in names:
            for s in stats:
                out.setdefault(class_counter(n.name, s.suffix), s)
    return out


def all_counter_names():
    """Every counter cabench can write: run counters, then per class, then per step."""
    out = list(table().counters)
    out += [c for c in _stat_counters() if c not in table().counters]
    return out


def series_fields(open_loop=False, server=False, cache=False):
    """The per-second fields a file has: the fixed ones (those of open-loop runs and of the
    servers' statistics only when asked), then '<class>_avg_us' and '<class>_p99_us' of each
    class but the error class (and, open loop, '<class>_intended_avg_us' and
    '<class>_intended_p99_us')."""
    wanted = ({"always"} | ({"open_loop"} if open_loop else set())
              | ({"server"} if server else set()) | ({"cache"} if cache else set()))
    out = [f.name for f in table().series if f.when in wanted]
    for c in class_names():
        if c != ERROR_CLASS:
            out += [class_counter(c, "avg_us"), class_counter(c, "p99_us")]
            if open_loop:
                out += [class_counter(c, "intended_avg_us"), class_counter(c, "intended_p99_us")]
    return out


def reference_series_fields():
    """The reference script's nine fields (the table's first nine series lines)."""
    return [f.name for f in table().series[:9]]


def histogram_keys():
    return ["overall"] + class_names() + step_names()


def normalize_key(key):
    """Today's spelling of a counter, series field or histogram key (old -> new)."""
    return table().aliases.get(key, key)


def normalize_keys(mapping):
    """A dict of `mapping`'s items with today's spelling of every key; where a mapping has
    both an old and today's spelling, today's value wins. Order is kept."""
    out = {}
    for key, value in mapping.items():
        new = normalize_key(key)
        if new == key or new not in mapping:
            out[new] = value
    return out


_ACCESS = re.compile(r"(?<=/access:)([0-9]+)(?=/|$)")


def normalize_benchmark_name(name):
    """A benchmark name with the access mode as a word (old files: access:0 = pool,
    access:1 = random)."""
    return _ACCESS.sub(lambda m: LEGACY_ACCESS.get(m.group(1), m.group(1)), name)


def direction(counter):
    """HIGHER, LOWER or None: which way `counter` (today's or an old spelling) improves.
    None for counts and facts, and for names the table does not know."""
    counter = normalize_key(counter)
    entry = table().counters.get(counter)
    if entry is not None:
        return entry.better
    stat = _stat_counters().get(counter)
    return stat.better if stat is not None else None


def meaning(counter):
    """The table's meaning of a counter or series field, or None when it has none."""
    counter = normalize_key(counter)
    t = table()
    if counter in t.counters:
        return t.counters[counter].meaning
    for f in t.series:
        if f.name == counter:
            return f.meaning
    stat = _stat_counters().get(counter)
    return stat.meaning if stat is not None else None


def merge_rule(counter):
    """How the shards of a sharded run join `counter` (names.def's merge column); a
    per-class or per-step counter is computed from the merged run ('run'); None for a
    name the table does not know."""
    key = normalize_key(counter)
    if key in table().counters:
        return table().counters[key].merge
    return "run" if key in _stat_counters() else None


def is_known(counter):
    """True when `counter` (in any spelling) is a name of the table."""
    counter = normalize_key(counter)
    return counter in table().counters or counter in _stat_counters()

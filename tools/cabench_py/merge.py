"""Joins the shards of a sharded cabench run (OUT/shard-I/) into one run (OUT/merged/).

Each shard wrote (bench/sharded_run.h) OUT/shard-I/shard.json, its Google Benchmark JSON
and, per benchmark it had threads of, its histograms and time series. The merge is exact: it
gives what one process running every shard's threads would have reported.

Checks first (any failure is one ToolError, exit 2): every shard 0..N-1 present once (the
folder shard-I holds the manifest of shard I), the same run id, shard count, git revision,
build type, agreed start, options and scenario files on every shard, the same benchmarks,
and per benchmark every global thread index 0..T-1 run by exactly one shard.

Then, per benchmark (COUNTER_RULES says which rule each counter follows):
  summed       counts (ops, reads, cache_hits, ...), client CPU
  same         facts every shard reports alike (target rate, key universe); dropped if not
  thread 0     what only the shard with global thread 0 did (the warm-up)
  recomputed   from merged histograms and sums, as lib/metrics/summary.cc does: percentiles
               of the merged histograms (never averaged), means as merged sum / count,
               hit_rate_pct = sum of hits / (hits + misses), wall_s over the merged epoch
               span (first start of any shard to last end of any; open loop: the schedule's
               window, to the last end if later), ops_per_s = ops / wall_s;
               open loop: intended-time percentiles and start lag from the merged
               intended_<class> and start_lag histograms, target_missed = ops_per_s below
               99% of the target
  dropped      everything else, named in the notes: figures no shard can see whole (the
               servers' statistics, which every shard read for the whole server; miss causes
               and stale reads, which need every shard's key table; the model's prediction).
The Google Benchmark entry takes the unsharded name (threads:T), iterations summed, and
real_time / cpu_time as the library computes them for one process of T threads: real time
is the mean over threads of each thread's wall time, cpu time the threads' sum, both per
iteration.
"""
import json
import os
import re

from . import histogram, names
from .common import Failure, ToolError, is_number, load_json

MANIFEST = "shard.json"
SHARD_DIR = re.compile(r"^shard-(\d+)$")

# Counters added over the shards.
SUMMED = {
    "ops", "reads", "writes", "cache_hits", "cache_misses", "db_reads", "fallback_reads",
    "errors", "errors_cache", "errors_db", "insert_retries", "reconnects", "reconnect_failures",
    "reconnect_wait_ms", "bookings_removed", "fill_waits", "fill_wait_timeouts",
    "early_refreshes", "late_ops", "client_cpu_ms",
}
# Facts every shard reports alike (dropped when they differ).
SAME = {"target_rate_per_s", "key_universe"}
# An open-loop run misses its target below this share of it (lib/engine/run.h).
TARGET_ACHIEVED = 0.99
# What only the shard holding global thread 0 did.
THREAD_ZERO = {"warmup_ops_done", "steady_reached", "time_to_steady_s"}
# Computed here from the merged histograms and sums.
RECOMPUTED_RUN = {
    "wall_s", "ops_per_s", "hit_rate_pct", "db_avg_us", "db_p99_us", "speedup", "miss_vs_hit",
    "p50_us", "p95_us", "p99_us", "p999_us", "max_us", "error_max_us", "db_reads_per_miss",
    "client_cpu_us_per_op",
}
# Open loop: computed from the intended_<class> and start_lag histograms and the span of
# the intended starts (with <class>_intended_* per class).
OPEN_LOOP_RUN = {"intended_p50_us", "intended_p99_us", "intended_p999_us", "start_lag_avg_us",
                 "start_lag_p99_us", "target_missed"}
CLASS_STATS = {"avg_us": None, "p50_us": 50, "p95_us": 95, "p99_us": 99, "p999_us": 99.9,
               "max_us": 100}
INTENDED_CLASS_STATS = {"intended_avg_us": None, "intended_p50_us": 50, "intended_p99_us": 99,
                        "intended_p999_us": 99.9}
STEP_STATS = {"avg_us": None, "p99_us": 99}
# Why a counter is not merged, by name or prefix.
DROP_REASONS = [
    (re.compile(r"^(db_|cache_)(queries|selects|inserts|rows_read|disk_reads|connections|"
                r"server_|expired|evicted|used_memory|keys|cpu)|^db_queries_per_|"
                r"^db_cpu_us_per_op|^cache_cpu_us_per_op|^db_foreign_|^cache_foreign_|"
                r"^foreign_clients_max$|^server_figures_shared$"),
     "server-side statistics: every shard read the whole server over its own span"),
    (re.compile(r"^miss_(cold|expired|invalidated|evicted)$|^stale_|^dup_fills$|"
                r"^db_reads_in_flight_max$"),
     "needs every shard's key table (each shard saw only its own fills and writes)"),
    (re.compile(r"intended|^start_lag_|^target_missed$"),
     "open-loop response times: a shard's histograms file has no intended-time histograms "
     "(written before they were added)"),
    (re.compile(r"^predicted_|^cache_capacity_keys$|^cache_maxmemory_mb$"),
     "the model's input depends on one process's view of the run"),
    (re.compile(r"^gain_ops_x$|_reduction_pct$"), "no no-cache twin in a sharded run"),
]


def _drop_reason(counter):
    for pattern, why in DROP_REASONS:
        if pattern.search(counter):
            return why
    return "no exact merge rule"


class Shard:
    """One shard's manifest and files."""

    def __init__(self, folder, manifest):
        self.folder = folder
        self.m = manifest
        self.index = manifest["shard_index"]
        self.gbench = None  # the parsed Google Benchmark JSON, when it has threads

    def path(self, rel):
        return os.path.join(self.folder, rel)


def _need(manifest, key, kind, where):
    if key not in manifest or not isinstance(manifest[key], kind) or \
            isinstance(manifest[key], bool):
        raise ToolError(f"{where}: not a cabench shard manifest (no valid '{key}')")
    return manifest[key]


def load_shards(out_dir):
    """The shards of OUT, checked to belong together; raises ToolError (exit 2)."""
    if not os.path.isdir(out_dir):
        raise ToolError(f"{out_dir}: no such folder (expected the --out_dir of a sharded run)")
    folders = sorted(d for d in os.listdir(out_dir) if SHARD_DIR.match(d))
    if not folders:
        raise ToolError(f"{out_dir}: no shard-I folders (is it the --out_dir of a sharded run?)")
    shards = []
    for d in folders:
        folder = os.path.join(out_dir, d)
        path = os.path.join(folder, MANIFEST)
        if not os.path.exists(path):
            raise ToolError(f"{folder}: no {MANIFEST} (shard {SHARD_DIR.match(d).group(1)} did "
                            "not finish, or is not a cabench shard)")
        m = load_json(path, "cabench shard manifest")
        if not isinstance(m, dict) or m.get("cabench_shard_manifest") != 1:
            raise ToolError(f"{path}: not a cabench shard manifest")
        for key, kind in [("run_id", str), ("shard_index", int), ("shard_count", int),
                          ("git_rev", str), ("build_type", str), ("start_at_ms", int),
                          ("benchmarks", list), ("scenario_files", dict)]:
            _need(m, key, kind, path)
        index = m["shard_index"]
        if int(SHARD_DIR.match(d).group(1)) != index:
            raise ToolError(f"{path}: duplicated shard {index} (the manifest of shard {index} "
                            f"is in folder {d})")
        shards.append(Shard(folder, m))
    first = shards[0]
    for s in shards[1:]:
        for key, what in [("run_id", "run id"), ("shard_count", "shard count"),
                          ("git_rev", "build (git revision)"), ("build_type", "build type"),
                          ("start_at_ms", "--start_at"), ("queries", "--queries"),
                          ("rate_per_s", "--rate_per_s"), ("scenario_files", "scenario files")]:
            if s.m.get(key) != first.m.get(key):
                raise ToolError(
                    f"shard {s.index} does not belong with shard {first.index}: other {what} "
                    f"({s.m.get(key)!r} vs {first.m.get(key)!r})")
        if [b.get("name") for b in s.m["benchmarks"]] != \
                [b.get("name") for b in first.m["benchmarks"]]:
            raise ToolError(f"shard {s.index} does not belong with shard {first.index}: other "
                            "benchmarks (other scenario or filter)")
    count = first.m["shard_count"]
    seen = {}
    for s in shards:
        if not 0 <= s.index < count:
            raise ToolError(f"{s.folder}: shard index {s.index} outside 0..{count - 1}")
        seen[s.index] = s
    missing = [i for i in range(count) if i not in seen]
    if missing:
        raise ToolError(f"{out_dir}: shard {', '.join(map(str, missing))} of {count} missing "
                        f"(no shard-{missing[0]}/{MANIFEST})")
    shards.sort(key=lambda s: s.index)
    for b, bench in enumerate(first.m["benchmarks"]):
        threads = bench.get("threads")
        owner = {}
        for s in shards:
            for g in s.m["benchmarks"][b].get("thread_indexes", []):
                if g in owner:
                    raise ToolError(f"{bench['name']}: thread {g} run by shard {owner[g]} and by "
                                    f"shard {s.index} (duplicated shard)")
                owner[g] = s.index
        if sorted(owner) != list(range(threads)):
            lost = sorted(set(range(threads)) - set(owner))
            raise ToolError(f"{bench['name']}: threads {lost} of {threads} run by no shard")
    return shards


def _entry(shard, bench):
    """The shard's Google Benchmark entry of `bench` (its manifest entry)."""
    if "shard_name" not in bench:
        raise Failure(f"shard {shard.index}: its run of {bench['name']} failed or wrote no "
                      "files (see that shard's log)")
    if shard.gbench is None:
        rel = shard.m.get("benchmark_json") or "cabench.json"
        shard.gbench = load_json(shard.path(rel), "Google Benchmark JSON file")
        if not isinstance(shard.gbench, dict) or \
                not isinstance(shard.gbench.get("benchmarks"), list):
            raise ToolError(f"{shard.path(rel)}: not Google Benchmark JSON")
    for e in shard.gbench["benchmarks"]:
        if e.get("name") == bench["shard_name"] and e.get("run_type", "iteration") == "iteration":
            if e.get("error_occurred"):
                raise Failure(f"shard {shard.index}: {bench['name']} failed: "
                              f"{e.get('error_message', '')}")
            return e
    raise ToolError(f"shard {shard.index}: no entry '{bench['shard_name']}' in its "
                    "Google Benchmark JSON")


def _percentile_us(h, p):
    return h.percentile(p) / 1000.0


def merge_counters(entries, hists, spans, thread_zero_entry, schedule=None):
    """The merged counters of one benchmark, and {dropped counter: reason}.

    entries: each shard's Google Benchmark entry; hists: the merged histograms by name
    (names.def's classes and steps, "overall", and in open-loop runs "intended_<class>" and
    "start_lag"); spans: (first_start_ns, last_end_ns) per shard; thread_zero_entry: the
    entry of the shard that ran global thread 0; schedule: (origin_ns, window_ns) of an
    open-loop run's schedule, the same for every shard (else None)."""
    present = set()
    for e in entries:
        present.update(k for k, v in e.items() if is_number(v))
    out, dropped = {}, {}
    total = {k: sum(e.get(k, 0) for e in entries) for k in SUMMED}
    for k in SUMMED & present:
        out[k] = float(total[k])
    for k in SAME & present:
        values = {e.get(k) for e in entries}
        if len(values) == 1:
            out[k] = float(values.pop())
        else:
            dropped[k] = "shards differ"
    for k in THREAD_ZERO & present:
        if k in thread_zero_entry:
            out[k] = float(thread_zero_entry[k])
    # Run counters from the merged histograms, as Summarize() does.
    first = min(s for s, _ in spans)
    last = max(e for _, e in spans)
    if schedule:
        # Open loop, as RunCounters: the schedule's window, or longer when the last
        # operation ended after it.
        first, last = schedule[0], max(last, schedule[0] + schedule[1])
    wall_s = (last - first) / 1e9 if last > first else 0.0
    ops = total["ops"]
    if "wall_s" in present:
        out["wall_s"] = wall_s
    if "ops_per_s" in present and wall_s > 0:
        out["ops_per_s"] = ops / wall_s
    hits, misses = total["cache_hits"], total["cache_misses"]
    if "hit_rate_pct" in present and hits + misses > 0:
        out["hit_rate_pct"] = 100.0 * hits / (hits + misses)
    overall = hists["overall"]
    for k, p in [("p50_us", 50), ("p95_us", 95), ("p99_us", 99), ("p999_us", 99.9)]:
        if k in present:
            out[k] = _percentile_us(overall, p)
    class_names = names.class_names()
    if "max_us" in present:
        out["max_us"] = max(hists[c].max for c in class_names) / 1000.0
    if "error_max_us" in present:
        out["error_max_us"] = hists["error"].max / 1000.0
    db = histogram.merge([hists[c] for c in ("miss", "db_read", "fallback", "write")])
    db_avg = db.mean() / 1000.0
    hit_avg = hists["hit"].mean() / 1000.0
    miss_avg = hists["miss"].mean() / 1000.0
    if "db_avg_us" in present and db_avg > 0:
        out["db_avg_us"] = db_avg
        out["db_p99_us"] = _percentile_us(db, 99)
    if "speedup" in present and hits > 0 and db_avg > 0 and hit_avg > 0:
        out["speedup"] = db_avg / hit_avg
    if "miss_vs_hit" in present and hits > 0 and miss_avg > 0 and hit_avg > 0:
        out["miss_vs_hit"] = miss_avg / hit_avg
    if "db_reads_per_miss" in present and misses > 0:
        # Each shard's SELECTs of reads, back from its ratio (an integer over its misses).
        if all("db_reads_per_miss" in e or e.get("cache_misses", 0) == 0 for e in entries) and \
                all(e.get("early_refreshes", 0) == 0 or "db_reads_per_miss" in e
                    for e in entries):
            selects = sum(round(e.get("db_reads_per_miss", 0) * e.get("cache_misses", 0))
                          for e in entries)
            out["db_reads_per_miss"] = selects / misses
        else:
            dropped["db_reads_per_miss"] = "a shard's SELECTs per miss are unknown"
    if "client_cpu_us_per_op" in present and "client_cpu_ms" in out and ops > 0:
        out["client_cpu_us_per_op"] = out["client_cpu_ms"] * 1000.0 / ops
    open_loop = all(f"intended_{c}" in hists for c in class_names) and "start_lag" in hists
    if open_loop:
        intended = histogram.merge([hists[f"intended_{c}"] for c in class_names if c != "error"])
        for k, p in [("intended_p50_us", 50), ("intended_p99_us", 99),
                     ("intended_p999_us", 99.9)]:
            if k in present:
                out[k] = _percentile_us(intended, p)
        lag = hists["start_lag"]
        if "start_lag_avg_us" in present:
            out["start_lag_avg_us"] = lag.mean() / 1000.0
        if "start_lag_p99_us" in present:
            out["start_lag_p99_us"] = _percentile_us(lag, 99)
        target = out.get("target_rate_per_s", 0)
        if "target_missed" in present and target > 0 and "ops_per_s" in out:
            # As RunCounters: against the target itself.
            out["target_missed"] = 1.0 if out["ops_per_s"] < TARGET_ACHIEVED * target else 0.0
    # Per class and per step, from their merged histograms.
    stat_names = set()
    for c in class_names:
        for suffix in names.class_stats():
            stat_names.add(f"{c}_{suffix.suffix}")
        h = hists[c]
        if h.count == 0 or c == "error":
            continue
        for suffix, p in CLASS_STATS.items():
            k = f"{c}_{suffix}"
            if k in present:
                out[k] = h.mean() / 1000.0 if p is None else _percentile_us(h, p)
        if open_loop:
            hi = hists[f"intended_{c}"]
            for suffix, p in INTENDED_CLASS_STATS.items():
                k = f"{c}_{suffix}"
                if k in present:
                    out[k] = hi.mean() / 1000.0 if p is None else _percentile_us(hi, p)
    for st in names.step_names():
        for suffix in names.step_stats():
            stat_names.add(f"{st}_{suffix.suffix}")
        h = hists[st]
        if h.count == 0:
            continue
        for suffix, p in STEP_STATS.items():
            k = f"{st}_{suffix}"
            if k in present:
                out[k] = h.mean() / 1000.0 if p is None else _percentile_us(h, p)
    known = SUMMED | SAME | THREAD_ZERO | RECOMPUTED_RUN
    for k in sorted(present):
        if k in out or k in dropped or k in GBENCH_FIELDS:
            continue
        needs_open_loop = k in OPEN_LOOP_RUN or "intended" in k
        if (k in known or k in stat_names or k in OPEN_LOOP_RUN) and \
                (open_loop or not needs_open_loop):
            continue  # not applicable to the merged run (e.g. nothing to divide by)
        dropped[k] = _drop_reason(k)
    return out, dropped


GBENCH_FIELDS = {"family_index", "per_family_instance_index", "repetitions", "repetition_index",
                 "threads", "iterations", "real_time", "cpu_time"}


def merge_entry(bench, entries, shards_threads, counters):
    """The merged Google Benchmark entry: the unsharded name, T threads, iterations summed,
    real_time the mean thread's wall time and cpu_time the threads' sum, per iteration."""
    base = entries[0]
    iterations = sum(e["iterations"] for e in entries)
    # A shard's real_time x iterations is its threads' MEAN wall time; weigh by its threads.
    real_mean = sum(e["real_time"] * e["iterations"] * n
                    for e, n in zip(entries, shards_threads)) / bench["threads"]
    cpu_total = sum(e["cpu_time"] * e["iterations"] for e in entries)
    out = {
        "name": bench["name"],
        "family_index": base.get("family_index", 0),
        "per_family_instance_index": base.get("per_family_instance_index", 0),
        "run_name": bench["name"],
        "run_type": "iteration",
        "repetitions": 1,
        "repetition_index": 0,
        "threads": bench["threads"],
        "iterations": iterations,
        "real_time": real_mean / iterations,
        "cpu_time": cpu_total / iterations,
        "time_unit": base.get("time_unit", "ns"),
    }
    out.update(sorted(counters.items()))
    return out


def _file_name(name):
    return name.replace("/", "_").replace(":", "-") + ".json"


def _ns(value):
    return None if value is None else round(value * 1000)


SERIES_SUMMED = ["count", "reads", "writes", "cache_hits", "cache_misses", "errors", "db_reads",
                 "fallback_reads", "late_ops", "fill_waits", "early_refreshes"]
SERIES_MIN = ["min_time_us", "db_min_us", "hit_min_us"]
SERIES_MAX = ["max_time_us", "db_max_us", "hit_max_us"]


def merge_series(per_shard):
    """Per-second series of several shards, aligned on the epoch second: counts summed,
    total_time_us summed in whole nanoseconds, avg_time_us = total / count, the exact mins and
    maxes; fields that cannot be merged exactly (per-class means and p99s from coarse
    histograms, server figures) are left out. Returns (series dict, dropped field names)."""
    seconds = sorted({int(k) for data in per_shard for k in data})
    present = set()
    for data in per_shard:
        for fields in data.values():
            present.update(fields)
    kept = [k for k in SERIES_SUMMED + SERIES_MIN + SERIES_MAX if k in present]
    dropped = sorted(present - set(kept) - {"total_time_us", "avg_time_us"})
    out = {}
    for sec in range(seconds[0], seconds[-1] + 1) if seconds else []:
        rows = [data[str(sec)] for data in per_shard if str(sec) in data]
        merged = {}
        count = sum(r.get("count", 0) for r in rows)
        total_ns = sum(_ns(r.get("total_time_us", 0)) or 0 for r in rows)
        merged["count"] = count
        merged["total_time_us"] = total_ns / 1000.0
        merged["avg_time_us"] = round(total_ns / count / 1000.0, 3) if count else None
        for k in kept:
            if k in SERIES_SUMMED:
                merged[k] = sum(r.get(k, 0) or 0 for r in rows)
            else:
                values = [r[k] for r in rows if r.get(k) is not None]
                merged[k] = (min if k in SERIES_MIN else max)(values) if values else None
        out[str(sec)] = merged
    return out, dropped


def merge_run(out_dir, dest=None):
    """Merges OUT's shards into DEST (default OUT/merged): cabench.json, histograms/ and
    series/. Returns (path of the merged JSON, notes). Raises ToolError (exit 2) for shards
    that do not belong together, Failure (exit 1) for a shard whose run failed."""
    shards = load_shards(out_dir)
    dest = dest or os.path.join(out_dir, "merged")
    first = shards[0]
    notes = []
    offsets = [s.m.get("clock_offset_ms") for s in shards if is_number(s.m.get("clock_offset_ms"))]
    if len(offsets) >= 2:
        notes.append(f"clock offsets from the cache server's clock span "
                     f"{max(offsets) - min(offsets):.3f} ms over the shards (epoch times are "
                     "each machine's own)")
    entries_out, files = [], []
    context = None
    for b, bench in enumerate(first.m["benchmarks"]):
        holders = [(s, s.m["benchmarks"][b]) for s in shards
                   if s.m["benchmarks"][b].get("thread_indexes")]
        entries = [_entry(s, sb) for s, sb in holders]
        if context is None:
            context = dict(holders[0][0].gbench.get("context", {}))
        hist_sets = []
        for s, sb in holders:
            hist_sets.append(histogram.load_histograms(s.path(sb["histograms"])))
        keys = [k for k in hist_sets[0] if all(k in hs for hs in hist_sets)]
        hists = {k: histogram.merge([hs[k] for hs in hist_sets]) for k in keys}
        spans = [(sb["first_start_ns"], sb["last_end_ns"]) for _, sb in holders]
        zero = next(e for (s, sb), e in zip(holders, entries) if 0 in sb["thread_indexes"])
        starts = [sb.get("schedule_start_ns", 0) for _, sb in holders]
        windows = [sb.get("schedule_window_ns", 0) for _, sb in holders]
        schedule = (min(starts), max(windows)) if all(starts) and all(windows) else None
        counters, dropped = merge_counters(entries, hists, spans, zero, schedule)
        entries_out.append(merge_entry(bench, entries,
                                       [len(sb["thread_indexes"]) for _, sb in holders],
                                       counters))
        by_reason = {}
        for k, why in sorted(dropped.items()):
            by_reason.setdefault(why, []).append(k)
        for why, keys in by_reason.items():
            notes.append(f"{bench['name']}: left out {', '.join(keys)} ({why})")
        series = []
        for s, sb in holders:
            series.append(load_json(s.path(sb["series"]), "cabench time-series file"))
        merged_series, series_dropped = merge_series(series)
        if series_dropped:
            notes.append(f"{bench['name']}: series fields left out (no exact merge): "
                         f"{', '.join(series_dropped)}")
        files.append((os.path.join("histograms", _file_name(bench["name"])),
                      "{\n" + ",\n".join(f'  "{k}": "{histogram.serialize(h)}"'
                                         for k, h in hists.items()) + "\n}"))
        files.append((os.path.join("series", _file_name(bench["name"])),
                      _series_json(merged_series)))
    context = context or {}
    for k in ("run_id", "seat_tag", "out_dir"):
        context.pop(k, None)
    context.update({
        "out_dir": dest,
        "sharded_run_id": first.m["run_id"],
        "shard_count": str(first.m["shard_count"]),
        "shard_hosts": ",".join(s.m.get("host", "?") for s in shards),
        "start_at_ms": str(first.m["start_at_ms"]),
        "merge_notes": " | ".join(notes),
    })
    os.makedirs(dest, exist_ok=True)
    for rel, text in files:
        os.makedirs(os.path.join(dest, os.path.dirname(rel)), exist_ok=True)
        with open(os.path.join(dest, rel), "w") as f:
            f.write(text)
    path = os.path.join(dest, "cabench.json")
    with open(path, "w") as f:
        json.dump({"context": context, "benchmarks": entries_out}, f, indent=2)
        f.write("\n")
    return path, notes


def _series_json(series):
    return json.dumps(series, indent=2)

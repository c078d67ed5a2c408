"""Joins the shards of a sharded cabench run (OUT/shard-I/) into one run (OUT/merged/).

Each shard wrote (bench/sharded_run.h) OUT/shard-I/shard.json, its Google Benchmark JSON
and, per benchmark it had threads of, its histograms and time series. The merge is exact: it
gives what one process running every shard's threads would have reported.

Checks first (any failure is one ToolError, exit 2): every shard 0..N-1 present once (the
folder shard-I holds the manifest of shard I), the same run id, shard count, git revision,
build type, agreed start, options and scenario files on every shard, the same benchmarks,
and per benchmark every global thread index 0..T-1 run by exactly one shard.

Then, per benchmark, each counter as its merge rule in lib/metrics/names.def says:
  run          computed from the merged run: the shards' records (histograms files) added
               into one recorder by build/bin/cabench_report, which computes the counters
               with the code of cabench itself (counts, rates over the merged span or the
               open-loop schedule's window, percentiles of the merged histograms, means,
               target_missed, the intended-time figures)
  sum          added over the shards (their inserts' removal, reconnects, client CPU, ...)
  same         facts every shard reports alike (target rate, key universe); left out if not
  thread0      what only the shard with global thread 0 did (the warm-up)
  verdict      valid: the reasons in the shards' labels ("invalid: not_steady, ..."),
               with few_samples and target_missed judged again on the merged run (its
               p99_us absent: too few samples; its own target_missed); valid 1 when none
               remains, else 0 and the merged entry's label names them
  shard, server, process, twin   left out, each named in the notes with its reason
The merged histograms file is the merged record (cabench_report --out).
The Google Benchmark entry takes the unsharded name (threads:T), iterations summed, and
real_time / cpu_time as the library computes them for one process of T threads: real time
is the mean over threads of each thread's wall time, cpu time the threads' sum, both per
iteration.
"""
import json
import os
import re
import tempfile

from . import names, report
from .common import Failure, ToolError, is_number, load_json

MANIFEST = "shard.json"
SHARD_DIR = re.compile(r"^shard-(\d+)$")

# Why a counter is left out, by its merge rule (lib/metrics/names.def).
LEFT_OUT = {
    "shard": "each shard counts it against its own key table and writes",
    "server": "server-side statistics: every shard read the whole server over its own span",
    "process": "one process's view (the model's input, a pool's waits, a cluster's shares)",
    "twin": "no no-cache twin in a sharded run",
}


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


def merge_counters(entries, records, thread_zero_entry, schedule=None):
    """The merged counters of one benchmark (with "label" when the merged run is not valid),
    and {dropped counter: reason}.

    entries: each shard's Google Benchmark entry; records: each shard's histograms file;
    thread_zero_entry: the entry of the shard that ran global thread 0; schedule:
    (origin_ns, window_ns) of an open-loop run's schedule, the same for every shard (else
    None). Returns also the merged record's text (for the merged histograms file)."""
    present = set()
    for e in entries:
        present.update(k for k, v in e.items() if is_number(v) and k not in GBENCH_FIELDS)
    facts = {"cache": int(any("cache_hits" in e for e in entries)),
             "single_flight": int("fill_waits" in present),
             "early_refresh": int("early_refreshes" in present)}
    targets = {e.get("target_rate_per_s") for e in entries}
    if len(targets) == 1 and is_number(next(iter(targets))):
        facts["target_rate_per_s"] = next(iter(targets))
    if schedule:
        facts["schedule_start_ns"], facts["schedule_window_ns"] = schedule
    with tempfile.TemporaryDirectory(prefix="cabench-merge-") as tmp:
        merged_path = os.path.join(tmp, "merged.json")
        computed = report.run_counters(records, facts, out=merged_path)
        with open(merged_path) as f:
            merged_record = f.read()
    # What the merged run itself computes (rule "run") is there even when no shard
    # had it: a percentile each shard had too few samples to bound, the whole can.
    present.update(k for k in computed if names.merge_rule(k) == "run")
    out, dropped = {}, {}
    for k in sorted(present):
        rule = names.merge_rule(k)
        if rule == "run":
            if k in computed:
                out[k] = float(computed[k])
        elif rule == "sum":
            out[k] = float(sum(e.get(k, 0) for e in entries))
        elif rule == "same":
            values = {e.get(k) for e in entries}
            if len(values) == 1:
                out[k] = float(values.pop())
            else:
                dropped[k] = "shards differ"
        elif rule == "thread0":
            if k in thread_zero_entry:
                out[k] = float(thread_zero_entry[k])
        elif rule == "verdict":
            reasons = verdict_reasons(entries, computed)
            out[k] = float(not reasons)
            if reasons:
                out["label"] = "invalid: " + ", ".join(reasons)
        elif rule in LEFT_OUT:
            dropped[k] = LEFT_OUT[rule]
        else:
            dropped[k] = "no merge rule in lib/metrics/names.def"
    return out, dropped, merged_record


def verdict_reasons(entries, computed):
    """The reasons the merged run is not valid (names.def's rule "verdict"): every reason
    in the shards' labels but few_samples and target_missed, which the merged run's own
    counters `computed` decide (cabench_report leaves p99_us out when the samples cannot
    bound it, the rule few_samples stands for)."""
    reasons = []
    for e in entries:
        label = e.get("label", "")
        if label.startswith("invalid: "):
            for r in label[len("invalid: "):].split(","):
                r = r.strip()
                if r and r not in ("few_samples", "target_missed") and r not in reasons:
                    reasons.append(r)
    if computed.get("target_missed"):
        reasons.append("target_missed")
    if "p99_us" not in computed:
        reasons.append("few_samples")
    return reasons


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
        records = [s.path(sb["histograms"]) for s, sb in holders]
        zero = next(e for (s, sb), e in zip(holders, entries) if 0 in sb["thread_indexes"])
        starts = [sb.get("schedule_start_ns", 0) for _, sb in holders]
        windows = [sb.get("schedule_window_ns", 0) for _, sb in holders]
        schedule = (min(starts), max(windows)) if all(starts) and all(windows) else None
        counters, dropped, merged_record = merge_counters(entries, records, zero, schedule)
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
        files.append((os.path.join("histograms", _file_name(bench["name"])), merged_record))
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

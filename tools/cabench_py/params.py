"""Each benchmark's parameters, as cabench records them (lib/workload/scenario_params.h),
so that no tool parses a benchmark's name or a file's name for them.

  of_results(path, doc) {benchmark name: params} for a results file: the
                        benchmarks.json beside it, else in the run folder its context
                        names (out_dir); {} for a run written before it
  of_folder(folder)     {file stem: params} from a run folder's benchmarks.json
                        (each with "benchmark": its name); {} when there is none
  of_series(path)       the params of a series or histograms file (FOLDER/series/STEM.json
                        or STEM_runN.json) from FOLDER/benchmarks.json, with "run": N;
                        None when the folder has no record of it

params: {"scenario", "threads", "queries_per_thread", "read_pct", "ttl_ms", "access",
"cache", "write_policy"} always; "twin": true for a no-cache twin; "rate_per_s" and
"arrival" open loop; "cache_max_memory", "cache_keys_pct", "eviction_policy", "zipf_s"
when set.
"""
import json
import os

from .common import ToolError, load_json

FOLDER_FILE = "benchmarks.json"


def of_results(path, doc):
    folders = [os.path.dirname(os.path.abspath(path))]
    out_dir = (doc.get("context") or {}).get("out_dir")
    if out_dir:
        folders.append(out_dir)
    for folder in folders:
        known = of_folder(folder)
        if known:
            return {p["benchmark"]: p for p in known.values() if "benchmark" in p}
    return {}


def of_folder(folder):
    path = os.path.join(folder, FOLDER_FILE)
    if not os.path.isfile(path):
        return {}
    value = load_json(path, "cabench benchmarks file")
    if not isinstance(value, dict):
        raise ToolError(f"{path}: not a cabench benchmarks file (expected an object)")
    return value


def of_series(path):
    stem = os.path.basename(path)
    stem = stem[:-5] if stem.endswith(".json") else stem
    folder = os.path.dirname(os.path.dirname(os.path.abspath(path)))
    known = of_folder(folder)
    if stem in known:
        return dict(known[stem], run=0)
    base, sep, run = stem.rpartition("_run")
    if sep and run.isdigit() and base in known:
        return dict(known[base], run=int(run))
    return None

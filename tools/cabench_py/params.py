"""Each benchmark's parameters, as cabench records them (lib/workload/scenario_params.h),
so that no tool parses a benchmark's name or a file's name for them.

  of_context(context)   {benchmark name: params} from a results file's context
                        ("cabench_benchmarks"); {} for a file written before it
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

CONTEXT_KEY = "cabench_benchmarks"
FOLDER_FILE = "benchmarks.json"


def of_context(context):
    raw = (context or {}).get(CONTEXT_KEY)
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        raise ToolError(f"the context's {CONTEXT_KEY} is not JSON")
    if not isinstance(value, dict):
        raise ToolError(f"the context's {CONTEXT_KEY} is not an object")
    return value


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

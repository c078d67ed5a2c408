"""Google Benchmark JSON result files (--benchmark_out_format=json) as cabench writes them.

load_results(path) validates a file and groups its entries by run: every
repetition of one benchmark (run_type "iteration", repetition_index 0..n-1)
and the aggregates Google Benchmark adds (mean, median, stddev, cv).
"""
from .common import ToolError, is_number, load_json

# Keys of a benchmark entry that are not user counters.
STANDARD_KEYS = {
    "name", "family_index", "per_family_instance_index", "run_name", "run_type",
    "repetitions", "repetition_index", "threads", "iterations", "real_time", "cpu_time",
    "time_unit", "aggregate_name", "aggregate_unit", "error_occurred", "error_message",
    "label", "big_o", "rms", "complexity_n",
}


class Run:
    """One benchmark run (all its repetitions) of a result file."""

    def __init__(self, name):
        self.name = name
        self.iterations = []   # entries with run_type "iteration" (one per repetition)
        self.aggregates = {}   # aggregate_name -> entry
        self.errors = []       # error_message of failed repetitions

    def counter_names(self):
        names = set()
        for entry in self.iterations + list(self.aggregates.values()):
            names.update(k for k, v in entry.items() if k not in STANDARD_KEYS and is_number(v))
        return names

    def samples(self, counter):
        """The counter's value in each successful repetition; the 'mean' aggregate's value
        when the file holds aggregates only; [] when no entry has the counter."""
        values = [e[counter] for e in self.iterations
                  if not e.get("error_occurred") and is_number(e.get(counter))]
        if values:
            return [float(v) for v in values]
        mean = self.aggregates.get("mean")
        if mean is not None and is_number(mean.get(counter)):
            return [float(mean[counter])]
        return []

    @property
    def repetitions(self):
        return len([e for e in self.iterations if not e.get("error_occurred")])


class Results:
    """A parsed result file: its context and its runs in file order."""

    def __init__(self, path, context, runs):
        self.path = path
        self.context = context
        self.runs = runs  # dict name -> Run, insertion-ordered


def load_results(path):
    """Returns Results for `path`; raises ToolError (one line) for a missing file, bad JSON
    or JSON that is not Google Benchmark output."""
    data = load_json(path, "Google Benchmark JSON file")
    what = "is not Google Benchmark JSON"
    if not isinstance(data, dict):
        raise ToolError(f"{path}: {what} (the top level is not an object)")
    context = data.get("context")
    benchmarks = data.get("benchmarks")
    if not isinstance(context, dict):
        raise ToolError(f"{path}: {what} (no \"context\" object)")
    if not isinstance(benchmarks, list):
        raise ToolError(f"{path}: {what} (no \"benchmarks\" list)")
    runs = {}
    for i, entry in enumerate(benchmarks):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ToolError(f"{path}: {what} (benchmarks[{i}] has no name)")
        name = entry.get("run_name")
        if not isinstance(name, str) or not name:
            name = entry["name"]
        run = runs.setdefault(name, Run(name))
        if entry.get("run_type") == "aggregate":
            agg = entry.get("aggregate_name")
            if isinstance(agg, str):
                run.aggregates[agg] = entry
            continue
        run.iterations.append(entry)
        if entry.get("error_occurred"):
            run.errors.append(str(entry.get("error_message", "error")))
    return Results(path, context, runs)

"""Shared package of the cabench Python tools (tools/compare, plot, summarize, limits,
capacity).

Modules:
  names      lib/metrics/names.def parsed: classes, steps, counters with their
             better direction, series fields, old spellings (aliases)
  common     the exit-code rule, one-line fatal errors, JSON loading
  gbench     Google Benchmark JSON result files: validation, today's names
             (old files through the aliases), grouping by run
  histogram  Histogram::Serialize() text (lib/metrics/histogram.h): parsing,
             percentiles computed exactly as the C++ code does
  series     per-second time series (lib/metrics/time_series.h)
  servers    endpoint URLs, the database password, tools/servers' exports,
             a RESP2 client
  plotting   matplotlib (Agg) loading and saving for image files
  termplot   Unicode terminal charts: braille line charts, bars, sparklines
  capacity   tools/capacity: the rate search under a p99 objective, its table,
             JSON and curves

Every file a tool reads goes through one of these loaders, which bring old
names to today's once, at load time. Python 3 standard library only;
matplotlib and scipy are imported by the tools that need them, and only when
they need them.
"""

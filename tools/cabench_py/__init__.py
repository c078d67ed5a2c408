"""Shared helpers of the cabench Python tools (tools/compare, tools/plot).

Modules:
  common     one-line fatal errors with exit codes, JSON loading
  gbench     Google Benchmark JSON result files: validation, grouping by run
  histogram  Histogram::Serialize() text (lib/metrics/histogram.h): parsing,
             percentiles computed exactly as the C++ code does
  series     per-second time series (lib/metrics/time_series.h)
  termplot   Unicode terminal charts: braille line charts, bars, sparklines

Python 3 standard library only; matplotlib and scipy are imported by the
tools that need them, and only when they need them.
"""

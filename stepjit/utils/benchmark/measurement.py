"""Measurement (the times of one Timer run, with their statistics) and Compare (a table of
measurements: rows by sub_label, columns by description, one table per label)."""
from __future__ import annotations

import statistics
from dataclasses import dataclass

import numpy as np


@dataclass
class TaskSpec:
    stmt: str
    setup: str
    label: str | None = None
    sub_label: str | None = None
    description: str | None = None
    env: str | None = None
    num_threads: int = 1

    @property
    def title(self):
        if self.label is not None:
            return self.label + (f": {self.sub_label}" if self.sub_label else "")
        return self.stmt


_UNIT_NAMES = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}


def _unit(seconds):
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns")):
        if seconds >= scale:
            return scale, unit
    return 1e-9, "ns"


class Measurement:
    """`number_per_run` runs per measurement; `raw_times` the seconds of each block."""

    def __init__(self, number_per_run, raw_times, task_spec):
        self.number_per_run = number_per_run
        self.raw_times = list(raw_times)
        self.task_spec = task_spec

    def __getattr__(self, name):   # label, sub_label, description, env, num_threads, stmt, ...
        if name != "task_spec" and hasattr(self.task_spec, name):
            return getattr(self.task_spec, name)
        raise AttributeError(name)

    @property
    def times(self):
        return [t / self.number_per_run for t in self.raw_times]

    @property
    def mean(self):
        return statistics.mean(self.times)

    @property
    def median(self):
        return float(np.median(self.times))

    @property
    def iqr(self):
        q1, q3 = np.percentile(self.times, [25, 75])
        return float(q3 - q1)

    def __repr__(self):
        scale, unit = _unit(self.median)
        q1, q3 = np.percentile(self.times, [25, 75])
        lines = [f"<stepjit.utils.benchmark.Measurement object at {hex(id(self))}>",
                 self.task_spec.title]
        if self.task_spec.setup not in ("", "pass"):
            lines.append("setup: " + self.task_spec.setup.replace("\n", "\n  "))
        if len(self.times) > 1:
            lines.append(f"  Median: {self.median / scale:.2f} {unit}")
            lines.append(f"  IQR:    {self.iqr / scale:.2f} {unit} ({q1 / scale:.2f} to "
                         f"{q3 / scale:.2f})")
        else:
            lines.append(f"  {self.median / scale:.2f} {unit}")
        threads = self.task_spec.num_threads
        lines.append(f"  {len(self.times)} measurement{'s' * (len(self.times) != 1)}, "
                     f"{self.number_per_run} runs per measurement, {threads} "
                     f"thread{'s' * (threads != 1)}")
        return "\n".join(lines)


class Compare:
    """Measurements in tables: one per label, rows sub_label (or the statement), columns
    description, cells the median time."""

    def __init__(self, results):
        self._results = list(results)
        self._digits = None

    def trim_significant_figures(self):
        self._digits = 3

    def colorize(self, rowwise=False):
        pass   # a terminal-color rendering: plain text here

    def highlight_warnings(self):
        pass

    def __str__(self):
        out = []
        for label in dict.fromkeys(m.task_spec.label for m in self._results):
            out += self._table(label, [m for m in self._results if m.task_spec.label == label])
        return "\n".join(out)

    def _table(self, label, group):
        """One label's table: a block of rows per thread count, as PyTorch prints it."""
        row = lambda m: m.task_spec.sub_label or m.task_spec.stmt   # noqa: E731
        cols = list(dict.fromkeys(m.task_spec.description or "" for m in group))
        scale, unit = _unit(min(m.median for m in group))
        cell = {(m.task_spec.num_threads, row(m), m.task_spec.description or ""):
                m.median / scale for m in group}
        width = max(len(row(m)) for m in group) + 8
        lines = [f"[{'-' * 10} {label or ''} {'-' * 10}]",
                 " " * width + " | ".join(f"{c:>10}" for c in cols)]
        for threads in dict.fromkeys(m.task_spec.num_threads for m in group):
            lines.append(f"{threads} thread{'s' * (threads != 1)}: " + "-" * 24)
            for r in dict.fromkeys(row(m) for m in group if m.task_spec.num_threads == threads):
                vals = [cell.get((threads, r, c)) for c in cols]
                lines.append(f"      {r:<{width - 6}}" + " | ".join(
                    f"{'':>10}" if v is None else f"{self._fmt(v):>10}" for v in vals))
        lines.append(f"\nTimes are in {_UNIT_NAMES[unit]} ({unit}).\n")
        return lines

    def _fmt(self, v):
        if self._digits is None:
            return f"{v:.1f}"
        return f"{float(f'{v:.{self._digits}g}'):g}"

    def print(self):
        print(str(self))

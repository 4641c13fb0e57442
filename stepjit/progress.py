"""A progress line on stderr while compiling takes long.

A trace that takes more than THRESHOLD seconds to trace, optimize and compile (a cold kernel
cache: Numba compiles every kernel) says so on stderr, so a user staring at a first call sees
what is being compiled and how far along it is:

    stepjit: compiling step: kernel 3 (2.4 s)
    stepjit: compiled step in 6.1 s (5 kernels compiled or loaded)

On a terminal the line updates in place. STEPJIT_PROGRESS=0 turns it off; =1 turns it on
where stderr is not a terminal (a log file, a notebook); by default it shows on a terminal
only.
"""
from __future__ import annotations

import sys
import time

from . import config

THRESHOLD = 1.0


def enabled() -> bool:
    return config.progress()


class _Compile:
    __slots__ = ("name", "start", "kernels", "shown")

    def __init__(self, name):
        self.name = name
        self.start = time.perf_counter()
        self.kernels = 0
        self.shown = False


_STACK = []


class compiling:
    """The span of one trace-and-compile; kernels report into the innermost."""

    def __init__(self, name):
        self.job = _Compile(name)

    def __enter__(self):
        _STACK.append(self.job)
        return self.job

    def __exit__(self, *exc):
        _STACK.pop()
        job = self.job
        elapsed = time.perf_counter() - job.start
        if job.shown or (elapsed > THRESHOLD and enabled()):
            _write(f"stepjit: compiled {job.name} in {elapsed:.1f} s ({job.kernels} kernels "
                   "compiled or loaded)", final=True)
        return False


def kernel_started() -> None:
    """A kernel's first call (a Numba compile or a cache load) begins."""
    if not _STACK:
        return
    job = _STACK[-1]
    job.kernels += 1
    elapsed = time.perf_counter() - job.start
    if elapsed > THRESHOLD and enabled():
        job.shown = True
        _write(f"stepjit: compiling {job.name}: kernel {job.kernels} ({elapsed:.1f} s)")


def _write(line, final=False):
    tty = hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
    if tty:
        sys.stderr.write("\r\033[K" + line + ("\n" if final else ""))
    else:
        sys.stderr.write(line + "\n")
    sys.stderr.flush()

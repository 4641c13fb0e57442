"""How many threads a compiled CPU program runs on: one, or the process's pools, whichever
that program's own recent calls ran faster.

A program's large matmuls run on OpenBLAS's threads (NumPy's BLAS, called in place by native
programs: codegen/gemm.py) and its large loops on Numba's (`prange`, codegen/loops.py). Both
pools default to one thread per core. On an idle machine more threads pay for large work;
on a busy one they cost far more than they give: a pool's threads meet at a barrier after
each matmul or loop, and one of them waiting for a core held by another process stalls the
whole step. `python -m benchmarks.threads` (W3, an MLP whose 25M-MAC matmuls OpenBLAS splits
in two; two cores at load 15): 13 ms a step on one thread, 336 ms on two. Neither fixed
choice is right on a machine whose load changes, so each program that could use more than one
thread (a matmul of at least BLAS_THREADS_MIN_MACS, which OpenBLAS would split, or a parallel
loop) measures itself (ThreadChoice):

- it starts on one thread, the count that is never slower by more than the work it could
  share;
- every `interval` calls it tries the process's count (`wide`) for PROBE_CALLS calls, and
  moves to `wide` if their median beats the one-thread median by MARGIN; a call that takes
  over twice the one-thread median ends the try at once (a busy machine: one slow call);
- each lost try doubles the interval (up to MAX_INTERVAL): on a busy machine the tries cost a
  fraction of a percent (one slow call in 4096);
- on `wide`, it tries one thread every WIDE_INTERVAL calls (a cheap try: at most the work one
  core does alone, and the first call that does not beat `wide` by MARGIN ends it) and goes
  back when each of PROBE_CALLS calls does, so a machine that becomes busy is followed within
  a few dozen calls.

The count is set around the program's call and the pools' settings are put back after it, so
eager NumPy in the same process keeps the user's settings. `stepjit.set_num_threads(n)` fixes
the count instead (n, bounded by each pool's size), as PyTorch's does for its own ops;
STEPJIT_THREADS=n does the same for a process. A program whose pools have one thread
(OPENBLAS_NUM_THREADS=1, NUMBA_NUM_THREADS=1) is run as it is.
"""
from __future__ import annotations

import functools
import statistics
import time

from .. import config
from .. import threads as user_threads
from ..codegen import blas

# OpenBLAS runs a gemm of fewer multiply-adds than this on one thread whatever its setting
# (interface/gemm.c: SMP_THRESHOLD_MIN 65536 x GEMM_MULTITHREAD_THRESHOLD 4).
BLAS_THREADS_MIN_MACS = 1 << 18
FIRST_INTERVAL = 16     # calls on one thread before the first try of more
MAX_INTERVAL = 4096     # the longest wait between tries of more threads while they lose
WIDE_INTERVAL = 32      # on more threads, one thread is tried this often
PROBE_CALLS = 3         # calls per try
MARGIN = 0.9            # a try wins when its median is under MARGIN x the current median
RECENT = 8              # calls kept per count for its median


class ThreadChoice:
    """The thread count of one program's next call, from its recent calls' wall times: 1 or
    `wide` (module docstring). `count()` says what to run; `record(n, seconds)` what it took."""
    __slots__ = ("wide", "current", "recent", "interval", "countdown", "trial")

    def __init__(self, wide):
        self.wide = wide
        self.current = 1
        self.recent = {1: [], wide: []}
        self.interval = FIRST_INTERVAL
        self.countdown = FIRST_INTERVAL
        self.trial = None           # wall times of the try in progress, or None

    def count(self) -> int:
        if self.trial is None:
            return self.current
        return self.wide if self.current == 1 else 1

    def record(self, n, seconds):
        if self.trial is None or n == self.current:
            kept = self.recent[n]
            kept.append(seconds)
            del kept[:-RECENT]
            self.countdown -= 1
            if self.countdown <= 0 and self.trial is None:
                self.trial = []
            return
        self.trial.append(seconds)
        base = statistics.median(self.recent[self.current]) if self.recent[self.current] \
            else float("inf")
        if self.current == 1:
            # more threads: a call over twice the one-thread median ends the try (lost, one
            # call); otherwise the try's median decides
            won = seconds <= 2 * base and (len(self.trial) < PROBE_CALLS
                                           or statistics.median(self.trial) < MARGIN * base)
            done = not won or len(self.trial) == PROBE_CALLS
        else:
            # one thread, tried often while more threads win: its first call that does not
            # beat their median ends the try
            won = seconds < MARGIN * base
            done = not won or len(self.trial) == PROBE_CALLS
        if not done:
            return
        self.trial = None
        if won:
            self.recent[n] = []           # the try's few calls were no fair median of it
            self.current = n
            self.interval = FIRST_INTERVAL
            self.countdown = WIDE_INTERVAL if n != 1 else FIRST_INTERVAL
        elif self.current == 1:
            self.interval = min(2 * self.interval, MAX_INTERVAL)
            self.countdown = self.interval
        else:
            self.countdown = WIDE_INTERVAL


class Pools:
    """The thread pools a program uses (OpenBLAS's, Numba's), their sizes, and setting them
    around a call."""

    def __init__(self, blas, loops):
        self.blas = blas_threads() if blas else None      # (get, set) of OpenBLAS, or None
        self.loops = loops

    def sizes(self):
        """Each used pool's current setting: what `wide` means for this process."""
        out = []
        if self.blas is not None:
            out.append(self.blas[0]())
        if self.loops:
            import numba
            out.append(numba.get_num_threads())
        return out

    def run(self, n, fn, *args):
        """fn(*args) with each used pool set to n threads (at most its setting), then the
        pools' settings as they were."""
        old_blas = old_loops = None
        if self.blas is not None:
            old_blas = self.blas[0]()
            self.blas[1](min(n, old_blas))
        if self.loops:
            import numba
            old_loops = numba.get_num_threads()
            numba.set_num_threads(min(n, old_loops))
        try:
            return fn(*args)
        finally:
            if old_blas is not None:
                self.blas[1](old_blas)
            if old_loops is not None:
                import numba
                numba.set_num_threads(old_loops)


def blas_threads():
    """(get, set) of the thread count of the BLAS NumPy loaded (codegen/blas.py), or None when
    it has no such functions (not OpenBLAS) or no BLAS was found."""
    return blas.thread_functions()


class Chooser:
    """One program's pools and ThreadChoice, shared by its entries (a native program's plain
    and packed ones), and the thread count STEPJIT_THREADS fixed when it was built."""
    __slots__ = ("pools", "choice", "env_count")

    def __init__(self, pools):
        self.pools = pools
        self.choice = None          # a ThreadChoice; False where the pools have one thread
        self.env_count = config.threads()

    def run(self, fn, *args):
        fixed = user_threads._REQUESTED or self.env_count
        if fixed is not None:
            return self.pools.run(fixed, fn, *args)
        choice = self.choice
        if choice is None:      # (the pools' sizes, read once: what `wide` means here)
            wide = max(self.pools.sizes(), default=1)
            choice = self.choice = ThreadChoice(wide) if wide > 1 else False
        if choice is False:
            return fn(*args)
        n = choice.count()
        start = time.perf_counter()
        out = self.pools.run(n, fn, *args)
        choice.record(n, time.perf_counter() - start)
        return out


class Threaded:
    """A program's kernel (codegen/kernels.Kernel) run through its Chooser, with the kernel's
    `fastest()` contract: itself until the kernel has run, then what a caller holding on to it
    (runtime/fastcall.py) should call: the chooser on what runs the kernel."""
    __slots__ = ("fn", "chooser", "entry")

    def __init__(self, fn, chooser):
        self.fn, self.chooser = fn, chooser
        self.entry = None

    def __call__(self, *args):
        return self.chooser.run(self.fn, *args)

    def fastest(self):
        if self.entry is None:
            runs = self.fn.fastest()
            if runs is self.fn:         # not run yet: its first call picks what runs it
                return self
            self.entry = functools.partial(self.chooser.run, runs)
        return self.entry


def chooser(blas, loops):
    """A Chooser for a program with a matmul OpenBLAS would split (blas) or a parallel loop
    (loops), or None when neither could run on more than one thread."""
    pools = Pools(blas, loops)
    if pools.blas is None and not loops:
        return None
    return Chooser(pools)


def wrap(fn, chooser):
    """fn run through the chooser (None: fn itself)."""
    return fn if chooser is None or fn is None else Threaded(fn, chooser)

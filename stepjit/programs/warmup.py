"""A CPU program's first calls, while its loop kernels compile: no call waits for all of them.

A program that does not become one native function runs its steps as one generated Python
function (codegen/straight_line.py) calling a Numba loop kernel per fused group. Compiled all
at its first run, a large step's kernels stall that call: a 2-layer LSTM language model over
35 time steps has 37 of them, 25 s of Numba at load 4-8, a small CIFAR ResNet 41. So
by default (STEPJIT_FIRST_CALL unset) a group whose kernel has not run yet runs through a stand-in,
`PendingKernel`, which on each call either

  - runs the kernel: it is loaded in this process, was compiled before this run (below), or
    its machine-code entry is on disk (a warm cache, or the compile helper process built it
    meanwhile: codegen/compile_helper.py), so that its first call loads it in milliseconds;
  - or evaluates the group's nodes with the registry's impls (the IR interpreter's
    `run_impl`, which eager runs too) and copies the results into the buffers the kernel
    would have written (its outputs, or the inputs it updates in place): the memory plan,
    in-place updates and what the caller reads are the kernel's. It times this.

Before each run, `Warmup.begin` compiles the kernels whose groups cost the most to interpret
in the previous run, within the call's budget (CALL_BUDGET, or BUDGET_RATIO times the rest of
the previous call) and at least one, so every call makes progress; a kernel the helper
process is building is left to it. The first run, which knows no costs, compiles kernels at
their place in the run within its budget, as compiling all at once would until it is spent. A kernel whose arguments have no signature (a layout
entries do not describe) compiles at its place in the run instead, in the same budget.

So calls 1..N return in about an interpreted step's time plus the budget, the program
switches group by group as kernels arrive, and once every kernel has run the function is
written again without stand-ins: steady state is what it was. The values are exact either
way: the interpreted group computes what eager computes, the kernel what the compiled
program computes, each checked against the other by the test suite.
STEPJIT_FIRST_CALL=compile (the test suite's setting) compiles every kernel at the first run,
as check mode and a one-shot program (`build_once`) always do.
"""
from __future__ import annotations

import os
import time

import numpy as np

from ..codegen import compile_helper, machine_cache
from ..ir.graph import Value
from ..ir.impl import run_impl
from ..ir.types import AVal

# A call spends this many seconds compiling kernels, or BUDGET_RATIO times what the previous
# call spent on everything else (mostly interpreted groups) if more, and at least one kernel:
# the interpreted groups then add at most 1/BUDGET_RATIO to the time all kernels take to
# compile (less: the costliest groups switch first), and a small step whose kernels compile
# in a second or two switches within a call or two (W7, W8: their time to steady state).
# The helper process (on a second core, where one is idle) compiles beside it, unbudgeted.
# Seconds of this process's CPU time: on a loaded machine a call's wall time stretches, and
# the share of it spent interpreting stays what it is on an idle one.
CALL_BUDGET = 1.0
BUDGET_RATIO = 4.0
# False: every kernel compiles at the program's first run, as STEPJIT_FIRST_CALL=compile does
# (benchmarks/warmup.py compares both).
ENABLED = True


_clock = time.process_time


class Warmup:
    """A program's stand-ins whose kernels have not run, and the current call's compiles.

    Each call starts by compiling, within its budget, the kernels whose groups cost the most
    to interpret in the previous call (their stand-ins time it), on stand-in arguments of the
    signature the stand-in saw (Kernel.compile_for). Compiled between runs, not at the
    kernel's place in the run, a kernel is chosen by what it saves: an unrolled LSTM's cell
    kernel, run at every time step, before a kernel run once. The run then calls each kernel
    compiled (its first call builds its machine-code entry, milliseconds), and the stand-in
    is done."""
    __slots__ = ("pending", "ahead", "start", "deadline", "compiled", "compiling", "budget",
                 "first")

    def __init__(self, pending):
        self.pending = pending
        self.ahead = set()          # kernels compiled ahead of their first call
        self.budget = CALL_BUDGET
        self.start = self.deadline = 0.0
        self.compiled = False       # this call compiled a kernel already
        self.compiling = 0.0        # seconds this call spent compiling
        # The first run knows no costs yet: it compiles kernels at their place, in the run's
        # order, within its budget, as a program compiling all at once would (a small step's
        # all of them: it never interprets a group).
        self.first = True

    def begin(self):
        """A call starts: compile the costliest pending kernels within its budget."""
        self.start = _clock()
        self.deadline = self.start + self.budget
        self.compiled = False
        self.compiling = 0.0
        cost = {}
        for p in self.pending:
            if p.sig and p.kernel not in self.ahead:     # (not before its first run)
                cost[p.kernel] = cost.get(p.kernel, 0.0) + p.cost
            p.cost = 0.0
        for kernel in sorted(cost, key=cost.get, reverse=True):
            if not self.may_compile():
                break
            self._ahead(kernel)

    def _ahead(self, kernel):
        p = next(p for p in self.pending if p.kernel is kernel)
        if compile_helper.busy(p.entry):
            return       # the helper process is building it: its entry will be on disk
        self.compiled = True
        claimed = bool(p.entry) and compile_helper.running() and compile_helper.claim(p.entry)
        start = _clock()
        try:
            kernel.compile_for(p.sig)
            self.ahead.add(kernel)
        except Exception:  # noqa: BLE001 - its first call compiles it, and says what is wrong
            for q in self.pending:
                if q.kernel is kernel:
                    q.sig = ()
        finally:
            self.compiling += _clock() - start
            if claimed:
                compile_helper.unclaim(p.entry)

    def may_compile(self) -> bool:
        return not self.compiled or _clock() < self.deadline

    def compile(self, kernel, args):
        """The kernel's first call, in this call's budget (it compiles, or loads)."""
        start = _clock()
        self.compiled = True
        try:
            return kernel(*args)
        finally:
            self.compiling += _clock() - start

    def done(self) -> bool:
        """After a call: has every pending kernel run (compiled, or loaded)? The next call's
        budget follows this call's other work."""
        rest = _clock() - self.start - self.compiling
        self.budget = max(CALL_BUDGET, BUDGET_RATIO * rest)
        self.pending = [p for p in self.pending if not p.ready]
        self.first = False
        return not self.pending


class PendingKernel:
    """What a LoopStep's generated call runs while its kernel has not run (module docstring):
    called with the kernel's own arguments (inputs, output buffers, sizes, accumulators)."""
    __slots__ = ("kernel", "ins", "outs", "inplace", "nodes", "warmup", "sig", "entry", "cost")

    def __init__(self, step, nodes, warmup):
        self.kernel = step.kernel
        self.ins, self.outs = step.ins, step.outs
        # (value, position of the input whose buffer the kernel stores it in)
        self.inplace = [(v, step.ins.index(old)) for v, old in step.inplace]
        self.nodes = nodes
        self.warmup = warmup
        # the arguments' signature (machine_cache.signature) and the machine-code entry's path
        # ("" for none), found at the first call: the program's buffers and its inputs'
        # layouts are the same each call, and a wrong guess only costs a compile. () when the
        # kernel cannot be compiled ahead: it compiles at its place in a run.
        self.sig = self.entry = None
        self.cost = 0.0                 # seconds interpreting it took in this call

    @property
    def ready(self) -> bool:
        """The kernel has run in this process (compiled or loaded): it runs from now on."""
        return self.kernel.fastest() is not self.kernel

    def __call__(self, *args):
        kernel, warmup = self.kernel, self.warmup
        if self.sig is None:
            self._describe(args)
        if self.ready or kernel in warmup.ahead or self._on_disk():
            return kernel(*args)
        if (warmup.first or not self.sig) and warmup.may_compile() \
                and not compile_helper.busy(self.entry):
            return warmup.compile(kernel, args)
        start = time.perf_counter()
        self._interpret(args)
        self.cost += time.perf_counter() - start
        return None

    def _describe(self, args):
        kernel = self.kernel
        self.sig = machine_cache.signature(args) or ()
        self.entry = "" if not self.sig or kernel.parallel or not machine_cache.available() \
            else machine_cache.entry_path(kernel.path, self.sig, kernel.function)

    def _on_disk(self) -> bool:
        """Is the kernel's machine-code entry for these arguments cached (a warm cache, or the
        helper process built it): loading it costs milliseconds."""
        return bool(self.entry) and os.path.exists(self.entry)

    def _interpret(self, args):
        env = dict(zip(self.ins, args))
        for node in self.nodes:
            out = node.out
            env[out] = run_impl(node.prim, [env[v] if isinstance(v, Value) else v
                                            for v in node.inputs],
                                node.attrs, AVal(out.shape, out.dtype), node.loc)
        for v, buf in zip(self.outs, args[len(self.ins):]):
            np.copyto(buf, env[v], casting="unsafe")
        for v, k in self.inplace:
            np.copyto(args[k], env[v], casting="unsafe")


def group_nodes(step, producers):
    """The nodes that compute a loop step's group from its kernel's inputs, in order: the
    group's own, after those of the values the kernel inlines (constants, expressions of
    sizes: passes/fusion.py) that no step materializes. None when some value the group reads
    is neither an input of the kernel nor computed from them."""
    given = set(step.ins)
    own = set(step.kernel_nodes)
    order, seen = [], set()

    def need(v):
        if not isinstance(v, Value) or v in given or v in seen:
            return True
        seen.add(v)
        node = producers.get(v)
        if node is None:
            return False
        if node in own:
            return True
        if not all(need(x) for x in node.inputs):
            return False
        order.append(node)
        return True

    for node in step.kernel_nodes:
        if not all(need(x) for x in node.inputs):
            return None
    return order + list(step.kernel_nodes)

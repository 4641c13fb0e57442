"""A CPU program's first calls, while its loop kernels compile: no call waits for all of them.

A program that does not become one native function runs its steps as one generated Python
function (codegen/straight_line.py) calling a Numba loop kernel per fused group. Compiled all
at its first run, a large step's kernels stall that call: a 2-layer LSTM language model over
35 time steps has ~37 of them, 15-50 s of Numba, a ResNet CIFAR step as long. So by default
(STEPJIT_FIRST_CALL unset) a group whose kernel is not loaded yet runs through a stand-in,
`PendingKernel`, which on each call either

  - runs the kernel: it is loaded in this process, or its machine-code entry is on disk (a
    warm cache, or the compile helper process built it meanwhile: codegen/compile_helper.py),
    so the kernel's first call loads it in milliseconds;
  - compiles it: while the call's compile budget (`Warmup`, CALL_BUDGET seconds) is not
    spent, and always for the first kernel a call meets, so every call makes progress; a
    kernel the helper process is building now is left to it;
  - or evaluates the group's nodes with the registry's impls (the IR interpreter's
    `run_impl`, which eager runs too) and copies the results into the buffers the kernel
    would have written (its outputs, or the inputs it updates in place): the memory plan,
    in-place updates and what the caller reads are the kernel's.

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

# Seconds of compiling a call may spend in its own process past its first kernel, or
# BUDGET_RATIO times what the previous call spent on everything else (mostly interpreted
# groups), if more: a call then runs at most ~1/BUDGET_RATIO longer than if it compiled alone,
# so the kernels arrive about as soon as when compiled all at once. The helper process (on a
# second core, where one is idle) compiles beside it without a budget.
CALL_BUDGET = 0.5
BUDGET_RATIO = 3.0
# False: every kernel compiles at the program's first run, as STEPJIT_FIRST_CALL=compile does
# (benchmarks/warmup.py compares both; tests flip it).
ENABLED = True


class Warmup:
    """A program's kernels still pending, and the current call's compile budget."""
    __slots__ = ("pending", "start", "deadline", "compiled", "compiling", "budget")

    def __init__(self, pending):
        self.pending = pending
        self.budget = CALL_BUDGET
        self.start = self.deadline = 0.0
        self.compiled = False       # this call compiled a kernel already
        self.compiling = 0.0        # seconds this call spent in kernels' first calls

    def begin(self):
        """A call starts: its budget starts."""
        self.start = time.perf_counter()
        self.deadline = self.start + self.budget
        self.compiled = False
        self.compiling = 0.0

    def end(self):
        """A call ended: the next call's budget follows this call's other work."""
        rest = time.perf_counter() - self.start - self.compiling
        self.budget = max(CALL_BUDGET, BUDGET_RATIO * rest)

    def compile(self, kernel, args):
        """The kernel's first call, in this call's budget (it compiles, or loads)."""
        start = time.perf_counter()
        self.compiled = True
        try:
            return kernel(*args)
        finally:
            self.compiling += time.perf_counter() - start

    def may_compile(self) -> bool:
        return not self.compiled or time.perf_counter() < self.deadline

    def done(self) -> bool:
        """After a call: has every pending kernel run (compiled, or loaded)?"""
        self.end()
        self.pending = [p for p in self.pending if not p.ready]
        return not self.pending


class PendingKernel:
    """What a LoopStep's generated call runs while its kernel is not loaded (module docstring):
    called with the kernel's own arguments (inputs, output buffers, sizes, accumulators)."""
    __slots__ = ("kernel", "ins", "outs", "inplace", "nodes", "warmup", "entry")

    def __init__(self, step, nodes, warmup):
        self.kernel = step.kernel
        self.ins, self.outs = step.ins, step.outs
        # (value, position of the input whose buffer the kernel stores it in)
        self.inplace = [(v, step.ins.index(old)) for v, old in step.inplace]
        self.nodes = nodes
        self.warmup = warmup
        self.entry = None           # the machine-code entry's path, found at the first call

    @property
    def ready(self) -> bool:
        """The kernel has run in this process (compiled or loaded): it runs from now on."""
        return self.kernel.fastest() is not self.kernel

    def __call__(self, *args):
        kernel = self.kernel
        if self.ready or self._on_disk(args):
            return kernel(*args)
        warmup = self.warmup
        if warmup.may_compile() and not compile_helper.busy(self.entry):
            return warmup.compile(kernel, args)
        self._interpret(args)
        return None

    def _on_disk(self, args) -> bool:
        """Is the kernel's machine-code entry for these arguments cached (loading it costs
        milliseconds)? Its path is found once: the program's buffers and input layouts are
        the same each call, and a wrong guess only costs a compile."""
        if self.entry is None:
            kernel = self.kernel
            sig = None if kernel.parallel or not machine_cache.available() \
                else machine_cache.signature(args)
            self.entry = "" if sig is None else \
                machine_cache.entry_path(kernel.path, sig, kernel.function)
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

"""Per-call steps: traced every call, or run eagerly when tracing cannot pay.

A step whose Python must run on every call (`print(loss.item())`, `losses.append(...)`,
`.numpy()` in the step, Python random draws, a counter it changes) is traced on every call,
its programs reused by structural hash (compiled.py). Running its Python costs more traced
than eagerly: an op traced costs about 30 us (dispatch, shape rule, IR node, autograd's
backward emitting nodes, then the program lookup and the segment walk), an op run eagerly
about 6 us plus NumPy's work. What a compiled program saves back is the work fusion removes:
NumPy's passes over memory for each elementwise op, about half a nanosecond an element. So a
per-call trace only pays when the step's elementwise ops are large: at ~25 us extra per op and
~0.5 ns saved per element, from a few tens of thousands of elements per op.

Below that (`config.dynamo.per_call_eager_below` elements per elementwise op on average, 2^15
by default; 0 always traces), the step runs eagerly from its next call on, as the function
itself, which is the reference every compiled result is checked against, so nothing about it
can be stale. The two-layer tutorial net (N=64, 100-100-10) printing its loss went from 5.5x
its eager time to about 1x (benchmarks/retrace.py). Larger steps keep tracing every call:
their compute, not the tracer, is the cost, and their programs are reused by structural hash.
"""
from __future__ import annotations

import math

from .. import config


def may_run_eagerly(trace, backend, fullgraph) -> bool:
    """Not a compiled model's forward (its backward node is what joins the eager engine;
    it keeps its compiled forward and backward), not on CUDA (an eager op there is a
    one-op program: the figures above are the CPU's), not under fullgraph=True (which asks
    that the function never run outside the compiler)."""
    return trace.aot is None and backend != "cuda" and not fullgraph


def runs_eagerly(graph) -> bool:
    """Whether a per-call step whose trace is `graph` is cheaper run eagerly (module docstring)."""
    below = config.dynamo.per_call_eager_below
    if not below:
        return False
    ops = elements = 0
    for node in graph.nodes:
        if node.prim.lowering == "loop":
            ops += 1
            elements += math.prod(node.inputs[0].shape if node.prim.reduce is not None
                                  and hasattr(node.inputs[0], "shape") else node.out.shape)
    return elements < below * max(ops, 1)

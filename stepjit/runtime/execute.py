"""Running a Trace: gather arrays, evaluate the graph, check decisions, write back, build results.

Nothing is written to a user's tensor until the whole program has run and its
decisions matched, so a mismatch leaves every tensor as it was.
"""
from __future__ import annotations

import numpy as np

from ..ir.graph import Value
from ..tensor import Tensor
from ..tracer.pytree import unflatten

MISMATCH = object()


def gather_env(trace, objs):
    env = {}
    for spec, obj in zip(trace.slots, objs):
        if spec.value is not None:
            env[spec.value] = obj._data
    for v, arr in trace.constants:
        env[v] = arr
    return env


def run(trace, program, objs):
    """Run the trace's program; MISMATCH when a data-dependent decision went the other way."""
    env = program.run(gather_env(trace, objs))
    for v, expected in trace.decisions:
        got = env[v]
        if got.shape != expected.shape or not np.array_equal(got, expected):
            return MISMATCH
    return env


def write_back(trace, objs, env):
    for spec, obj in zip(trace.slots, objs):
        if spec.data_write is not None:
            new = env[spec.data_write]
            if spec.replaced:
                obj._data = new
            else:
                np.copyto(obj._data, new)
                obj._version.value += 1
    for spec, obj in zip(trace.slots, objs):
        gw = spec.grad_write
        if gw is None:
            continue
        if gw[0] == "none":
            obj._grad = None
        elif gw[0] == "object":
            obj._grad = objs[gw[1]]
        else:
            obj._grad = Tensor._make(_owned(env[gw[1]]))
    for t, v in trace.escapes:
        t._data = _owned(env[v])


def _owned(a):
    return a if a.base is None and a.flags.writeable else np.array(a)


def results(trace, objs, env):
    leaves = []
    for kind, what in trace.out_specs:
        if kind == "object":
            leaves.append(objs[what])
        else:
            leaves.append(Tensor._make(_owned(env[what]) if isinstance(what, Value) else what))
    return unflatten(trace.out_treedef, leaves)

"""After a trace's segments ran: write back what the step mutated, build the results.

Nothing is written to a user's tensor until every segment of the path has run
and every decision matched, so a call that leaves the trace tree halfway leaves
every tensor as it was.
"""
from __future__ import annotations

import numpy as np

from ..ir.graph import Value
from ..ir.interpreter import evaluate
from ..profiler import STATE as PROFILE, timed
from ..tensor import Tensor
from ..tracer.pytree import unflatten
from ..tracer.trace import gather_env
from . import aot
from .. import cuda


def interpret(trace, objs):
    """Run a whole trace with the interpreter (the oracle): used when a compiled program's
    rounding took a decision the other way than the trace, which was built on the oracle."""
    return evaluate(trace.graph, gather_env(trace, objs))


def write_back(trace, objs, env):
    if PROFILE.active is not None:
        return timed("write-back", "compiled", _write_back, trace, objs, env)
    return _write_back(trace, objs, env)


def _write_back(trace, objs, env):
    for spec, obj in zip(trace.slots, objs):
        if spec.data_write is not None:
            new = env[spec.data_write]
            if spec.replaced:
                obj._data = new
            elif new is not obj._data:
                _copy(obj._data, new)
                obj._version.value += 1
            else:
                obj._version.value += 1   # the program computed it in the tensor's own buffer
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
    for w in trace.py_writes:
        w.apply()


def _owned(a):
    if type(a) is not np.ndarray:
        return a      # a device array: the cuda program hands back arrays it owns
    # An array with no base that does not own its data is a view of memory nothing keeps
    # alive: what Numba returns for a view of an input it got as a raw address (the packed
    # native call, codegen/pointers.py). It is copied like any other view.
    return a if a.base is None and a.flags.owndata and a.flags.writeable else np.array(a)


def _copy(dst, src):
    if type(dst) is np.ndarray and type(src) is np.ndarray:
        np.copyto(dst, src)
    else:     # CUDA storage on either side (stepjit/programs/cuda.py)
        if cuda.is_device_array(dst):
            from ..programs.cuda import copy_into
            copy_into(dst, src)
        else:
            np.copyto(dst, cuda.to_host(src))


def _host(a):
    return a if type(a) is np.ndarray else a.copy_to_host()   # a value on the CUDA device


def results(trace, objs, env):
    leaves = []
    for kind, what in trace.out_specs:
        if kind == "object":
            leaves.append(objs[what])
        elif kind == "item":
            leaves.append(_host(env[what]).item())
        else:
            leaves.append(Tensor._make(_owned(env[what]) if isinstance(what, Value) else what))
    if trace.aot is not None:
        aot.attach(trace.aot, objs, [_owned(env[v]) for v in trace.aot.kept], leaves)
    return unflatten(trace.out_treedef, leaves)

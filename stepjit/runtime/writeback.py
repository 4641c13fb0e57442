"""After a trace's segments ran: build the results (the write-back before them is generated
per leaf, guardcode.py), and what both need: copies into a user's storage, arrays a caller
may keep, the interpreter fallback.

Nothing is written to a user's tensor until every segment of the path has run
and every decision matched, so a call that leaves the trace tree halfway leaves
every tensor as it was.
"""
from __future__ import annotations

import numpy as np

from ..ir.graph import Value
from ..ir.interpreter import evaluate
from ..tensor import Tensor
from ..tracer.pytree import unflatten
from ..tracer.trace import gather_env
from . import aot
from .. import cuda


def interpret(trace, objs):
    """Run a whole trace with the interpreter (the oracle): used when a compiled program's
    rounding took a decision the other way than the trace, which was built on the oracle."""
    return evaluate(trace.graph, gather_env(trace, objs))


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

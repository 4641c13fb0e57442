"""Collective primitives: communication between the processes of a data-parallel job.

`all_reduce(x, op)` combines x elementwise across every process of the job (MPI's
Allreduce on the process group's communicator) and returns the result, the same on every
rank. It is a primitive, so a compiled step records it as an IR node like any other (printed,
parsed, verified, interpreted through this impl) and the reverse-mode pass differentiates
through it: the gradient of a sum over ranks is the sum over ranks of the gradients
(PyTorch's functional all_reduce has the same rule); an average likewise. MAX, MIN and
PRODUCT have no gradient here.

The communicator is the process group's, which stepjit.distributed installs with
`set_world` when `init_process_group` runs: this module never imports MPI itself, so the IR
has no dependency on mpi4py, and using the primitive before a group exists raises.

Every rank must run the same collectives in the same order: a compiled program does, since
every rank traces the same step into the same graph. Before the data moves, the ranks
exchange each call's shape, dtype and op, so a mismatch is reported on every rank, naming the
ranks and what each passed, instead of reducing mismatched buffers into garbage or hanging.
"""
from __future__ import annotations

import numpy as np

from ...errors import ShapeError
from ..registry import Primitive, bind, register
from ..types import AVal

OPS = ("sum", "avg", "max", "min", "product")


class World:
    """The process group the collectives run on: an object with `rank`, `size`,
    `allgather(obj)` and `allreduce(array, op) -> array` (stepjit/distributed/backend.py)."""
    group = None


class Alone:
    """The group of one process: what every collective means with nobody else to talk to.
    It lets a graph holding collectives run without MPI (the registry's tests use it)."""
    rank, size = 0, 1

    def allgather(self, obj):
        return [obj]

    def allreduce(self, array, op):
        return np.array(array, copy=True)


def set_world(group) -> None:
    World.group = group


def world():
    if World.group is None:
        raise RuntimeError("Default process group has not been initialized, please make sure to "
                           "call init_process_group.")
    return World.group


def check_agreement(group, name: str, header: tuple) -> None:
    """Every rank's (shape, dtype, attrs) for this call, compared before any data moves."""
    headers = group.allgather(header)
    if all(h == headers[0] for h in headers):
        return
    lines = ", ".join(f"rank {r}: {_describe(h)}" for r, h in enumerate(headers))
    raise ShapeError(f"{name}: the ranks passed different tensors ({lines}); every rank must "
                     "pass a tensor of the same shape and dtype, with the same arguments")


def _describe(header) -> str:
    shape, dtype, *attrs = header
    return f"{dtype}[{', '.join(map(str, shape))}]" + "".join(f" {a}" for a in attrs)


def _all_reduce_impl(x, op):
    group = world()
    host = np.asarray(x.copy_to_host() if hasattr(x, "copy_to_host") else x)
    check_agreement(group, "all_reduce", (host.shape, host.dtype.name, op))
    out = group.allreduce(host, op)
    if hasattr(x, "copy_to_host"):    # a CUDA array: reduced through a host buffer
        from numba import cuda
        return cuda.to_device(out)
    return out


def _all_reduce_rule(x, op):
    if op not in OPS:
        raise ShapeError(f"unknown reduce op {op!r}; use one of {', '.join(OPS)}")
    return AVal(x.shape, x.dtype)


def _all_reduce_grad(g, op):
    if op not in ("sum", "avg"):
        raise RuntimeError(f"all_reduce with op {op.upper()} has no gradient; only SUM and AVG do")
    return bind(all_reduce, g, op=op)


all_reduce = register(Primitive(
    "all_reduce", "collective", _all_reduce_impl, _all_reduce_rule,
    inputs=("x",), attrs=("op",), vjp=(_all_reduce_grad,), grad_name="AllReduceBackward0",
    jvp=(_all_reduce_grad,),   # (sum and average are linear and their own adjoints)
    # Not pure: it talks to the other ranks, so it must run exactly where and as often as
    # the program says (never folded, merged or dropped by one rank alone); run by its impl.
    pure=False, lowering="impl"))

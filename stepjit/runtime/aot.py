"""The backward node of a compiled forward (tracer/aot.py derives its graphs).

A call whose trace has an AotSpec ran the forward program, which also computed
the residuals. `attach` keeps them in one `CompiledFunctionBackward` node and
makes it the grad_fn of the differentiable results; from there the eager
engine treats it like any node: its `next_functions` are the edges of the
inputs that require grad (a leaf's AccumulateGrad, or the grad_fn of an input
with history), so `.grad` accumulation, hooks on leaves, `retain_graph` and
its error, and a `loss.backward()` through eager ops after the compiled region
all behave as they do eagerly.

The backward program is built on the first backward (as torch.compile does),
by the same backend and program cache as the forward, and shared by every
call of the trace.

Residuals that are the call's input tensors (a parameter, the batch) are saved
with their version counter, as eager autograd saves them: changing one in place
before backward raises PyTorch's error. Residuals the forward computed are
arrays of the call, which no later call reuses (they are returned values of
the forward program).
"""
from __future__ import annotations

import time

import numpy as np

from ..autograd.grad_mode import STATE as GRAD
from ..autograd.node import _FREED_MSG, Node, SavedTensor, save_tensor
from ..tensor import Tensor
from . import writeback   # (a module reference: writeback imports this module)
from .tree import get_program
from .. import cuda

_new = object.__new__
# A backward program run this often becomes one native function (cpu.py), as a forward trace
# does at its 64th reuse (compiled.HOT_REUSE), for the same reason: not for a short run.
HOT_BACKWARDS = 64


class CompiledFunctionBackward(Node):
    """One node for all differentiable results of one compiled call (PyTorch's name for it)."""
    __slots__ = ("spec", "saved", "n_outputs")
    _name = "CompiledFunctionBackward"
    has_saved = True

    def apply(self, grads):
        saved = self.saved
        if saved is None:   # released by a backward without retain_graph
            raise RuntimeError(_FREED_MSG)
        if GRAD.create_graph:
            raise NotImplementedError(
                "backward with create_graph=True reached a CompiledFunctionBackward: the "
                "backward of a stepjit.compile'd forward is a compiled program, not taped ops, "
                "so its gradient cannot be differentiated again; compile the whole step "
                "(create_graph inside it) or run this part eagerly")
        spec = self.spec
        if spec.error is not None:
            raise spec.error[0](spec.error[1])
        graph = spec.graph
        env = {}
        for v, s in zip(graph.inputs, saved):
            if type(s) is SavedTensor:
                s = s.unpack(self._name)._data   # (raises when it was changed in place)
            env[v] = s
        seeds = graph.inputs[len(saved):]
        for v, g, (shape, dtype) in zip(seeds, grads, spec.out_meta):
            # an unused result's gradient is zeros (PyTorch's CompiledFunction materializes it)
            env[v] = np.zeros(shape, dtype.np) if g is None else _seed(g._data, shape, dtype)
        if graph.nodes:
            env = _program(spec).run(env)
        fresh = spec.holder.get("fresh", ())
        out, handed = [], set()
        for _, v in spec.used:
            a = env[v]
            if v in spec.given or v in handed:   # not an array the engine may keep as .grad
                a = _copy(a)                    # twice, or one the caller holds
            elif v not in fresh:
                a = writeback._owned(a)
            handed.add(v)
            out.append(Tensor._make(a))
        return out

    def release(self):
        self._freed = True
        self.saved = None


def _copy(a):
    if type(a) is np.ndarray:
        return np.array(a)
    return cuda.clone_array(a)


def _seed(a, shape, dtype):
    if type(a) is np.ndarray and (a.dtype is not dtype.np or a.shape != shape):
        a = np.broadcast_to(a.astype(dtype.np, copy=False), shape)
    return a


def _program(spec):
    holder = spec.holder
    program = holder.get("program")
    if program is None:
        program = holder["program"] = get_program(spec.graph, holder.get("backend", "cpu"),
                                                  holder.setdefault("stats", _stats()))
        holder["runs"] = 0
    holder["runs"] += 1
    if holder["runs"] == HOT_BACKWARDS:   # hot, as a forward trace is at its 64th reuse
        stats = holder["stats"]
        start = time.perf_counter()
        program.promote()
        stats["compile_seconds"] += time.perf_counter() - start
        plan = program.direct_plan()
        if plan is not None:   # the native function's own allocations need no copy
            call, rename = plan
            holder["fresh"] = {rename(v) for v in call.fresh}
    return program


def _stats():
    return {"compile_seconds": 0.0, "programs_built": 0, "programs_reused": 0}


def prepare(spec, backend, stats):
    """The backend and counters the spec's backward program is built with (the compiled
    function's; set once, when its trace is made)."""
    spec.holder.setdefault("backend", backend)
    spec.holder.setdefault("stats", stats)


def attach(spec, objs, kept, leaves):
    """Give the differentiable results (leaves, the flat results of this call) one backward node
    holding this call's residuals: the input tensors among them (objs: the call's slot tensors)
    and `kept`, arrays the call owns for the others (spec.kept, in order)."""
    node = _new(CompiledFunctionBackward)
    Node.__init__(node, tuple([objs[k]._grad_edge() for k, _ in spec.used]))
    node.spec = spec
    node.n_outputs = len(spec.out_meta)
    returned = {}
    for nr, t in zip(spec.outputs, leaves):
        if nr is not None:
            returned.setdefault(id(t._data), t)
    saved = []
    kept = iter(kept)
    for k in spec.residual_slots:
        if k is not None:
            saved.append(save_tensor(objs[k]))
            continue
        a = next(kept)
        t = returned.get(id(a))    # a returned result: its version counter guards it
        saved.append(save_tensor(t) if t is not None else a)
    node.saved = saved
    for nr, t in zip(spec.outputs, leaves):
        if nr is not None:
            t._grad_fn = node
            t._output_nr = nr
            t._requires_grad = True
    return node


"""Writing eager backward's straight-line functions: a plan's VJP rules traced into IR and
written out as Python that calls each primitive's impl directly.

autograd/array_vjp.py says when such a function runs and keeps them (its docstring has the
design); this is the part above the front end: the rules are traced with the tracer (a
tracer that refuses anything a straight-line function of its inputs could not replay), and
the IR is written with dispatch's casts and result check (ir.impl.run_impl's steps, decided
ahead of time from the known dtypes), so the function makes the same NumPy calls, in the
same order, as the op-by-op run. stepjit/api.py hands `derive` to the front end
(`autograd.generators.derive_vjp`).
"""
from __future__ import annotations

import numpy as np

from .. import dispatch
from ..autograd.grad_mode import STATE as GRAD
from ..autograd.node import SavedTensor, run_rules
from .codewriter import CodeWriter, ident
from ..ir.graph import Value
from ..ir.types import BOOL
from ..tensor import Tensor
from ..tracer.tracer import Tracer

_NDARRAY = np.ndarray


class _NotStraightLine(Exception):
    """The rules did something a straight-line function of the inputs cannot replay."""


class _RuleTracer(Tracer):
    """A tracer that refuses what would make the traced rules depend on more than their inputs."""

    def _refuse(self, *args, **kwargs):
        raise _NotStraightLine()

    lift = store = replace_data = constant = concrete = _refuse
    read_input = guard_value = observe_grad = not_reusable = _refuse

    def input(self, name, array):
        v = Value(self._name(name), array.shape, dispatch.dtype_of_array(array))
        self.graph.inputs.append(v)
        return self._new_tensor(v)


def derive(plan, node_name, attrs, gd, saved):
    """The plan's rules as a Python function (g, gd, *saved arrays) -> the node's gradient list,
    for gradients like gd and the numbers in saved; None when they cannot be one."""
    tracer = _RuleTracer(node_name)
    g = tracer.input("g", gd)
    values = {}
    for name, _ in plan.save:
        v = saved[name]
        values[name] = ([_traced(tracer, name, x) for x in v] if type(v) is list
                        else _traced(tracer, name, v))
    prev_tracer, prev_grad = dispatch.MODE.tracer, GRAD.enabled
    dispatch.MODE.tracer, GRAD.enabled = tracer, False
    try:
        grads = run_rules(plan, g, attrs, values.__getitem__)
    except Exception:   # _NotStraightLine, or an error the generic path will raise itself
        return None
    finally:
        dispatch.MODE.tracer, GRAD.enabled = prev_tracer, prev_grad
    returns = _returns(grads, g, values)
    if returns is None:
        return None
    fn = _write(tracer.graph, node_name, returns)
    fn.written_from, fn.bare = (tracer.graph, node_name, returns), None
    return fn


def arrays_variant(fn):
    """fn written again to return each gradient it makes as the bare array (what `make` would
    wrap): tape.py hands such a fresh gradient straight to the next straight-line function."""
    if fn.bare is None:
        fn.bare = _write(*fn.written_from, arrays=True)
    return fn.bare


def _traced(tracer, name, v):
    """A saved value as the traced rules read it: a tensor becomes a graph input."""
    return tracer.input(name, v.data) if type(v) is SavedTensor else v


def _returns(grads, g, values):
    """Per input, how the function returns its gradient: None, "g" (the incoming gradient
    object itself, as a rule returning g does) or the Value to wrap in a new tensor."""
    saved = [t for v in values.values() for t in (v if type(v) is list else [v])
             if isinstance(t, Tensor)]
    inputs = {t._data for t in saved} | {g._data}
    returns = []
    for gi in grads:
        if gi is None:
            returns.append(None)
        elif gi is g:
            returns.append("g")
        elif isinstance(gi, Tensor) and isinstance(gi._data, Value):
            if gi._data in inputs and not any(gi is t for t in saved):
                return None   # an alias of g: the generic path makes a tensor sharing its version
            # (a saved tensor returned as is: the generic path unpacks it into a new tensor too)
            returns.append(gi._data)
        else:
            return None
    return returns


def _write(graph, node_name, returns, arrays=False):
    w = CodeWriter({"ndarray": _NDARRAY, "asarray": np.asarray, "make": Tensor._make},
                   reserved=("g",))
    names = {graph.inputs[0]: w.local("gd")}
    for v in graph.inputs[1:]:
        names[v] = w.local(v.name)
    for node in graph.nodes:
        _write_node(w, node, names)
    results = ["None" if r is None else "g" if r == "g" else names[r] if arrays else f"make({names[r]})"
               for r in returns]
    params = ", ".join(["g"] + [names[v] for v in graph.inputs])
    header = (f"def {ident(node_name)}_vjp{'_arrays' if arrays else ''}({params}):\n"
              f'    """{node_name}: input gradients from g, by the registry\'s VJP rules."""')
    fn, src = w.function(header, f"    return [{', '.join(results)}]\n", "eager vjp")
    fn.source = src
    return fn


def _write_node(w, node, names):
    """`out = impl(operands, attrs)` with dispatch's casts before and its result check after."""
    prim, target = node.prim, node.out.dtype.np
    casts = prim.casts if prim.casts and node.out.dtype.category != BOOL else ()
    operands = [_operand(w, x, target, i in casts, names) for i, x in enumerate(node.inputs)]
    operands += [f"{k}={literal_or_const(w, v, k)}" for k, v in node.attrs.items()]
    out = names[node.out] = w.local(prim.name)
    dt = w.const(target, target.name)
    w.emit(f"{out} = {w.const(prim.impl, prim.name)}({', '.join(operands)})  # {node.out.type}")
    w.emit(f"if type({out}) is not ndarray or {out}.dtype is not {dt}:")
    w.emit(f"    {out} = asarray({out}, dtype={dt})")


def _operand(w, x, target, cast, names):
    if isinstance(x, Value):
        if cast and x.dtype.np != target:
            return f"{names[x]}.astype({w.const(target, target.name)})"
        return names[x]
    if cast:   # dispatch converts a Python number to the output dtype: done once, here
        value = dispatch.number_array(x, target)
        value.setflags(write=False)   # shared by every call
        return w.const(value, f"{target.name}_{x}")
    return literal_or_const(w, x, "c")


def literal_or_const(w, v, hint):
    """v as a literal when its repr reads back as the same value and type, else a bound global."""
    if _is_literal(v):
        return repr(v)
    return w.const(v, hint)


def _is_literal(v):
    if v is None or type(v) in (bool, int, str):
        return True
    if type(v) is float:
        return v == v and v not in (float("inf"), float("-inf"))
    if type(v) is tuple:
        return all(_is_literal(x) for x in v)
    return False

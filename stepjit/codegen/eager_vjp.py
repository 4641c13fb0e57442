"""Eager backward without per-op dispatch: a plan's VJP rules as straight-line NumPy code.

A BackwardPlan fixes everything its nodes' VJP rules depend on but data: the
primitive, its input shapes and dtypes, its attributes, which inputs need a
gradient. Run op by op through dispatch, a rule costs several microseconds of
Python per op, more than the NumPy work at small shapes. So for a plan (and an
output-gradient shape and dtype, and the Python numbers the forward saved) the
rules are traced once, with the tracer, into IR, and the IR is written out as a
Python function that calls each primitive's impl directly, with the casts and
the result check dispatch applies (ir.impl.run_impl's steps, decided ahead of
time from the known dtypes). The registry's rules stay the only gradient
formulas; the function makes the same NumPy calls in the same order as the op
by op run, so the gradients are the same bits.

Only eagerly (no tracer active), and only where the function computes exactly
what the generic path would; `run` answers None and the node takes the generic
path when
  - the incoming gradient or a saved tensor is not a host array (CUDA), or the
    gradient requires grad or is a view with autograd history (a hook's doing),
  - a saved tensor was modified in place (the generic path raises the error),
    or a saved value is not a tensor or a plain Python number,
  - tracing the rules met something a straight-line function cannot replay
    (reading a value, an in-place write, a constant, an outside tensor),
  - the plan's key was seen fewer than WARM_AFTER times (a one-off plan is not
    worth a trace), or the plan already tracks MAX_KEYS keys,
  - running the function raised (the generic path raises the error it names).
Nodes sharing a plan have attributes equal under ==; the forward's signature
memo already treats such attributes as the same.

`ENABLED = False` forces the generic path (tests compare the two).
"""
from __future__ import annotations

import numpy as np

from .. import dispatch
from ..codewriter import CodeWriter, ident
from ..ir.graph import Value
from ..ir.types import BOOL
from ..tensor import Tensor
from ..tracer.tracer import Tracer
from .grad_mode import STATE as GRAD
from .node import SavedTensor, run_rules

ENABLED = True
WARM_AFTER = 1     # backwards with a key that take the generic path before its function is derived
MAX_KEYS = 16      # keys one plan tracks (they differ by gradient dtype/shape and saved numbers)

_NDARRAY = np.ndarray
_NUMBERS = (int, float, bool)
_GENERIC = -1   # plan.arrays[key] when no function can be derived; a count of sightings before


def run(node, g, saved):
    """node's input gradients computed by its plan's function, or None for the generic path."""
    if not ENABLED or dispatch.MODE.tracer is not None:
        return None
    gd = g._data
    if type(gd) is not _NDARRAY or g._requires_grad or g._base is not None:
        return None
    args = [g, gd]
    key = _key_and_args(node.plan, saved, gd, args)
    if key is None:
        return None
    fn = node.plan.arrays.get(key, 0)
    if type(fn) is int:
        fn = _warm(node, key, fn, saved, gd)
        if fn is None:
            return None
    try:
        return fn(*args)
    except Exception:   # the generic path runs the same ops and raises its own clean error
        return None


def _key_and_args(plan, saved, gd, args):
    """The function's key (gradient shape and dtype, saved numbers) and its array arguments
    (appended to args), or None when a saved value rules the function out."""
    key = [gd.shape, gd.dtype]
    for name, _ in plan.save:   # the order the rules first read them
        v = saved[name]
        if type(v) is list:   # "xs": every input of a variadic primitive
            for x in v:
                if not _add_saved(x, key, args):
                    return None
        elif not _add_saved(v, key, args):
            return None
    return tuple(key)


def _add_saved(v, key, args):
    """A saved tensor's array goes to args, a saved number to the key; False for anything else,
    or a tensor modified since it was saved (the generic path raises the error)."""
    if type(v) is SavedTensor:
        d = v.data
        if v.version.value != v.saved_version or type(d) is not _NDARRAY:
            return False
        args.append(d)
        return True
    if type(v) in _NUMBERS and v == v:   # (a NaN would never find its key again)
        key.append(type(v))
        key.append(v)
        return True
    return False


def _warm(node, key, seen, saved, gd):
    """The function for key once the key was seen WARM_AFTER times (each of those backwards
    takes the generic path); None until then, and for good when it cannot be derived."""
    arrays = node.plan.arrays
    if seen == _GENERIC or (key not in arrays and len(arrays) >= MAX_KEYS):
        return None
    if seen < WARM_AFTER:
        arrays[key] = seen + 1
        return None
    fn = derive(node.plan, node._name, node.attrs, gd, saved)
    arrays[key] = _GENERIC if fn is None else fn
    return fn


def function_for(node, shape, dtype):
    """node's straight-line function for gradients of `shape` and `dtype`, derived now if it
    was not yet (tape.py asks once per recurring tape); None where `run` would answer None."""
    if not ENABLED or node.saved is None:
        return None
    gd = np.empty(shape, dtype)   # stands in for the gradient: the key reads its shape and dtype
    key = _key_and_args(node.plan, node.saved, gd, [])
    if key is None:
        return None
    arrays = node.plan.arrays
    fn = arrays.get(key, 0)
    if type(fn) is int:
        if fn == _GENERIC or (key not in arrays and len(arrays) >= MAX_KEYS):
            return None
        fn = derive(node.plan, node._name, node.attrs, gd, node.saved)
        arrays[key] = _GENERIC if fn is None else fn
    return fn


# -- deriving a function: trace the rules, write the IR out as Python ---------------------------
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

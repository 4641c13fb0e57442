"""The one dispatch point: every tensor operation ends in `apply(prim, *args, **attrs)`.

Eager mode runs the primitive's NumPy impl and, when grad mode is on and an
input requires grad, records a backward node. Tracing mode hands the call to
the active tracer, which emits an IR node. Nothing else branches on the mode.
"""
from __future__ import annotations

import numpy as np

from .autograd.grad_mode import STATE as GRAD
from .autograd.node import PrimBackward, SavedTensor, node_class
from .errors import StepjitError, op_error
from .ir.types import FLOAT, AVal, as_dtype, scalar_dtype


class _Mode:
    __slots__ = ("tracer",)

    def __init__(self):
        self.tracer = None


MODE = _Mode()
Tensor = None  # bound by stepjit.tensor, which imports this module

_NP_DTYPES: dict = {}


def dtype_of_array(a):
    d = _NP_DTYPES.get(a.dtype)
    if d is None:
        d = _NP_DTYPES[a.dtype] = as_dtype(a.dtype)
    return d


def aval_of(x) -> AVal:
    if isinstance(x, Tensor):
        return x._aval()
    if isinstance(x, (bool, int, float, np.number, np.bool_)):
        return AVal((), scalar_dtype(x), weak=True)
    raise TypeError(f"expected a tensor or a Python number, got {type(x).__name__}")


def apply(prim, *args, **attrs):
    tracer = MODE.tracer
    if tracer is not None:
        return tracer.apply(prim, args, attrs)
    return _eager(prim, args, attrs)


_RULES: dict = {}


def _out_aval(prim, args, attrs):
    """prim's shape rule, memoized on the input shapes, dtypes, scalar kinds and attrs: the
    eager hot path pays one dict lookup instead of re-deriving broadcasting and promotion."""
    key = [prim]
    for a in args:
        if isinstance(a, Tensor):
            d = a._data
            key.append(d.shape)
            key.append(d.dtype)
        else:
            key.append(type(a))
    if attrs:
        key.append(tuple(attrs.items()))
    try:
        key = tuple(key)
        hit = _RULES.get(key)
    except TypeError:  # an unhashable attribute: no memo
        key, hit = None, None
    if hit is None:
        try:
            hit = prim.shape_rule(*[aval_of(a) for a in args], **attrs)
        except StepjitError as e:
            raise op_error(e, prim.name) from None
        if key is not None:
            if len(_RULES) > 8192:
                _RULES.clear()
            _RULES[key] = hit
    return hit


def _eager(prim, args, attrs):
    out_aval = _out_aval(prim, args, attrs)
    arrays = [a._data if isinstance(a, Tensor) else a for a in args]
    result = run_impl(prim, arrays, attrs, out_aval)
    out = Tensor._make(result)
    if prim.view and args and isinstance(args[0], Tensor) and np.may_share_memory(result, arrays[0]):
        out._version = args[0]._version
        if args[0]._requires_grad or args[0]._base is not None:
            out._base = args[0]._base or args[0]
    if GRAD.enabled and prim.vjp is not None and out_aval.dtype.category == FLOAT:
        record(prim, args, attrs, out)
    return out


def run_impl(prim, arrays, attrs, out_aval):
    """Evaluate a primitive on NumPy values: the meaning of the op, shared with the IR interpreter."""
    if prim.casts and out_aval.dtype.category != 0:
        arrays = list(arrays)
        target = out_aval.dtype.np
        for i in prim.casts:
            a = arrays[i]
            if isinstance(a, np.ndarray):
                if a.dtype != target:
                    arrays[i] = a.astype(target)
            else:
                arrays[i] = target.type(a)
    try:
        result = prim.impl(*arrays, **attrs)
    except StepjitError as e:
        raise op_error(e, prim.name) from None
    except (ValueError, IndexError, TypeError) as e:
        raise op_error(StepjitError(f"{e} (input shapes "
                                    + ", ".join(str(list(np.shape(a))) for a in arrays) + ")"),
                       prim.name) from None
    if type(result) is not np.ndarray or result.dtype != out_aval.dtype.np:
        result = np.asarray(result, dtype=out_aval.dtype.np)
    return result


def record(prim, args, attrs, out):
    """Attach a backward node to `out` when any input requires grad."""
    needs = [isinstance(a, Tensor) and a._requires_grad and prim.vjp_for(i) is not None
             for i, a in enumerate(args)]
    if not any(needs):
        return
    cls = node_class(PrimBackward, prim.grad_name(attrs))
    node = cls.__new__(cls)
    node.__init__(tuple(a._grad_edge() if n else (None, 0) for a, n in zip(args, needs)))
    node.prim = prim
    node.attrs = attrs
    node.n_inputs = len(args)
    node.needs_grad = needs
    node.in_shapes = tuple(a.shape if isinstance(a, Tensor) else () for a in args)
    node.in_dtypes = tuple(a.dtype if isinstance(a, Tensor) else None for a in args)
    node.saved = _save(prim, args, out, needs)
    out._grad_fn = node
    out._requires_grad = True


def _save(prim, args, out, needs):
    names = set()
    for i, n in enumerate(needs):
        if n:
            names.update(prim.vjp_for(i).needs)
    saved = {}
    for name in names:
        if name == "out":
            saved[name] = SavedTensor(out)
        elif name == "xs":
            saved[name] = [SavedTensor(a) if isinstance(a, Tensor) else a for a in args]
        elif name in prim.inputs:
            a = args[prim.inputs.index(name)]
            saved[name] = SavedTensor(a) if isinstance(a, Tensor) else a
    return saved


# -- in-place writes and concrete reads: the other two places where the modes differ --
def store(dst, result):
    """Make `dst` hold `result` (the functional result of an in-place op)."""
    tracer = MODE.tracer
    if tracer is not None:
        return tracer.store(dst, result)
    np.copyto(dst._data, result._data, casting="unsafe")
    dst._version.value += 1


def concrete(t, purpose="value"):
    """The NumPy value of `t`. While tracing this is a data-dependent decision the tracer guards;
    `purpose="numpy"` (handing the array itself to NumPy) cannot be traced and raises."""
    tracer = MODE.tracer
    if tracer is not None:
        return tracer.concrete(t, purpose)
    return t._data


def replace_data(t, value):
    """`t.data = value`: t now shares value's storage, untracked by autograd."""
    tracer = MODE.tracer
    if tracer is not None:
        return tracer.replace_data(t, value)
    t._data = value._data


def fill_fast(dst, value) -> bool:
    """Eager `fill_` / `zero_` with no autograd to record: write the value into the buffer."""
    if MODE.tracer is not None or not isinstance(value, (int, float, bool)):
        return False
    dst._data.fill(value)
    dst._version.value += 1
    return True


def inplace_fast(prim, dst, others, attrs) -> bool:
    """Eager in-place ufunc with no autograd: write straight into dst's buffer. False if it can't."""
    if MODE.tracer is not None or not prim.ufunc or attrs:
        return False
    arrays = [dst._data]
    for o in others:
        if isinstance(o, Tensor):
            a = o._data
            if a.dtype != dst._data.dtype:
                return False
            arrays.append(a)
        elif isinstance(o, (int, float)) and not isinstance(o, bool) and dst._data.dtype.kind == "f":
            arrays.append(o)
        else:
            return False
    out = dst._data
    try:
        if np.broadcast_shapes(*(np.shape(a) for a in arrays)) != out.shape:
            return False
    except ValueError:
        return False
    prim.impl(*arrays, out=out)
    dst._version.value += 1
    return True


def alias(t):
    """A new tensor object sharing t's storage (`.data`, `.detach()`)."""
    tracer = MODE.tracer
    if tracer is not None:
        return tracer.alias(t)
    return Tensor._make(t._data)


def constant(array, random=False):
    """A tensor made from concrete data (`tensor(...)`, `randn(...)`). While tracing it becomes a
    constant of the trace; a random one makes the trace valid for one call only."""
    tracer = MODE.tracer
    if tracer is not None:
        return tracer.constant(array, random)
    return Tensor._make(array)


def read_grad(t):
    tracer = MODE.tracer
    if tracer is not None:
        tracer.observe_grad(t)
    return t._grad


def write_grad(t, value):
    tracer = MODE.tracer
    if tracer is not None:
        tracer.observe_grad(t, write=True)
    t._grad = value

"""The one dispatch point: every tensor operation ends in `apply(prim, *args, **attrs)`.

Eager mode runs the primitive's NumPy impl and, when grad mode is on and an
input requires grad, records a backward node. Tracing mode hands the call to
the active tracer, which emits an IR node. Nothing else branches on the mode.

Floating-point warnings. PyTorch computes log(0) = -inf, 0/0 = nan and an overflow to inf
silently; NumPy warns (RuntimeWarning) on each. An `np.errstate` around every impl call
costs ~4.5 us, three times a small op, so importing this module sets NumPy's error state
once instead (config.fp_warnings(), STEPJIT_FP_WARNINGS=1, keeps NumPy's warnings).
"""
from __future__ import annotations

from time import perf_counter_ns as _clock

import numpy as np

from . import config
from .autograd.grad_mode import STATE as GRAD
from .autograd import forward_ad as _forward_ad
from .autograd.node import BackwardPlan, Node, PrimBackward, node_class, save_tensor
from .autograd.view_writes import fresh as _fresh_view, view_of as _record_view
from .errors import StepjitError, UnsupportedDTypeError, op_error, user_location
from .ir.primitives import full as _FULL, index_put as _INDEX_PUT
from .ir.impl import _convert, _impl_error, number_array
from .ir.registry import DISPATCH
from .ir.types import BOOL, FLOAT, AVal, as_dtype, bfloat16, scalar_dtype
from .profiler import STATE as PROFILE, user_line
from . import meta as _meta


class _Mode:
    __slots__ = ("tracer",)

    def __init__(self):
        self.tracer = None


MODE = _Mode()
if not config.fp_warnings():
    np.seterr(divide="ignore", invalid="ignore", over="ignore")
Tensor = None  # bound by stepjit.tensor, which imports this module
# Tensor._make, bound once by stepjit.tensor: a classmethod looked up on the class makes a new
# method object on every call, and every op's result is made here.
make_tensor = None

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
    kind = getattr(type(x), "stands_for", None)   # a number a trace reads per call (symbolic.py)
    if kind is not None:
        return AVal((), scalar_dtype(kind()), weak=True)
    if getattr(x, "is_sparse", False) is True:
        raise TypeError("sparse COO tensors take part only in +, -, mm/matmul/spmm, sum and "
                        "to_dense(); call .to_dense() first")
    raise TypeError(f"expected a tensor or a Python number, got {type(x).__name__}")


def apply(prim, *args, **attrs):
    """Run `prim` on `args`: traced while a tracer is active, else eagerly.

    The eager path is written out in this one frame (each Python call it saves is a few hundred
    machine instructions, on every op): one pass over the inputs builds the signature key
    (prim, then per input its shape and dtype, or a number's type, then the attrs' items), one
    dict lookup gives the signature, the impl runs, the result is wrapped and, when an input
    requires grad, recorded. One or two inputs (nearly every call) build the key as one tuple;
    more, or FAST off, by _generic_key's loop, which builds the same key."""
    if FORWARD.token is not None:   # a dual level is open: tangents too (autograd/forward_ad.py)
        for a in args:   # a view whose root was written since: its tangent re-derived too
            if isinstance(a, Tensor) and a._view is not None:
                _fresh_view(a)
        return _forward_ad.apply_dual(apply, prim, args, attrs)
    tracer = MODE.tracer
    if tracer is not None:
        return tracer.apply(prim, args, attrs)
    if PROFILE.active is not None:
        return _profiled(prim, args, attrs)
    n = len(args)
    x = args[0] if n else None
    if n == 2 and FAST and (isinstance(x, Tensor) or isinstance(args[1], Tensor)):
        y = args[1]
        if isinstance(x, Tensor):
            dx = x._data
            if isinstance(y, Tensor):
                dy = y._data
                key = (prim, dx.shape, dx.dtype, dy.shape, dy.dtype)
                host = type(dx) is _NDARRAY and type(dy) is _NDARRAY
            else:
                dy = y
                key = (prim, dx.shape, dx.dtype, type(y))
                host = type(dx) is _NDARRAY
        else:
            dx = x
            dy = y._data
            key = (prim, type(x), dy.shape, dy.dtype)
            host = type(dy) is _NDARRAY
        arrays = [dx, dy]
    elif n == 1 and FAST and isinstance(x, Tensor):
        dx = x._data
        key = (prim, dx.shape, dx.dtype)
        host = type(dx) is _NDARRAY
        arrays = [dx]
    else:
        arrays, key, host = _generic_key(prim, args)
    if attrs:
        key += (tuple(attrs.items()),)
    try:
        sig = _SIGNATURES[key]
    except (KeyError, TypeError):   # a new signature, or an unhashable attribute
        sig = _signature(prim, args, attrs, key)
    if not host:
        return _device_eager(prim, args, attrs, arrays, sig)
    if sig.casts:
        _convert(arrays, sig.casts, sig.np_dtype)
    try:
        result = prim.impl(*arrays, **attrs) if attrs else prim.impl(*arrays)
    except (StepjitError, ValueError, IndexError, TypeError) as e:
        raise _impl_error(prim, arrays, e) from None
    if type(result) is not _NDARRAY or (result.dtype is not sig.np_dtype
                                        and result.dtype != sig.np_dtype):
        result = np.asarray(result, dtype=sig.np_dtype)
    out = make_tensor(result)
    if sig.view and _shares(result, arrays[0]):
        _view_of(out, x, prim, attrs)
    if sig.records and GRAD.enabled:
        _record_eager(sig, prim, args, attrs, out)
    return out


DISPATCH["apply"] = apply   # what the registry's VJP rules call (registry.bind)
FORWARD = _forward_ad.STATE
_forward_ad.HOOKS["fresh_view"] = _fresh_view

# False: the eager fast paths are off (one- and two-input signature keys, setitem_fast, the
# one-operand in-place write, the backward seed copied from a template); every call takes the
# generic path. Tests compare the two.
FAST = True


class _Signature:
    """What one input signature of a primitive always gives: the output's AVal, the inputs to
    convert to its dtype before impl runs, and (built on first use) how to record its backward
    node. Derived once, reused every call: the signature key fixes every input's shape, dtype
    and kind, and the attributes."""
    __slots__ = ("aval", "np_dtype", "casts", "view", "records", "grad_inputs", "tape")

    def __init__(self, prim, args, aval):
        self.aval = aval
        # a view primitive on a tensor: its result may share that tensor's storage
        self.view = bool(prim.view and args and isinstance(args[0], Tensor))
        self.np_dtype = aval.dtype.np
        self.casts = _casts(prim, args, aval)
        self.records = prim.vjp is not None and aval.dtype.category == FLOAT
        # the tensor inputs a gradient can flow to
        self.grad_inputs = tuple(i for i, r in enumerate(_vjp_rules(prim, len(args)))
                                 if r is not None and isinstance(args[i], Tensor))
        self.tape = None


def _casts(prim, args, aval):
    """Indices of the inputs run_impl would convert to the output dtype, for these input types."""
    if not prim.casts or aval.dtype.category == BOOL:
        return ()
    target = aval.dtype.np
    return tuple(i for i in prim.casts
                 if not isinstance(args[i], Tensor) or args[i]._data.dtype != target)


_SIGNATURES: dict = {}


def _signature(prim, args, attrs, key):
    """prim's shape rule and cast plan for `key` (prim, the input shapes, dtypes and scalar
    kinds, the attrs), memoized: the eager hot path pays one dict lookup instead of
    re-deriving broadcasting and promotion. Called on a miss (or an unhashable attribute)."""
    try:
        key = tuple(key)
        hash(key)
    except TypeError:  # an unhashable attribute: no memo
        key = None
    try:
        avals = [aval_of(a) for a in args]
        aval = prim.shape_rule(*avals, **attrs)
    except StepjitError as e:
        raise op_error(e, prim.name) from None
    except TypeError as e:   # an argument that is neither a tensor nor a number
        raise TypeError(f"{prim.name}: {e} (at {user_location()})") from None
    if not moves_values(prim) and any(a.dtype is bfloat16 for a in avals):
        raise UnsupportedDTypeError(
            f"{prim.name}: stepjit stores bfloat16 tensors but computes only in float32 and "
            f"float64; convert with .float() first (got {_described(avals)}, at "
            f"{user_location()})")
    sig = _Signature(prim, args, aval)
    if key is not None:
        if len(_SIGNATURES) > 8192:
            _SIGNATURES.clear()
        _SIGNATURES[key] = sig
    return sig


def moves_values(prim) -> bool:
    """prim only moves or converts values (a view, a copy, a concatenation, a cast): all a
    bfloat16 tensor takes part in (ir/bfloat16.py)."""
    return prim.kind == "movement" or prim.view or prim.expr == "{0}"


def _described(avals) -> str:
    return ", ".join(f"{a.dtype.name} {list(a.shape)}" for a in avals if not a.weak)


def _profiled(prim, args, attrs):
    """apply, recorded as one event of the running profile (stepjit/profiler.py)."""
    prof, PROFILE.active = PROFILE.active, None
    start = _clock()
    try:
        return apply(prim, *args, **attrs)
    finally:
        PROFILE.active = prof
        dur = _clock() - start
        info = {}
        if prof.record_shapes:
            info["shapes"] = [list(a.shape) if isinstance(a, Tensor) else a for a in args]
            info["dtypes"] = [a.dtype.name for a in args if isinstance(a, Tensor)]
        if prof.with_stack:
            info["line"] = user_line()
        prof.add(prim.name, "op", start, dur, **info)


def _generic_key(prim, args):
    """apply's key for any inputs, by a loop over them (less the attrs), with the inputs'
    arrays (numbers as they are) and whether all storage is on the host."""
    arrays = []
    key = [prim]
    host = True
    for a in args:
        if isinstance(a, Tensor):
            d = a._data
            arrays.append(d)
            key += (d.shape, d.dtype)
            if type(d) is not _NDARRAY:   # the one check CPU tensors pay: storage on a device
                host = False
        else:
            arrays.append(a)
            key.append(type(a))
    return arrays, tuple(key), host


def _arrays_and_sig(prim, args, attrs):
    """The inputs' arrays, the signature apply would find for them, and whether all storage is
    on the host (for in-place forms that run the same checks as apply)."""
    arrays, key, host = _generic_key(prim, args)
    if attrs:
        key += (tuple(attrs.items()),)
    try:
        sig = _SIGNATURES[key]
    except (KeyError, TypeError):
        sig = _signature(prim, args, attrs, key)
    return arrays, sig, host


def view_of(out, src, prim, attrs):
    """out views src's storage: it shares src's version counter (and base, for autograd checks)
    and records how it was made (autograd/view_writes.py: writes through it, replays)."""
    out._version = src._version
    if src._requires_grad or src._base is not None:
        out._base = src if src._base is None else src._base   # (not `or`: a Tensor's truth is its value)
    _record_view(out, src, prim, attrs)


_view_of = view_of


# -- CUDA tensors (stepjit/programs/cuda.py runs their ops; see docs/cuda.md) ------------------
_NDARRAY = np.ndarray
_META = _meta.MetaArray
# The device's eager ops, `run_eager_op(prim, args, arrays, attrs, aval)` and
# `store_device(dst, result)`: the CUDA backend (programs/cuda.py), which the public API
# (stepjit/api.py) puts here, loaded on the first op on a CUDA tensor so that CPU-only programs
# never load it; dispatch imports nothing above the front end.
DEVICE = None


def _device_eager(prim, args, attrs, arrays, sig):
    """An eager op with an input on the CUDA device: checked for mixed devices, run as a cached
    single-op CUDA program built by the same codegen as compiled steps, recorded like any op."""
    if any(type(a) is _META for a in arrays):   # the meta device: the shape rule only
        result = _meta.result(prim, args, arrays, sig.aval)
    else:
        result = DEVICE.run_eager_op(prim, args, arrays, attrs, sig.aval)
    out = make_tensor(result)
    if prim.view and args and isinstance(args[0], Tensor) and arrays[0] is not result \
            and type(result) is not _META:
        _view_of(out, args[0], prim, attrs)
    if sig.records and GRAD.enabled:
        _record_eager(sig, prim, args, attrs, out)
    return out


def trace_device(t):
    """The device a trace-time tensor stands for: CUDA when the trace read CUDA tensors."""
    from .tensor import CPU, CUDA0
    return CUDA0 if getattr(MODE.tracer, "reads_device", False) else CPU


def _shares(result, a):
    """Whether a view primitive's result shares a's memory; `base` answers the common cases
    without np.may_share_memory."""
    base = result.base
    if base is None:
        return False
    if base is a or (base is a.base and base is not None):
        return True
    return np.may_share_memory(result, a)


# -- the tape ------------------------------------------------------------------------------
class _Tape:
    """How to record one signature's backward node: fixed by the signature, so derived once.
    `plans` maps which differentiable inputs require grad to the nodes' BackwardPlan."""
    __slots__ = ("prim", "attrs", "rules", "grad_inputs", "node_cls", "in_shapes", "in_dtypes",
                 "plans")

    def __init__(self, sig, prim, args, attrs):
        self.prim = prim
        self.rules = _vjp_rules(prim, len(args))
        self.grad_inputs = sig.grad_inputs
        self.node_cls = _node_class(prim, attrs)
        self.in_shapes, self.in_dtypes = _in_meta(args)
        self.plans = {}

    def plan(self, requiring):
        """The BackwardPlan for the differentiable inputs that require grad."""
        plan = self.plans.get(requiring)
        if plan is None:
            needs = [False] * len(self.rules)
            for i, r in zip(self.grad_inputs, requiring):
                needs[i] = r
            plan = self.plans[requiring] = BackwardPlan(self.node_cls, self.prim, tuple(needs),
                                                        self.in_shapes, self.in_dtypes)
        return plan


def _in_meta(args):
    """Each input's shape and dtype (() and None for a Python number)."""
    shapes = tuple(a._data.shape if isinstance(a, Tensor) else () for a in args)
    dtypes = tuple(dtype_of_array(a._data) if isinstance(a, Tensor) else None for a in args)
    return shapes, dtypes


def _record_eager(sig, prim, args, attrs, out):
    """record() for an eager op, with everything its signature fixes taken from `sig`: a
    node when some differentiable input requires grad."""
    gi = sig.grad_inputs
    if len(gi) == 1:
        if not args[gi[0]]._requires_grad:
            return
        requiring = _ONE_REQUIRING
    else:
        if len(gi) == 2:
            requiring = (args[gi[0]]._requires_grad, args[gi[1]]._requires_grad)
        else:
            requiring = tuple([args[i]._requires_grad for i in gi])
        if True not in requiring:
            return
    tape = sig.tape
    if tape is None:
        tape = sig.tape = _Tape(sig, prim, args, attrs)
    _attach(tape.plans.get(requiring) or tape.plan(requiring), args, attrs, out)


_ONE_REQUIRING = (True,)


def record(prim, args, attrs, out):
    """Attach a backward node to `out` when any input requires grad (any mode: the tracer
    calls this with trace-time tensors)."""
    rules = _vjp_rules(prim, len(args))
    needs = tuple(r is not None and isinstance(a, Tensor) and a._requires_grad
                  for a, r in zip(args, rules))
    if True not in needs:
        return
    shapes, dtypes = _in_meta(args)
    _attach(BackwardPlan(_node_class(prim, attrs), prim, needs, shapes, dtypes), args, attrs, out)


def _attach(plan, args, attrs, out):
    node = _new(plan.cls)
    needs = plan.needs
    if len(needs) == 2:   # (no list, no comprehension frame for the common arities)
        x, y = args
        edges = (x._grad_edge() if needs[0] else _NO_EDGE, y._grad_edge() if needs[1] else _NO_EDGE)
    elif len(needs) == 1:
        edges = (args[0]._grad_edge() if needs[0] else _NO_EDGE,)
    else:
        edges = tuple([a._grad_edge() if n else _NO_EDGE for a, n in zip(args, needs)])
    _node_init(node, edges)
    node.plan = plan
    node.attrs = attrs
    node.saved = _save(args, out, plan.save) if plan.save else _NOTHING_SAVED
    out._grad_fn = node
    out._requires_grad = True


_new = object.__new__
_node_init = Node.__init__
_NO_EDGE = (None, 0)
_NOTHING_SAVED = {}   # shared, never written: a node that saves nothing
_VJP_RULES: dict = {}
_NODE_CLASSES: dict = {}


def _vjp_rules(prim, n):
    """The VJP rule of each of n inputs (None where an input gets no gradient)."""
    rules = _VJP_RULES.get((prim, n))
    if rules is None:
        rules = _VJP_RULES[(prim, n)] = tuple(prim.vjp_for(i) for i in range(n))
    return rules


def _node_class(prim, attrs):
    cls = _NODE_CLASSES.get(prim)
    if cls is None:
        cls = node_class(PrimBackward, prim.grad_name(attrs))
        if isinstance(prim._grad_name, str):  # else the name depends on attrs: no memo
            _NODE_CLASSES[prim] = cls
    return cls


def _save(args, out, plan):
    saved = {}
    for name, where in plan:
        if type(where) is int:
            a = args[where]
            saved[name] = save_tensor(a) if isinstance(a, Tensor) else a
        elif where == "out":
            saved[name] = save_tensor(out)
        else:   # "xs"
            saved[name] = [save_tensor(a) if isinstance(a, Tensor) else a for a in args]
    return saved


# -- in-place writes and concrete reads: the other two places where the modes differ --
def read_group(optimizer, index, group):
    """The parameter group `optimizer.step()` reads: itself eagerly; while tracing, the
    tracer's view of it, which lifts `lr` as a per-call input (tracer/hyperparams.py)."""
    tracer = MODE.tracer
    return group if tracer is None else tracer.read_group(optimizer, index, group)


def store(dst, result):
    """Make `dst` hold `result` (the functional result of an in-place op)."""
    if FORWARD.token is not None:   # dst takes the result's tangent (none: it has none now)
        _forward_ad.set_tangent(dst, _forward_ad.tangent_of(result))
    tracer = MODE.tracer
    if tracer is not None:
        return tracer.store(dst, result)
    if type(dst._data) is _META:   # a meta tensor has nothing to write
        pass
    elif type(result._data) is _META:
        raise NotImplementedError(_meta.NO_DATA)
    elif type(dst._data) is not _NDARRAY:
        DEVICE.store_device(dst, result)
    else:
        np.copyto(dst._data, result._data, casting="unsafe")
    dst._version.value += 1


def concrete(t, purpose="value"):
    """The NumPy value of `t`. While tracing this is a data-dependent decision the tracer guards;
    `purpose` "numpy", "list" or "nonzero" (the values handed to NumPy or a Python list, beyond
    the tracer's sight) makes a traced step run its Python on every call."""
    tracer = MODE.tracer
    if tracer is not None:
        return tracer.concrete(t, purpose)
    d = t._data
    if type(d) is _META and purpose == "value":
        raise RuntimeError("Tensor.item() cannot be called on meta tensors")
    return d if type(d) is _NDARRAY else d.copy_to_host()   # a CUDA tensor's value: a host copy


def windows(t, key):
    """`t[key]` where key's slice bounds are ints read per call, or traced tensors, while
    tracing (tracer/windows.py): (t with those windows taken, the rest of key). Otherwise
    (t, key)."""
    tracer = MODE.tracer
    if tracer is None:
        return t, key
    return tracer.windows(t, key)


def check_view_write(root, steps, op):
    """Before a write through the view `steps` make of `root`: eagerly every recorded view
    shares its root's memory; a trace must check that its views are views eagerly too."""
    tracer = MODE.tracer
    if tracer is not None:
        tracer.check_view_write(root, steps, op)


def replace_data(t, value):
    """`t.data = value`: t now shares value's storage, untracked by autograd."""
    tracer = MODE.tracer
    if tracer is not None:
        return tracer.replace_data(t, value)
    t._data = value._data


def fill_fast(dst, value) -> bool:
    """Eager `fill_` / `zero_` with no autograd to record: write the value into the buffer."""
    if MODE.tracer is not None or not isinstance(value, (int, float, bool)) \
            or type(dst._data) is not _NDARRAY or FORWARD.token is not None \
            or not dst._data.flags.writeable:
        return False
    dst._data.fill(value)
    dst._version.value += 1
    return True


def setitem_fast(dst, mask, value) -> bool:
    """Eager `x[mask] = number` with no autograd to record, for a host float tensor x, a host
    bool mask of x's own shape and a Python int or float: index_put's `into` form on x's buffer
    with the number cast to x's dtype, as the general path (setitem -> Tensor._inplace ->
    inplace_fast -> _into) runs it, less the key normalization and signature lookup. False
    where the general path must run (it then also raises what it raises)."""
    if MODE.tracer is not None or not FAST or (type(value) is not float and type(value) is not int) \
            or FORWARD.token is not None:
        return False
    d = dst._data
    m = mask._data
    if (type(d) is not _NDARRAY or type(m) is not _NDARRAY or m.dtype is not _BOOL
            or m.shape != d.shape or not d.shape or d.dtype.kind != "f" or not d.flags.writeable):
        return False
    if GRAD.enabled and (dst._requires_grad or dst._base is not None):
        return False   # may record, or raise (_check_inplace): the general path decides
    _INDEX_PUT.into(d, number_array(value, d.dtype), m, key=_MASK_KEY, accumulate=False)
    dst._version.value += 1
    return True


_BOOL = np.dtype(np.bool_)
_MASK_KEY = ("T",)


def inplace_fast(prim, dst, others, attrs) -> bool:
    """Eager in-place op with no autograd to record: write straight into dst's buffer, through
    a ufunc's `out=` or the primitive's `into` form. False if it can't (the caller then
    computes the functional result and stores it)."""
    if MODE.tracer is not None or type(dst._data) is not _NDARRAY or FORWARD.token is not None \
            or not dst._data.flags.writeable:
        return False   # (a read-only buffer: _assign raises PyTorch's error)
    if prim.ufunc and not attrs:
        done = _ufunc_into(prim, dst, others)
    elif prim.into is not None:
        done = _into(prim, dst, others, attrs)
    else:
        return False
    if done:
        dst._version.value += 1
    return done


def _ufunc_into(prim, dst, others):
    """ufunc(dst, *others, out=dst) where that means what the functional op would: operands of
    dst's dtype (or Python numbers into a float tensor) broadcasting to dst's shape."""
    out = dst._data
    if len(others) == 1 and FAST:   # the common `w -= lr * g`: one operand, no list, no loop
        o = others[0]
        if isinstance(o, Tensor):
            a = o._data
            if type(a) is not _NDARRAY or a.dtype != out.dtype:
                return False
            if a.shape != out.shape and not _broadcasts_into((out, a), out.shape):
                return False
            prim.impl(out, a, out=out)
            return True
        if type(o) is float or type(o) is int:
            if out.dtype.kind != "f":
                return False
            prim.impl(out, o, out=out)
            return True
    arrays = [out]
    reshaped = False   # an operand of another shape: check it broadcasts to out's
    for o in others:
        if isinstance(o, Tensor):
            a = o._data
            if a.dtype != out.dtype or type(a) is not _NDARRAY:
                return False
            reshaped = reshaped or a.shape != out.shape
            arrays.append(a)
        elif isinstance(o, (int, float)) and not isinstance(o, bool) and out.dtype.kind == "f":
            arrays.append(o)
        else:
            return False
    if reshaped and not _broadcasts_into(arrays, out.shape):
        return False
    prim.impl(*arrays, out=out)
    return True


def _into(prim, dst, others, attrs):
    """prim.into on dst's buffer, after the shape rule and casts the functional op applies (so
    a bad index raises the same error)."""
    arrays, sig, host = _arrays_and_sig(prim, (dst, *others), attrs)
    if not host:
        return False
    if sig.casts:
        _convert(arrays, sig.casts, sig.np_dtype)
    try:
        prim.into(*arrays, **attrs)
    except (StepjitError, ValueError, IndexError, TypeError) as e:
        raise _impl_error(prim, arrays, e) from None
    return True


def _broadcasts_into(arrays, shape) -> bool:
    """Whether the operands broadcast to exactly `shape`."""
    try:
        return np.broadcast_shapes(*[a.shape for a in arrays if isinstance(a, np.ndarray)]) == shape
    except ValueError:
        return False


def ones_fast(t):
    """Eager `ones_like(t)` for t on the host (backward's seed): a new tensor holding a copy of
    full's impl's result for t's shape and dtype, made once per shape and dtype (np.full is
    Python-level and costs more than the copy), with none of the factory's argument handling.
    None while tracing or on a device."""
    d = t._data
    if MODE.tracer is not None or type(d) is not _NDARRAY:
        return None
    key = (d.shape, d.dtype)
    ones = _ONES.get(key) if FAST else None
    if ones is None:
        ones = _FULL.impl(shape=d.shape, value=1, dtype=dtype_of_array(d))
        if not FAST:
            return make_tensor(ones)
        if len(_ONES) > 64:
            _ONES.clear()
        ones.flags.writeable = False   # the template is only ever copied
        _ONES[key] = ones
    return make_tensor(ones.copy())


_ONES: dict = {}   # (shape, NumPy dtype) -> read-only array of ones, for ones_fast


def alias(t):
    """A new tensor object sharing t's storage (`.data`, `.detach()`)."""
    tracer = MODE.tracer
    if tracer is not None:
        return tracer.alias(t)
    return make_tensor(t._data)


def constant(array, random=False):
    """A tensor made from concrete data (`tensor(...)`, `randn(...)`). While tracing it becomes a
    constant of the trace; a random one makes the trace valid for one call only."""
    tracer = MODE.tracer
    if tracer is not None:
        return tracer.constant(array, random)
    return make_tensor(array)


def adopt(t):
    """A tensor made outside make_tensor (the legacy Tensor(...) constructor) while a step is
    traced: the tracer follows it as one it made (whether it outlives the step)."""
    tracer = MODE.tracer
    if tracer is not None:
        tracer.adopt(t)


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

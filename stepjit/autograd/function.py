"""Custom autograd Functions: user-written forward and backward, as in PyTorch.

Forward runs with grad mode off; its outputs get a FunctionBackward node that
calls the user's backward with one gradient per output and expects one
gradient (or None) per forward argument.
"""
from __future__ import annotations

import functools

import numpy as np

from ..ir.types import FLOAT
from .grad_mode import STATE as GRAD
from . import forward_ad, node as _node
from .forward_ad import STATE as _FORWARD
from .node import Node, SavedTensor, _FREED_MSG, _tensor_class, fit_grad, node_class
from ..ir.primitives.shapes import broadcast_shapes


# Set while a check-mode trace runs (stepjit/programs/check.py function_checks): called as
# CHECK_HOOK(cls, args, kwargs) after forward when a gradient will be needed.
CHECK_HOOK = None


class FunctionCtx:
    # Class-level defaults: a ctx is made per call, and most calls change none but _saved.
    _saved = ()
    needs_input_grad = ()
    _non_differentiable = frozenset()
    materialize_grads = True
    _node_name = "a custom Function"   # the node's name once apply made it (for saved-tensor errors)

    def save_for_backward(self, *tensors):
        Tensor = _node._TENSOR or _tensor_class()
        if len(tensors) == 1:   # (no comprehension frame for the common single tensor)
            t = tensors[0]
            self._saved = (SavedTensor(t, True) if isinstance(t, Tensor) else t,)
        else:
            self._saved = tuple([SavedTensor(t, True) if isinstance(t, Tensor) else t
                                 for t in tensors])

    @property
    def saved_tensors(self):
        saved = self._saved
        if saved is None:
            raise RuntimeError(_FREED_MSG)
        if len(saved) == 1:   # (no generator frame for the common single tensor)
            s = saved[0]
            if type(s) is SavedTensor and s.version.value == s.saved_version \
                    and s.hooked is None:
                return (s.tensor,)   # unpack's answer: save_for_backward kept the object
            return (s.unpack(self._node_name) if isinstance(s, SavedTensor) else s,)
        node_name = self._node_name
        return tuple(s.unpack(node_name) if isinstance(s, SavedTensor) else s for s in saved)

    def mark_non_differentiable(self, *tensors):
        self._non_differentiable = self._non_differentiable | {id(t) for t in tensors}

    def set_materialize_grads(self, value: bool):
        self.materialize_grads = bool(value)

    def mark_dirty(self, *tensors):
        pass


class FunctionBackward(Node):
    __slots__ = ("fn_cls", "ctx", "n_outputs", "out_meta", "in_meta")
    has_saved = True

    def apply(self, grads):
        if self._freed:   # (check_not_freed: a FunctionBackward always has saved state)
            raise RuntimeError(_node._FREED_MSG)
        ctx = self.ctx
        if ctx.materialize_grads and (grads[0] is None if len(grads) == 1 else _has_none(grads)):
            from ..ops.creation import zeros
            grads = [zeros(shape, dtype=dt) if g is None else g
                     for g, (shape, dt) in zip(grads, self.out_meta)]
        # The engine runs nodes with grad mode off (a hook may have turned it on); under
        # create_graph with it on, so the user's backward is taped, as PyTorch runs it.
        enabled = GRAD.enabled
        GRAD.enabled = GRAD.create_graph
        try:
            result = self.fn_cls.backward(ctx, *grads)
        finally:
            GRAD.enabled = enabled
        if not isinstance(result, tuple):
            if len(self.in_meta) == 1:   # the common single input: no list comprehension
                return [self._check(0, result)]
            result = (result,)
        if len(result) != len(self.in_meta):
            if len(result) > len(self.in_meta) and all(r is None for r in result[len(self.in_meta):]):
                result = result[:len(self.in_meta)]
            else:
                raise RuntimeError(f"function {self._name} returned an incorrect number of "
                                   f"gradients (expected {len(self.in_meta)}, got {len(result)})")
        return [self._check(i, g) for i, g in enumerate(result)]

    def _check(self, i, g):
        meta = self.in_meta[i]
        if g is None or meta is None:
            return None
        if not isinstance(g, _node._TENSOR or _tensor_class()):
            raise RuntimeError(f"function {self._name} returned a gradient of type "
                               f"{type(g).__name__} at index {i}; expected a Tensor or None")
        shape, dtype = meta
        d = g._data   # an array, or an IR Value while tracing
        if d.shape == shape:
            if d.dtype is dtype.np:   # already the input's shape and dtype: fit_grad keeps it
                return g
        else:
            # PyTorch accepts a gradient the input broadcasts to, and sums it back.
            try:
                ok = broadcast_shapes(shape, tuple(g.shape)) == tuple(g.shape)
            except Exception:
                ok = False
            if not ok:
                raise RuntimeError(f"Function {self._name} returned an invalid gradient at index {i} "
                                   f"- got {list(g.shape)} but expected shape compatible with "
                                   f"{list(shape)}")
        g = fit_grad(g, shape, dtype)
        return g

    def release(self):
        self._freed = True
        self.ctx._saved = None


class _FunctionMeta(type):
    def __init__(cls, name, bases, ns):
        super().__init__(name, bases, ns)
        cls._backward_cls = node_class(FunctionBackward, name + "Backward")


class Function(metaclass=_FunctionMeta):
    """Subclass with static `forward(ctx, *args)` and `backward(ctx, *grads)`; call `.apply`."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a custom Function must implement forward")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("a custom Function must implement backward")

    @staticmethod
    def jvp(ctx, *tangents):
        raise NotImplementedError("You must implement the jvp function for custom "
                                  "autograd.Function to use it with forward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        if _FORWARD.token is not None:
            return _apply_dual(cls, args, kwargs)
        return _apply(cls, FunctionCtx(), args, kwargs)


def _apply(cls, ctx, args, kwargs):
    """Function.apply with the ctx forward and backward (and jvp) share."""
    Tensor = _node._TENSOR or _tensor_class()
    if len(args) == 1:   # (no comprehension frame for the common single input)
        a = args[0]
        needs = (isinstance(a, Tensor) and a._requires_grad,)
    else:
        needs = tuple([isinstance(a, Tensor) and a._requires_grad for a in args])
    ctx.needs_input_grad = needs
    enabled = GRAD.enabled
    GRAD.enabled = False   # forward runs under no_grad
    try:
        outputs = cls.forward(ctx, *args, **kwargs)
    finally:
        GRAD.enabled = enabled
    if not enabled or True not in needs:
        return outputs
    if CHECK_HOOK is not None:   # check mode: backward against finite differences
        CHECK_HOOK(cls, args, kwargs)
    if not isinstance(outputs, tuple):
        node = _new_node(cls, ctx, args, needs, (outputs,), Tensor)
        return _attach_output(node, 0, outputs, args, ctx, Tensor)
    node = _new_node(cls, ctx, args, needs, outputs, Tensor)
    return tuple([_attach_output(node, i, o, args, ctx, Tensor) for i, o in enumerate(outputs)])


def _apply_dual(cls, args, kwargs):
    """apply inside a dual level: forward with forward AD off, then the output tangents from
    the Function's own `jvp(ctx, *input tangents)` (zeros for a float tensor input without a
    tangent, None for other inputs), as PyTorch runs a custom Function in forward mode."""
    tangents = [forward_ad.tangent_of(a) if hasattr(a, "_data") else None for a in args]
    ctx = FunctionCtx()
    outputs = forward_ad._suspended(_apply, cls, ctx, args, kwargs)
    if all(t is None for t in tangents):
        return outputs
    seeds = [t if t is not None else (a * 0 if hasattr(a, "_data") and a.is_floating_point()
                                      else None) for a, t in zip(args, tangents)]
    out_t = forward_ad._suspended(lambda: cls.jvp(ctx, *seeds))
    outs = outputs if isinstance(outputs, tuple) else (outputs,)
    out_t = out_t if isinstance(out_t, tuple) else (out_t,)
    if len(out_t) != len(outs):
        raise RuntimeError(f"{cls.__name__}.jvp returned {len(out_t)} tangents for "
                           f"{len(outs)} outputs of forward")
    for o, t in zip(outs, out_t):
        if t is not None and hasattr(o, "_data"):
            forward_ad.set_tangent(o, t)
    return outputs


def _new_node(cls, ctx, args, needs, outs, Tensor):
    """The FunctionBackward node: edges to the inputs that need grad, and the outputs' and
    inputs' (shape, dtype) its backward checks gradients against."""
    node_cls = cls._backward_cls
    node = _new(node_cls)
    if len(args) == 1:
        a = args[0]
        edges = (a._grad_edge() if needs[0] else _NO_EDGE,)
        in_meta = (_meta(a) if isinstance(a, Tensor) else None,)
    else:
        edges = tuple([a._grad_edge() if n else _NO_EDGE for a, n in zip(args, needs)])
        in_meta = tuple([_meta(a) if isinstance(a, Tensor) else None for a in args])
    Node.__init__(node, edges)
    node.fn_cls = cls
    node.ctx = ctx
    ctx._node_name = node_cls._name
    node.n_outputs = len(outs)
    if len(outs) == 1:
        o = outs[0]
        node.out_meta = (_meta(o, in_meta[0] if len(in_meta) == 1 else None)
                         if isinstance(o, Tensor) else ((), None),)
    else:
        node.out_meta = tuple([_meta(o) if isinstance(o, Tensor) else ((), None) for o in outs])
    node.in_meta = in_meta
    return node


_new = object.__new__
_NO_EDGE = (None, 0)


def _attach_output(node, i, o, args, ctx, Tensor):
    """Output i of a custom Function, as the user gets it: with node as its grad_fn when it is
    a differentiable float tensor."""
    if (isinstance(o, Tensor) and node.out_meta[i][1].category == FLOAT   # (the meta: o's dtype)
            and (not ctx._non_differentiable or id(o) not in ctx._non_differentiable)):
        if o._grad_fn is not None or o._requires_grad or _is_any(o, args):
            o = o.detach()  # an input returned as is: the output is a new tensor object
        o._grad_fn = node
        o._output_nr = i
        o._requires_grad = True
    return o


def _is_any(o, args):
    for a in args:
        if o is a:
            return True
    return False


def _has_none(values):
    for v in values:
        if v is None:
            return True
    return False


def _meta(t, like=None):
    """(shape, dtype) of a tensor, for checking the gradients backward returns; `like` itself
    when it is already that (an output like its input, as ReLU's, shares the input's meta)."""
    d = t._data
    if type(d) is _NDARRAY:   # (no property and dispatch calls for a host array's dtype)
        if like is not None and d.shape == like[0] and d.dtype is like[1].np:
            return like
        dtype = _DTYPES.get(d.dtype)
        if dtype is None:
            dtype = _DTYPES[d.dtype] = t.dtype
        return (d.shape, dtype)
    return (d.shape, t.dtype)


_NDARRAY = np.ndarray
_DTYPES = {}   # NumPy dtype -> DType of host arrays


# -- once_differentiable --------------------------------------------------------------------
def once_differentiable(backward):
    """Decorate a custom Function's backward that cannot itself be differentiated (NumPy
    inside, say): it runs with grad mode off, and under create_graph its gradients carry a
    node that raises if a later backward reaches it, instead of a silent zero."""
    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        enabled = GRAD.enabled
        GRAD.enabled = False
        try:
            result = backward(ctx, *grads)
        finally:
            GRAD.enabled = enabled
        if not GRAD.create_graph:
            return result
        # The raising node hangs from the saved tensors that require grad too, so a gradient
        # asked of them reaches it (and raises) rather than finding the path missing.
        anchors = [t for t in ctx.saved_tensors
                   if isinstance(t, _node._TENSOR or _tensor_class()) and t.requires_grad]
        if not isinstance(result, tuple):
            return _refuse_second(result, anchors)
        return tuple(_refuse_second(g, anchors) for g in result)
    wrapper.once_differentiable = True
    return wrapper


def _refuse_second(g, anchors):
    Tensor = _node._TENSOR or _tensor_class()
    if not isinstance(g, Tensor) or g.dtype.category != FLOAT:
        return g
    g = g.detach().requires_grad_(True)   # a leaf the raising node hangs from
    return _DelayedError.apply(g, *anchors)


class _DelayedError(Function):
    @staticmethod
    def forward(ctx, g, *anchors):
        return g.clone()

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("trying to differentiate twice a function that was marked with "
                           "@once_differentiable")

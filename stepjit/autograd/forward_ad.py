"""Forward-mode AD: `torch.autograd.forward_ad` (dual tensors).

Inside `dual_level()`, `make_dual(primal, tangent)` gives a tensor carrying a tangent, and
every op on such tensors computes its result's tangent too: `dispatch.apply` hands the call
to `apply_dual`, which runs the op itself and then the primitive's JVP rule from the registry
(`Primitive.jvp`, ir/registry.py) on the inputs' tangents. The rules are written with tensor
ops, like the VJP rules, so they run eagerly, inside a trace (the tangent becomes IR like
any value) and under grad mode (a tangent of a tensor that requires grad has a history).

A tangent is stored on its tensor as `_fw = (token, tangent)`; `token` is the object of the
dual level that made it, so when the level is exited every tangent is gone at once (unpack
reads None) without visiting the tensors. Like PyTorch, one level at a time: entering a
second raises. `torch.func.jvp`/`jacfwd` use this level, and fall back to reverse mode when
a level is already open (jacfwd of jacfwd).

In-place ops keep tangents: the functional result's tangent is stored with the value
(dispatch.store), the snapshot an in-place op computes from keeps the tangent it had, and a
write through a view gives the view the result's tangent and its base the tangent of the
rebased value (the view's unview rule, dispatched like any op). `detach()`, `.data` and
custom Functions without a `jvp` drop or refuse a tangent, as in PyTorch.
"""
from __future__ import annotations

from collections import namedtuple

from ..errors import user_location
from ..ir.primitives import sum as _SUM
from ..ir.registry import bind


class _State:
    __slots__ = ("token",)

    def __init__(self):
        self.token = None   # the open dual level's token, or None (dispatch reads this)


STATE = _State()
# view_writes.fresh, put here by stepjit.dispatch (view_writes imports dispatch, which imports
# this module): re-derives a view whose root was written since, its tangent with it.
HOOKS = {"fresh_view": None}


class _Level:
    """The token of one dual level (identity is all that matters)."""
    __slots__ = ()


UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])
UnpackedDualTensor.__doc__ = "The result of unpack_dual: (primal, tangent)."


def enter_dual_level():
    if STATE.token is not None:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    STATE.token = _Level()
    return 0


def exit_dual_level(*, level=None):
    if STATE.token is None:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one "
                           "that was created. This is not supported.")
    STATE.token = None


class dual_level:
    """Context manager for forward AD: tangents live until it exits."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()
        return False


def _suspended(fn, *args):
    """fn(*args) with forward AD off (the ops making a primal or a tangent carry none)."""
    token, STATE.token = STATE.token, None
    try:
        return fn(*args)
    finally:
        STATE.token = token


def make_dual(tensor, tangent, *, level=None):
    """A view of `tensor` carrying `tangent` at the open dual level. The tangent is kept as
    is when it has the primal's layout, else copied into it (PyTorch's rule)."""
    if STATE.token is None:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, "
                           "make sure to enter_dual_level() first.")
    if not tensor.is_floating_point():
        raise ValueError(f"Expected primal to be floating point or complex, but got: "
                         f"{tensor.dtype}")
    if not tangent.is_floating_point():
        raise ValueError(f"Expected tangent to be floating point or complex, but got: "
                         f"{tangent.dtype}")
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError(
            f"Trying to set a forward gradient that has a different size than that of the "
            f"original Tensor, this is not supported. Tensor is of size {list(tensor.shape)} "
            f"while the given forward gradient is of size {list(tangent.shape)}.")
    dual = _suspended(lambda: tensor.view(tuple(tensor.shape)))
    # A root of its own for views' replays (view_writes.fresh re-derives a view's tangent from
    # its root's): the primal has no tangent. It still shares the primal's storage.
    dual._view = None
    if tangent.dtype is not tensor.dtype or not _same_layout(tangent, tensor):
        tangent = _suspended(_like, tangent, tensor)
    dual._fw = (STATE.token, tangent)
    return dual


def _same_layout(a, b):
    da, db = a._data, b._data
    return getattr(da, "strides", None) == getattr(db, "strides", None)


def _like(tangent, primal):
    out = primal.new_empty(tuple(primal.shape))
    out.copy_(tangent)
    return out


def unpack_dual(tensor, *, level=None):
    """(primal, tangent): the primal as a view without the tangent, and the tangent (None
    outside a dual level, or when the tensor has none)."""
    if STATE.token is None:
        return UnpackedDualTensor(tensor, None)
    if tensor._view is not None:   # a view whose root was written since: re-derived first
        HOOKS["fresh_view"](tensor)
    tangent = tangent_of(tensor)
    primal = _suspended(lambda: tensor.view(tuple(tensor.shape)))
    return UnpackedDualTensor(primal, tangent)


def tangent_of(t, token=None):
    """t's tangent at the open level, or None."""
    fw = getattr(t, "_fw", None)
    if fw is None:
        return None
    return fw[1] if fw[0] is (token or STATE.token) and fw[0] is not None else None


def set_tangent(t, tangent):
    t._fw = None if tangent is None else (STATE.token, tangent)


# -- the ops: a primal by dispatch, its tangent by the registry's JVP rule --------------------
def apply_dual(apply, prim, args, attrs):
    """apply(prim, *args, **attrs) with its result's tangent (dispatch.apply calls this while
    a dual level is open)."""
    token = STATE.token
    tangents = [tangent_of(a, token) if hasattr(a, "_data") else None for a in args]
    STATE.token = None
    try:
        out = apply(prim, *args, **attrs)
        if all(t is None for t in tangents) or not _differentiable(prim, out):
            return out
        tangent = jvp_of(prim, args, tangents, out, attrs)
    finally:
        STATE.token = token
    if tangent is not None:
        out._fw = (token, tangent)
        saved = getattr(out._grad_fn, "saved", None)
        if saved and "out" in saved:   # saved before its tangent existed: a backward in this
            saved["out"].fw = out._fw  # level reads it (forward over reverse)
    return out


def _differentiable(prim, out):
    return prim.vjp is not None and getattr(out, "is_floating_point", None) is not None \
        and out.is_floating_point()


def jvp_of(prim, args, tangents, out, attrs):
    """The tangent of prim's result: the registry's JVP rule applied to the inputs' tangents."""
    how = prim.jvp
    if how is None:
        raise NotImplementedError(
            f"forward-mode AD: the primitive {prim.name} has no JVP rule (inputs of shapes "
            f"{[list(a.shape) if hasattr(a, 'shape') else a for a in args]}, at "
            f"{user_location()}); compute this derivative in reverse mode "
            f"(torch.autograd.grad, torch.func.jacrev) instead")
    if how == "linear":
        total = bind(prim, *[_tangent_or_zero(a, t) for a, t in zip(args, tangents)], **attrs)
    else:
        total = None
        for i, t in enumerate(tangents):
            if t is None:
                continue
            part = _contribution(prim, how, i, t, args, out, attrs)
            if part is not None:
                total = part if total is None else total + part
        if total is None:
            return None
    if tuple(total.shape) != tuple(out.shape):
        total = total.expand(tuple(out.shape))
    if total.dtype is not out.dtype:
        total = total.to(out.dtype)
    return total


def _tangent_or_zero(a, t):
    """A linear primitive's operand in the tangent computation: the tangent; zero for a float
    input without one; index tensors and other non-float inputs as they are."""
    if t is not None:
        return t
    if isinstance(a, float):
        return 0.0
    if hasattr(a, "_data") and a.is_floating_point():
        return a * 0
    return a


def _contribution(prim, how, i, t, args, out, attrs):
    """Input i's part of the output tangent. "diagonal" (elementwise): the VJP rule applied
    to the tangent, the Jacobian being diagonal; "weighted" (a reduction whose VJP is the
    output gradient spread back times a weight per element): the sum of tangent times that
    weight; else the entry's own rule for input i."""
    if how == "diagonal":
        rule = prim.vjp_for(i)
        if rule is None:
            return None
        shape = tuple(out.shape)
        seed = t if tuple(t.shape) == shape else t.expand(shape)
        return rule.fn(seed, **_named(prim, rule, i, args, out, attrs))
    if how == "weighted":
        rule = prim.vjp_for(i)
        weight = rule.fn(out * 0 + 1, **_named(prim, rule, i, args, out, attrs))
        return bind(_SUM, weight * t, axis=attrs["axis"], keepdims=attrs["keepdims"])
    rule = how[i]
    if rule is None:
        return None
    return rule.fn(t, **_named(prim, rule, i, args, out, attrs))


def _named(prim, rule, i, args, out, attrs):
    """The values a rule's parameter names ask for (registry.VJPRule.needs)."""
    kw = {}
    for n in rule.needs:
        if n == "out":
            kw[n] = out
        elif n == "xs":
            kw[n] = list(args)
        elif n == "in_shapes":
            kw[n] = tuple(tuple(a.shape) if hasattr(a, "shape") else () for a in args)
        elif n == "index":
            kw[n] = i
        elif n in attrs:
            kw[n] = attrs[n]
        else:
            kw[n] = args[prim.inputs.index(n)]
    return kw

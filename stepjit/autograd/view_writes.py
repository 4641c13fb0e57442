"""In-place writes through views: PyTorch's CopySlices, as a rewrite into primitives.

A view (the result of a `view` primitive: slice, reshape, transpose, made from its input
without a copy) shares its base's storage, so writing into it changes the base. Autograd must
then see the base's new value as a function of its old value and of what was written, so that
gradients flow through the write to both; PyTorch rebases the base's history onto a CopySlices
node. Here the base's new value is computed with ordinary primitives: each view step's `unview`
(a registry field: slice_scatter for a slice, the inverse view for reshape and transpose)
writes the view's new value into that step's input, from the view up to the root (the tensor
that is not itself a view), whose value and history are then replaced by the result. One rule,
written with tensor ops, so eager tape autograd and the tracer run the same code: eagerly the
root's storage is written and its views see the values through shared memory; while tracing,
`dispatch.store` gives the root its new IR value.

Every view records how it was made from its root (`Tensor._view`: the root, the view steps and
the root's version when its history was last derived). A view whose root has been written since
(the shared version counter moved) is *replayed* from the root the next time its history or
traced value is used (`fresh`), as PyTorch regenerates a view's grad_fn: `v = h[1:3];
h.mul_(2.0); v.sum().backward()` differentiates through the mul_.

Not covered: a view made before its root gained history through a write elsewhere keeps
`requires_grad=False` until it is itself written or replayed by a use that records.
"""
from __future__ import annotations

from .. import dispatch
from .grad_mode import STATE as GRAD


def view_of(out, src, prim, attrs):
    """Record that `out` was made from `src` by a view primitive (`out` already shares src's
    version counter): (root, steps ((prim, attrs), ...), version its history was derived at,
    version its traced value was derived at)."""
    v = src._view
    if v is None:
        out._view = (src, ((prim, attrs),), out._version.value, out._version.value)
    else:
        out._view = (v[0], v[1] + ((prim, attrs),), out._version.value, out._version.value)


def replay(root, steps):
    t = root
    for prim, attrs in steps:
        t = dispatch.apply(prim, t, **attrs)
    return t


def fresh(view):
    """Re-derive `view`'s value and history from its root if the root was written since they
    were derived. Its history only while grad mode is on (with it off, a replay records none)."""
    root, steps, seen_grad, seen_data = view._view
    now = view._version.value
    recording = GRAD.enabled
    if seen_data == now and (seen_grad == now or not recording):
        return
    new = replay(root, steps)
    view._data = new._data
    if new._fw is not None or view._fw is not None:   # (inside a forward-mode dual level)
        view._fw = new._fw
    if recording:
        view._grad_fn = new._grad_fn
        view._output_nr = new._output_nr
        view._requires_grad = new._requires_grad
        seen_grad = now
    view._view = (root, steps, seen_grad, now)


def write(view, result, op):
    """`view` takes the value `result` (an in-place op's functional result): the root's new
    value is derived through every step's `unview` and stored, then the view is replayed."""
    root, steps, _, _ = view._view
    dispatch.check_view_write(root, steps, op)
    if result.dtype is not view.dtype:
        result = result.to(view.dtype)
    path = [root]   # the input of each step, with its current history
    for prim, attrs in steps[:-1]:
        path.append(dispatch.apply(prim, path[-1], **attrs))
    new = result
    for (prim, attrs), x in zip(reversed(steps), reversed(path)):
        if prim.unview is None:
            raise RuntimeError(
                f"{op}: unsupported operation: the tensor is the result of {prim.name}, a view in "
                "which more than one element refers to a single memory location. Please clone() "
                "the tensor before performing the operation.")
        new = prim.unview(x, new, **attrs)
    root._assign(new, op)
    fresh(view)
    return view


def differentiable(view, result) -> bool:
    """Whether writing `result` into `view` changes a history autograd records."""
    return GRAD.enabled and (result._requires_grad or view._view[0]._requires_grad)

"""Functional transforms in JAX's style over the same autodiff: `grad` and `value_and_grad`.

They differentiate with the tape engine (the registry's VJP rules), so they work
eagerly and, unchanged, inside `stepjit.compile`, where the gradient becomes IR.
The differentiated arguments are fresh leaves: the caller's tensors are never
marked as requiring grad and their `.grad` is never touched. They nest as
torch.func's transforms do (autograd/nesting.py): an argument that already requires
grad (an enclosing grad) enters as a view of itself, and a gradient that depends on
such a tensor, or on a closure's tensor that requires grad, is taken with
create_graph, so `grad(grad(f))` is the second derivative.
"""
from __future__ import annotations

import functools

from .autograd.gradients import grad as _autograd_grad
from .autograd import nesting
from .autograd.grad_mode import STATE as GRAD, enable_grad
from .tensor import Tensor


def _argnums(argnums, nargs):
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for n in nums:
        if not -nargs <= n < nargs:
            raise ValueError(f"argnums {n} is out of range for a function of {nargs} arguments")
    return tuple(n % nargs for n in nums)


def value_and_grad(fn, argnums=0, has_aux=False):
    """fn(*args) -> scalar (or (scalar, aux) with has_aux); returns (value, grads)."""
    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        nums = _argnums(argnums, len(args))
        args = list(args)
        leaves, fresh, enabled = [], set(), GRAD.enabled
        for n in nums:
            a = args[n]
            if not isinstance(a, Tensor) or not a.is_floating_point():
                raise TypeError(f"grad: argument {n} must be a floating-point tensor, "
                                f"got {type(a).__name__}")
            leaf = nesting.enter(a, fresh, enabled)
            args[n] = leaf
            leaves.append(leaf)
        with enable_grad():
            out = fn(*args, **kwargs)
            value, aux = out if has_aux else (out, None)
            if not isinstance(value, Tensor) or value.numel() != 1:
                raise TypeError("grad: the function must return a scalar tensor"
                                + (" (as the first element, with has_aux=True)" if has_aux else ""))
            if not value.requires_grad:
                grads = tuple(leaf.detach() * 0 for leaf in leaves)
            else:
                create = nesting.needs_graph([value], fresh, enabled)
                grads = _autograd_grad([value], leaves, create_graph=create, allow_unused=True)
                grads = tuple(g if g is not None else leaf.detach() * 0
                              for g, leaf in zip(grads, leaves))
        nesting.finish(leaves, fresh)
        g = grads[0] if isinstance(argnums, int) else grads
        value = value.detach()
        return ((value, aux), g) if has_aux else (value, g)
    return wrapped


def grad(fn, argnums=0, has_aux=False):
    """The gradient of scalar-valued fn with respect to args[argnums] (a tuple for a tuple)."""
    vg = value_and_grad(fn, argnums, has_aux)

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        (value, aux), g = vg(*args, **kwargs) if has_aux else ((None, None), vg(*args, **kwargs)[1])
        return (g, aux) if has_aux else g
    return wrapped

"""torch.autograd.functional: Jacobians, Hessians and their products, over autograd.grad.

Every function here is reverse mode on the tape: a Jacobian is one backward per output
element, a Hessian the Jacobian of a gradient taken with create_graph, and the forward-mode
products (jvp, hvp) are PyTorch's double-vjp trick: the vjp `u -> J^T u` is linear in u, so
differentiating it with respect to a dummy u (zeros that require grad) in the direction v
gives `J v`. `vectorize=True` is accepted and runs the same loop (it changes speed in
PyTorch, not values); `strategy="forward-mode"` likewise computes the same Jacobian.

Inputs are prepared as PyTorch's are: with create_graph, an input that requires grad enters
as a view of itself (its history kept, so results can be differentiated with respect to the
caller's tensors); otherwise as a fresh detached leaf. Results are detached unless
create_graph. With strict=True, an output independent of an input raises instead of giving
zeros.
"""
from __future__ import annotations

from .gradients import _creation, _stack, grad
from .grad_mode import enable_grad
from .node import _tensor_class

__all__ = ["vjp", "jvp", "jacobian", "hessian", "vhp", "hvp"]


def _as_tuple(x, what, fn_name):
    """(x as a tuple of tensors, whether the caller passed a tuple)."""
    Tensor = _tensor_class()
    is_tuple = isinstance(x, tuple)   # (a list is one value, as in PyTorch: refused below)
    xs = x if is_tuple else (x,)
    for i, t in enumerate(xs):
        if not isinstance(t, Tensor):
            raise TypeError(f"The {what} given to {fn_name} must be either a Tensor or a tuple "
                            f"of Tensors but the value at index {i} has type {type(t).__name__}.")
    return xs, is_tuple


def _prepare(xs, create_graph):
    """Inputs as the function sees them: views that keep the caller's history under
    create_graph, fresh leaves otherwise."""
    out = []
    for x in xs:
        if create_graph and x.requires_grad:
            out.append(x.view_as(x))
        else:
            out.append(x.detach().requires_grad_(True))
    return tuple(out)


def _finish(xs, create_graph, is_tuple):
    xs = tuple(x if create_graph or x is None else x.detach() for x in xs)
    return xs if is_tuple else xs[0]


def _call(func, xs, fn_name):
    with enable_grad():
        out = func(*xs)
    outs, is_tuple = _as_tuple(out, "outputs of the user-provided function", fn_name)
    return outs, is_tuple


def _check_v(v, outs, fn_name, what="func's output"):
    """v as a tuple matching outs; None allowed only for single-element outputs."""
    if v is None:
        if len(outs) != 1 or outs[0].numel() != 1:
            raise RuntimeError(f"The vector v can only be None if the input to the user-provided "
                               f"function is a single Tensor with a single element ({fn_name}).")
        return (_ones(outs[0]),)
    vs, _ = _as_tuple(v, "v", fn_name)
    if len(vs) != len(outs):
        raise RuntimeError(f"{fn_name}: v has {len(vs)} elements but {what} has {len(outs)}")
    for i, (a, b) in enumerate(zip(vs, outs)):
        if tuple(a.shape) != tuple(b.shape):
            raise RuntimeError(f"Mismatch in shape: v[{i}] has a shape of {tuple(a.shape)} and "
                               f"{what}[{i}] has a shape of {tuple(b.shape)} ({fn_name})")
    return vs


def _grads(outs, xs, vs, create_graph, strict, fn_name, what="input"):
    """grad(outs, xs, vs) with zeros for the inputs no output depends on (an error if strict)."""
    zeros_like = _creation().zeros_like
    pairs = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
    if pairs:
        gs = grad([o for o, _ in pairs], xs, [v for _, v in pairs], retain_graph=True,
                  create_graph=create_graph, allow_unused=True)
    else:
        gs = (None,) * len(xs)
    result = []
    for i, (g, x) in enumerate(zip(gs, xs)):
        if g is None:
            if strict:
                raise RuntimeError(f"The output of the user-provided function is independent of "
                                   f"{what} {i}. This is not allowed in strict mode ({fn_name}).")
            g = zeros_like(x)
        result.append(g)
    return tuple(result)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(*inputs), v^T J): one backward."""
    xs, in_tuple = _as_tuple(inputs, "inputs", "vjp")
    xs = _prepare(xs, create_graph)
    outs, out_tuple = _call(func, xs, "vjp")
    vs = _check_v(v, outs, "vjp")
    gs = _grads(outs, xs, vs, create_graph, strict, "vjp")
    return _finish(outs, create_graph, out_tuple), _finish(gs, create_graph, in_tuple)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(*inputs), J v) by the double-vjp trick (module docstring)."""
    zeros_like = _creation().zeros_like
    xs, in_tuple = _as_tuple(inputs, "inputs", "jvp")
    xs = _prepare(xs, create_graph)
    vs = _check_v(v, xs, "jvp", what="inputs")
    outs, out_tuple = _call(func, xs, "jvp")
    dummies = tuple(zeros_like(o).requires_grad_(True) for o in outs)
    gs = _grads(outs, xs, dummies, True, strict, "jvp")
    jv = _grads(gs, dummies, vs, create_graph, strict, "jvp", what="output")
    return _finish(outs, create_graph, out_tuple), _finish(jv, create_graph, out_tuple)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """d func(*inputs) / d inputs, one backward per output element: J[i][j] has shape
    outputs[i].shape + inputs[j].shape, nested as PyTorch nests it (a Tensor for one input
    and one output)."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode". '
                         f'Got {strategy!r}.')
    xs, in_tuple = _as_tuple(inputs, "inputs", "jacobian")
    xs = _prepare(xs, create_graph)
    outs, out_tuple = _call(func, xs, "jacobian")
    rows = [_jacobian_rows(o, xs, create_graph, strict) for o in outs]
    if not in_tuple:
        rows = [r[0] for r in rows]
    return tuple(rows) if out_tuple else rows[0]


def _jacobian_rows(o, xs, create_graph, strict):
    """(d o / d x for x in xs): each a stack of one gradient per element of o."""
    zeros, zeros_like = _creation().zeros, _creation().zeros_like
    flat = o.reshape(-1)
    n = flat.shape[0]
    per_input = [[] for _ in xs]
    for k in range(n):
        if o.requires_grad:
            gs = grad(flat[k], xs, retain_graph=True, create_graph=create_graph,
                      allow_unused=True)
        else:
            gs = (None,) * len(xs)
        for j, (g, x) in enumerate(zip(gs, xs)):
            if g is None:
                if strict:
                    raise RuntimeError("The output of the user-provided function is independent "
                                       f"of input {j}. This is not allowed in strict mode.")
                g = zeros_like(x)
            per_input[j].append(g)
    out = []
    for gs, x in zip(per_input, xs):
        shape = tuple(o.shape) + tuple(x.shape)
        J = _stack(gs).reshape(shape) if gs else zeros(shape, dtype=x.dtype)
        out.append(J if create_graph else J.detach())
    return tuple(out)


def _scalar_output(func, fn_name):
    """func wrapped to check it returns one single-element tensor (the Hessian family)."""
    def scalar(*xs):
        out = func(*xs)
        outs, _ = _as_tuple(out, "outputs of the user-provided function", fn_name)
        if len(outs) != 1 or outs[0].numel() != 1:
            raise RuntimeError(f"The function given to {fn_name} should return a single Tensor "
                               f"with a single element (got {len(outs)} outputs, the first of "
                               f"shape {tuple(outs[0].shape)}).")
        return outs[0]
    return scalar


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar func: the Jacobian of its gradient (taken with create_graph).
    H[i][j] has shape inputs[i].shape + inputs[j].shape (a Tensor for one input)."""
    scalar = _scalar_output(func, "hessian")
    xs, in_tuple = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*ys):
        out = scalar(*ys)
        return _grads((out,), ys, (_ones(out),), True, strict, "hessian")

    H = jacobian(gradient, xs, create_graph=create_graph, strict=strict,
                 strategy=outer_jacobian_strategy)
    return H if in_tuple else H[0][0]


def _ones(t):
    return _creation().ones_like(t)


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(*inputs), v^T H) for a scalar func: the gradient, then its vjp with v."""
    scalar = _scalar_output(func, "vhp")
    xs, in_tuple = _as_tuple(inputs, "inputs", "vhp")
    xs = _prepare(xs, create_graph)
    vs = _check_v(v, xs, "vhp", what="inputs")
    out = _call_scalar(scalar, xs)
    g = _grads((out,), xs, (_ones(out),), True, strict, "vhp")
    result = _grads(g, xs, vs, create_graph, strict, "vhp")
    return _finish((out,), create_graph, False), _finish(result, create_graph, in_tuple)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(*inputs), H v) for a scalar func, by PyTorch's route: the double-vjp trick on the
    gradient (equal to vhp's result, H being symmetric, up to rounding)."""
    zeros_like = _creation().zeros_like
    scalar = _scalar_output(func, "hvp")
    xs, in_tuple = _as_tuple(inputs, "inputs", "hvp")
    xs = _prepare(xs, create_graph)
    vs = _check_v(v, xs, "hvp", what="inputs")
    out = _call_scalar(scalar, xs)
    g = _grads((out,), xs, (_ones(out),), True, strict, "hvp")
    dummies = tuple(zeros_like(x).requires_grad_(True) for x in xs)
    back = _grads(g, xs, dummies, True, strict, "hvp")
    result = _grads(back, dummies, vs, create_graph, strict, "hvp")
    return _finish((out,), create_graph, False), _finish(result, create_graph, in_tuple)


def _call_scalar(scalar, xs):
    with enable_grad():
        return scalar(*xs)

"""backward(), autograd.grad() and gradcheck()."""
from __future__ import annotations

import numpy as np

from .. import dispatch
from ..profiler import STATE as PROFILE
from .engine import run_backward
from . import node as _node
from .node import _tensor_class
from .grad_mode import enable_grad, no_grad


def _roots_and_grads(tensors, grad_tensors):
    Tensor = _node._TENSOR or _tensor_class()
    if grad_tensors is None and type(tensors) is list and len(tensors) == 1:
        t = tensors[0]   # loss.backward(): one 0-d root that requires grad, seeded with ones
        if isinstance(t, Tensor) and t._requires_grad and not t._data.shape:
            g = dispatch.ones_fast(t)
            if g is not None:
                return tensors, [g]
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors]
    grads = []
    for i, (t, g) in enumerate(zip(tensors, grad_tensors)):
        if not t.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        if g is None:
            if t._data.shape and t.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            g = dispatch.ones_fast(t)
            if g is None:
                g = _creation().ones_like(t)
        else:
            if not isinstance(g, Tensor):
                from ..ops.creation import tensor
                g = tensor(g, dtype=t.dtype)
            if tuple(g.shape) != tuple(t.shape):
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                                   f"{g.shape} and output[{i}] has a shape of {t.shape}.")
            g = g.detach()
        grads.append(g)
    return tensors, grads


def _creation():
    """stepjit.ops.creation, imported on first use (it imports the tensor module, which imports
    this one)."""
    global _CREATION
    if _CREATION is None:
        from ..ops import creation
        _CREATION = creation
    return _CREATION


_CREATION = None


def _tape():
    """stepjit.autograd.tape, imported on first use (it imports the tracer, which imports the
    tensor module, which imports this one)."""
    global _TAPE
    if _TAPE is None:
        from . import tape
        _TAPE = tape
    return _TAPE


_TAPE = None


def _no_create_graph(create_graph):
    if create_graph:
        raise NotImplementedError(
            "create_graph=True (higher-order gradients) is not supported by stepjit yet")


_CALLBACKS = []


def queue_callback(fn) -> None:
    """Run fn() once the running backward pass has finished, when every leaf's .grad holds its
    sum (PyTorch's Variable._execution_engine.queue_callback; DistributedDataParallel reduces
    gradients from one)."""
    _CALLBACKS.append(fn)


def _run_callbacks() -> None:
    while _CALLBACKS:
        _CALLBACKS.pop(0)()


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    if create_graph:
        _no_create_graph(create_graph)
    roots, grads = _roots_and_grads(tensors, grad_tensors)
    if inputs is not None:
        raise NotImplementedError("backward(inputs=...) is not supported by stepjit yet; "
                                  "use stepjit.autograd.grad")
    try:
        if PROFILE.active is not None:   # node by node: each node is an event of its own
            run_backward(roots, grads, retain_graph=bool(retain_graph))
        elif not (_TAPE or _tape()).run(roots, grads, bool(retain_graph)):
            run_backward(roots, grads, retain_graph=bool(retain_graph))
    except BaseException:
        _CALLBACKS.clear()
        raise
    if _CALLBACKS:
        _run_callbacks()


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    from ..tensor import Tensor
    _no_create_graph(create_graph)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (index {i}) does not require grad")
    roots, grads = _roots_and_grads(outputs, grad_outputs)
    result = run_backward(roots, grads, retain_graph=bool(retain_graph), inputs=inputs,
                          accumulate=False)
    for i, r in enumerate(result):
        if r is None and not allow_unused:
            raise RuntimeError(f"One of the differentiated Tensors (index {i}) appears to not have "
                               "been used in the graph. Set allow_unused=True if this is the desired "
                               "behavior.")
    return tuple(result)


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              fast_mode=False):
    """Compare autograd's gradients with central finite differences (use float64 inputs).

    The numerical Jacobian takes two calls of func per input element, each giving a whole
    column for every output; the analytical one takes a backward pass per output element.
    fast_mode (PyTorch's check of a random projection of the same Jacobians) is accepted and
    the full Jacobians are compared, which is the stricter check."""
    from ..tensor import Tensor
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    out = func(*inputs)
    outs = (out,) if isinstance(out, Tensor) else tuple(out)
    checked = [oi for oi, o in enumerate(outs) if o.requires_grad]
    sizes = {oi: outs[oi].numel() for oi in checked}
    numeric = {i: _numeric_jacobian(func, inputs, i, sizes, eps) for i in diff}
    for oi in checked:
        o = outs[oi]
        for k in range(o.numel()):
            seed = np.zeros(o.numel(), dtype=o.dtype.np)
            seed[k] = 1
            from ..ops.creation import tensor
            seed_t = tensor(seed.reshape(tuple(o.shape)), dtype=o.dtype)
            analytic = grad([o], [inputs[i] for i in diff], [seed_t], retain_graph=True,
                            allow_unused=True)
            for j, i in enumerate(diff):
                x = inputs[i]
                a = np.zeros(x.numel()) if analytic[j] is None else analytic[j].numpy().reshape(-1)
                if not np.allclose(a, numeric[i][oi][k], atol=atol, rtol=rtol):
                    if raise_exception:
                        raise GradcheckError(
                            f"Jacobian mismatch for output {oi} (element {k}) with respect to "
                            f"input {i}:\nnumerical:{numeric[i][oi][k]}\nanalytical:{a}")
                    return False
    return True


class GradcheckError(RuntimeError):
    pass


def _numeric_jacobian(func, inputs, i, sizes, eps):
    """{output index: (output elements, elements of input i) central differences} for the
    outputs whose sizes are given."""
    flat = inputs[i]._data.reshape(-1)
    jac = {oi: np.zeros((n, flat.size)) for oi, n in sizes.items()}
    with no_grad():
        for m in range(flat.size):
            orig = flat[m]
            flat[m] = orig + eps
            plus = func(*inputs)
            flat[m] = orig - eps
            minus = func(*inputs)
            flat[m] = orig
            for oi, col in jac.items():
                p = _pick(plus, oi).numpy(force=True).reshape(-1)
                q = _pick(minus, oi).numpy(force=True).reshape(-1)
                col[:, m] = (p - q) / (2 * eps)
    return jac


def _pick(out, oi):
    from ..tensor import Tensor
    return out if isinstance(out, Tensor) else out[oi]


# -- torch.autograd.functional: whole Jacobians and vector-Jacobian products -------------
def _as_inputs(inputs):
    from ..tensor import Tensor
    single = isinstance(inputs, Tensor)
    ts = (inputs,) if single else tuple(inputs)
    return single, tuple(t.detach().requires_grad_(True) for t in ts)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(*inputs), v^T J) with reverse mode, as torch.autograd.functional.vjp."""
    from ..tensor import Tensor
    _no_create_graph(create_graph)
    single, xs = _as_inputs(inputs)
    with enable_grad():
        out = func(*xs)
    outs = (out,) if isinstance(out, Tensor) else tuple(out)
    if v is None:
        if any(o.numel() != 1 for o in outs):
            raise RuntimeError("vjp: v can only be None if the output of func has a single "
                               "element")
        from ..ops.creation import ones_like
        v = tuple(ones_like(o) for o in outs)
    vs = (v,) if isinstance(v, Tensor) else tuple(v)
    grads = grad(outs, xs, vs, allow_unused=True)
    grads = tuple(_zeros_if_none(g, x, strict) for g, x in zip(grads, xs))
    detached = out.detach() if isinstance(out, Tensor) else tuple(o.detach() for o in out)
    return detached, grads[0] if single else grads


def _zeros_if_none(g, x, strict):
    if g is not None:
        return g
    if strict:
        raise RuntimeError("The output of the user-provided function is independent of an "
                           "input; not allowed in strict mode")
    from ..ops.creation import zeros_like
    return zeros_like(x)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """d func(*inputs) / d inputs by reverse mode, one backward per output element:
    J[i][j] has shape outputs[i].shape + inputs[j].shape (a Tensor for one input and one
    output, as PyTorch nests it)."""
    from ..ops.creation import zeros
    from ..ops.shape import stack
    from ..tensor import Tensor
    _no_create_graph(create_graph)
    if strategy != "reverse-mode":
        raise NotImplementedError("jacobian: only strategy='reverse-mode' is supported")
    single_in, xs = _as_inputs(inputs)
    with enable_grad():
        out = func(*xs)
    single_out = isinstance(out, Tensor)
    outs = (out,) if single_out else tuple(out)
    rows = []
    for o in outs:
        flat = o.reshape(-1)
        per_input = [[] for _ in xs]
        for k in range(flat.shape[0]):
            gs = grad(flat[k], xs, retain_graph=True, allow_unused=True) if o.requires_grad \
                else (None,) * len(xs)
            for j, (g, x) in enumerate(zip(gs, xs)):
                per_input[j].append(_zeros_if_none(g, x, strict))
        rows.append(tuple(
            (stack(gs).reshape(tuple(o.shape) + tuple(x.shape)) if gs
             else zeros(tuple(o.shape) + tuple(x.shape), dtype=x.dtype))
            for gs, x in zip(per_input, xs)))
    if single_in:
        rows = [r[0] for r in rows]
    return rows[0] if single_out else tuple(rows)

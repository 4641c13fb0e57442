"""backward(), autograd.grad() and gradcheck(): the entries to the engine (engine.py).

With create_graph=True the engine tapes the backward itself (node.py), so a gradient
it returns can be differentiated again (docs/autograd.md)."""
from __future__ import annotations

import warnings

import numpy as np

from .. import dispatch
from ..profiler import STATE as PROFILE
from .engine import _accumulate, _accumulate_with_history, run_backward
from . import node as _node
from .node import _tensor_class
from .forward_ad import STATE as FORWARD
from .grad_mode import enable_grad, no_grad


def _roots_and_grads(tensors, grad_tensors, create_graph=False):
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
                g = _creation().tensor(g, dtype=t.dtype)
            if tuple(g.shape) != tuple(t.shape):
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                                   f"{g.shape} and output[{i}] has a shape of {t.shape}.")
            if not create_graph:   # (with create_graph a gradient may be differentiated
                g = g.detach()      # with respect to grad_outputs: jvp's double-vjp trick)
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
    roots, grads = _roots_and_grads(tensors, grad_tensors, create_graph)
    if retain_graph is None:   # PyTorch's default: a graph built to be differentiated is kept
        retain_graph = create_graph
    try:
        if inputs is not None:
            _backward_into(roots, grads, inputs, bool(retain_graph), bool(create_graph))
        elif create_graph or PROFILE.active is not None or FORWARD.token is not None:
            # node by node (each an event; or each rule's ops carrying tangents)
            run_backward(roots, grads, retain_graph=bool(retain_graph),
                         create_graph=bool(create_graph))
        elif not (_TAPE or _tape()).run(roots, grads, bool(retain_graph)):
            run_backward(roots, grads, retain_graph=bool(retain_graph))
    except BaseException:
        _CALLBACKS.clear()
        raise
    if _CALLBACKS:
        _run_callbacks()


def _backward_into(roots, grads, inputs, retain_graph, create_graph):
    """backward(inputs=...): only these tensors' .grad (leaves or not) receive gradients, as
    in PyTorch; the walk is autograd.grad's, then each gradient is accumulated."""
    Tensor = _node._TENSOR or _tensor_class()
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if not inputs:
        raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (index {i}) does not "
                               "require grad")
    result = run_backward(roots, grads, retain_graph=retain_graph, inputs=inputs,
                          accumulate=False, create_graph=create_graph)
    owned = set()
    for t, g in zip(inputs, result):
        if g is not None:
            if create_graph:
                _accumulate_with_history(t, g)
            else:
                _accumulate(t, g, owned)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """torch.autograd.grad: the gradients of outputs with respect to inputs, none accumulated
    into .grad; with create_graph, gradients with a history of their own (docs/autograd.md).
    only_inputs is PyTorch's deprecated flag, accepted and ignored as PyTorch does (warning
    when it is False)."""
    Tensor = _node._TENSOR or _tensor_class()
    if not only_inputs:
        warnings.warn("only_inputs argument is deprecated and is ignored now "
                      "(defaults to True). To accumulate gradient for other parts of the graph, "
                      "please use torch.autograd.backward.", FutureWarning, stacklevel=2)
    if is_grads_batched:
        return _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph,
                             allow_unused, materialize_grads)
    if allow_unused is None:
        allow_unused = materialize_grads
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (index {i}) does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    roots, grads = _roots_and_grads(outputs, grad_outputs, create_graph)
    result = run_backward(roots, grads, retain_graph=bool(retain_graph), inputs=inputs,
                          accumulate=False, create_graph=bool(create_graph))
    for i, r in enumerate(result):
        if r is None and not allow_unused:
            raise RuntimeError(f"One of the differentiated Tensors (index {i}) appears to not have "
                               "been used in the graph. Set allow_unused=True if this is the desired "
                               "behavior.")
    if materialize_grads:
        result = [_creation().zeros_like(x) if r is None else r for r, x in zip(result, inputs)]
    return tuple(result)


def _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                  materialize_grads):
    """grad(is_grads_batched=True): each grad_output's first dimension is a batch of vectors;
    one backward per vector (PyTorch vmaps it), the gradients stacked along a new first
    dimension."""
    Tensor = _node._TENSOR or _tensor_class()
    vs = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs or ())
    if not vs or any(v is None for v in vs):
        raise RuntimeError("autograd.grad(is_grads_batched=True) needs a batch of grad_outputs")
    n = vs[0].shape[0]
    per_input = None
    for b in range(n):
        last = b == n - 1
        gs = grad(outputs, inputs, [v[b] for v in vs],
                  retain_graph=retain_graph if last else True, create_graph=create_graph,
                  allow_unused=allow_unused, materialize_grads=materialize_grads)
        per_input = [[] for _ in gs] if per_input is None else per_input
        for column, g in zip(per_input, gs):
            column.append(g)
    return tuple(None if any(g is None for g in column) else _stack(column)
                 for column in per_input)


def _stack(tensors):
    """stepjit.ops.shape.stack, imported on first use (the ops import the tensor module, which
    imports this package)."""
    from ..ops.shape import stack
    return stack(tensors)


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              fast_mode=False):
    """Compare autograd's gradients with central finite differences (use float64 inputs).

    The numerical Jacobian takes two calls of func per input element, each giving a whole
    column for every output; the analytical one takes a backward pass per output element.
    fast_mode (PyTorch's check of a random projection of the same Jacobians) is accepted and
    the full Jacobians are compared, which is the stricter check."""
    Tensor = _node._TENSOR or _tensor_class()
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
            seed_t = _creation().tensor(seed.reshape(tuple(o.shape)), dtype=o.dtype)
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
    Tensor = _node._TENSOR or _tensor_class()
    return out if isinstance(out, Tensor) else out[oi]


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, **_unused):
    """gradcheck of the gradients themselves: the vector-Jacobian product of func (taken with
    create_graph) checked against finite differences, with respect to the inputs and the
    vectors (random normal ones, fixed seed, when grad_outputs is None)."""
    Tensor = _node._TENSOR or _tensor_class()
    tensor = _creation().tensor
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    out = func(*inputs)
    outs = [o for o in ((out,) if isinstance(out, Tensor) else tuple(out)) if o.requires_grad]
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = [tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype,
                               requires_grad=True) for o in outs]
    else:
        grad_outputs = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    n = len(inputs)

    def first_derivatives(*args):
        xs, vs = args[:n], args[n:]
        with enable_grad():   # (gradcheck's finite differences call it under no_grad)
            out = func(*xs)
            outs = [o for o in ((out,) if isinstance(out, Tensor) else tuple(out))
                    if o.requires_grad]
            gs = grad(outs, [xs[i] for i in diff], list(vs), create_graph=True,
                      allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_derivatives, inputs + tuple(grad_outputs), eps=eps, atol=atol,
                     rtol=rtol, raise_exception=raise_exception)

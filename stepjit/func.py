"""torch.func (functorch): grad, vjp, jvp, jacrev, jacfwd, hessian, vmap, functional_call.

Built on the tape, not on functorch's levels of wrapped tensors:
  - every derivative is autograd.grad on the differentiated arguments entered as fresh
    leaves (or, when they require grad already, as views that keep their history), taken
    with create_graph when the function's result depends on a tensor from outside the
    transform that requires grad (autograd/nesting.py). So transforms nest (grad(grad(f)),
    jacrev(jacrev(f)), vmap(grad(f))) and compose with ordinary autograd: a result stays
    differentiable exactly when its history reaches such a tensor (a closure parameter, an
    argument that requires grad), as functorch's results do; otherwise it is detached.
  - jvp and jacfwd run in forward mode (autograd/forward_ad.py: dual tensors, the
    registry's JVP rules), one jvp per input element for jacfwd. Forward mode has one level,
    so a jvp or jacfwd inside another runs in reverse mode (the double-vjp trick, jacrev):
    the same values, another cost. jacfwd(jacrev(f)) is forward over reverse.
  - vmap runs the function once per batch element (a loop over the mapped dimension) and
    stacks the results along out_dims. Values are those of a vectorized map; random ops
    draw independently per element (randomness="different"), and a function that reads or
    writes state outside itself sees one element at a time.
Arguments and results may be tuples, lists and dicts of tensors (pytrees).
"""
from __future__ import annotations

import functools

from .autograd.gradients import grad as _autograd_grad
from .autograd.grad_mode import STATE as _GRAD, enable_grad
from .autograd import forward_ad as _forward_ad, nesting
from .nn.utils.stateless import functional_call  # noqa: F401
from .ops.creation import zeros, zeros_like
from .ops.shape import stack
from .tensor import Tensor
from .tracer.pytree import flatten, leaf_constants, unflatten

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "linearize", "jacrev", "jacfwd", "hessian",
           "vmap",
           "functional_call", "stack_module_state"]


def _is_tensor(x):
    return isinstance(x, Tensor)


def _argnums(argnums, nargs, name):
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums:
        raise RuntimeError(f"{name}: argnums must be non-empty")
    for n in nums:
        if not isinstance(n, int) or not -nargs <= n < nargs:
            raise RuntimeError(f"{name}: Got argnums={argnums!r}, but only {nargs} positional "
                               "inputs")
    return tuple(n % nargs for n in nums)


class _Inputs:
    """The differentiated arguments, flattened and entered as tensors that track gradients
    (autograd/nesting.py)."""

    def __init__(self, args, nums, name, single=False):
        self.args = list(args)
        self.nums = nums
        self.single = single   # argnums was an int: results are not wrapped in a tuple
        self.grad_enabled = _GRAD.enabled   # (read before the transform turns grad mode on)
        self.trees = []
        self.leaves = []    # what the function sees (fresh leaves or views)
        self.fresh = set()  # ids of the fresh leaves made here
        for n in nums:
            leaves, tree = flatten(self.args[n], _is_tensor)
            for x in leaves:
                if not x.is_floating_point():
                    raise RuntimeError(f"{name}: only floating-point tensors can be "
                                       f"differentiated, got one of dtype {x.dtype}")
            entered = [nesting.enter(x, self.fresh, self.grad_enabled) for x in leaves]
            self.trees.append(tree)
            self.leaves.extend(entered)
            self.args[n] = unflatten(tree, entered)

    def needs_graph(self, tensors):
        """Whether derivatives of tensors need create_graph (autograd/nesting.py)."""
        return nesting.needs_graph(tensors, self.fresh, self.grad_enabled)

    def release(self, values):
        """values detached unless their history reaches outside the transform; the transform
        is over once its results are released (nesting.finish)."""
        nesting.finish(self.leaves, self.fresh)
        flat, tree = flatten(values, _is_tensor)
        if self.grad_enabled:
            flat = [t if nesting.reaches_outside([t], self.fresh) else nesting.detach(t)
                    for t in flat]
        else:
            flat = [nesting.detach(t) for t in flat]
        return unflatten(tree, flat)

    def regroup(self, flat):
        """A flat list, one entry per leaf, in the arguments' structure (one per argnum)."""
        out, k = [], 0
        for tree in self.trees:
            n = _count(tree)
            out.append(unflatten(tree, flat[k:k + n]))
            k += n
        return out


def _count(tree):
    """How many tensors a treedef holds."""
    kind = tree[0]
    if kind == "tensor":
        return 1
    if kind == "leaf":
        return 0
    children = tree[2] if kind in ("dict", "namedtuple") else tree[1]
    return sum(_count(c) for c in children)


def _gradients(out, leaves, create_graph):
    gs = _autograd_grad(out, leaves, retain_graph=True, create_graph=create_graph,
                        allow_unused=True)   # (retained: a Jacobian runs one per row)
    return [zeros_like(x) if g is None else g for g, x in zip(gs, leaves)]


def _split_aux(out, has_aux, name):
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{name}(f, ...)(*args): output of function f should be a tuple: "
                           "(output, aux) if has_aux is True")
    return out


def grad_and_value(func, argnums=0, has_aux=False):
    """(gradient of func's scalar output with respect to args[argnums], value); with has_aux
    func returns (value, aux) and this returns (gradient, (value, aux))."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums = _argnums(argnums, len(args), "grad_and_value")
        inp = _Inputs(args, nums, "grad", isinstance(argnums, int))
        with enable_grad():
            out, aux = _split_aux(func(*inp.args, **kwargs), has_aux, "grad_and_value")
            if not isinstance(out, Tensor) or out.numel() != 1:
                what = type(out).__name__ if not isinstance(out, Tensor) else \
                    f"tensor with {out.ndim} dims and {out.numel()} elements"
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a "
                                   f"scalar Tensor, got {what}. Maybe you wanted to use the "
                                   "vjp or jacrev APIs instead?")
            if out.requires_grad:
                flat = _gradients(out, inp.leaves, inp.needs_graph([out]))
            else:
                flat = [zeros_like(x) for x in inp.leaves]
        grads = inp.regroup(flat)
        grads = grads[0] if inp.single else tuple(grads)
        grads, out = inp.release((grads, out))
        if has_aux:
            return grads, (out, inp.release(aux))
        return grads, out
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """The gradient of func's scalar output with respect to args[argnums] (a pytree of
    tensors per argnum; a tuple of them for a tuple of argnums); (gradient, aux) with
    has_aux."""
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g
    return wrapper


def vjp(func, *primals, has_aux=False):
    """(func(*primals), vjp_fn[, aux]): vjp_fn(cotangents) gives one gradient per primal."""
    inp = _Inputs(primals, tuple(range(len(primals))), "vjp")
    with enable_grad():
        out, aux = _split_aux(func(*inp.args), has_aux, "vjp")
    outs, out_tree = flatten(out, _is_tensor)

    def vjp_fn(cotangents, retain_graph=True, create_graph=None):
        cots, cot_tree = flatten(cotangents, _is_tensor)
        if len(cots) != len(outs):
            raise RuntimeError(f"Expected pytree structure of cotangents to be the same as "
                               f"pytree structure of outputs to the function ({len(cots)} "
                               f"tensors given for {len(outs)} outputs)")
        for i, (c, o) in enumerate(zip(cots, outs)):
            if tuple(c.shape) != tuple(o.shape):
                raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of "
                                   f"{tuple(c.shape)} and output[{i}] has a shape of "
                                   f"{tuple(o.shape)}.")
        with enable_grad():
            pairs = [(o, c) for o, c in zip(outs, cots) if o.requires_grad]
            if pairs:
                create = inp.needs_graph([o for o, _ in pairs] + cots)
                gs = _autograd_grad([o for o, _ in pairs], inp.leaves, [c for _, c in pairs],
                                    retain_graph=True, create_graph=create, allow_unused=True)
            else:
                gs = [None] * len(inp.leaves)
            flat = [zeros_like(x) if g is None else g for g, x in zip(gs, inp.leaves)]
        return inp.release(tuple(inp.regroup(flat)))

    result = (inp.release(out), vjp_fn)
    return result + (inp.release(aux),) if has_aux else result


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(func(*primals), J tangents) in forward mode (dual tensors); inside an open dual level
    (jvp of jvp), by the double-vjp trick, forward mode taking one level at a time."""
    primals, tangents = tuple(primals), tuple(tangents)
    _check_jvp_args(primals, tangents)
    if _forward_ad.STATE.token is not None:
        return _jvp_reverse(func, primals, tangents, has_aux)
    p_flat, p_tree = flatten(primals, _is_tensor)
    t_flat, _ = flatten(tangents, _is_tensor)
    with _forward_ad.dual_level():
        duals = [_forward_ad.make_dual(p, t) for p, t in zip(p_flat, t_flat)]
        out, aux = _split_aux(func(*unflatten(p_tree, duals)), has_aux, "jvp")
        outs, out_tree = flatten(out, _is_tensor)
        pairs = [_forward_ad.unpack_dual(o) for o in outs]
        primal_out = [p for p, _ in pairs]
        tangent_out = [zeros_like(p) if t is None else t for p, t in pairs]
        aux = _strip_tangents(aux)
    result = (unflatten(out_tree, primal_out), unflatten(out_tree, tangent_out))
    return result + (aux,) if has_aux else result


def linearize(func, *primals):
    """(func(*primals), jvp_fn) with jvp_fn(*tangents) = J(primals) tangents, in forward mode.
    PyTorch traces func once and replays the linear part; here each call runs func again in a
    dual level: the same values, a forward pass per call."""
    out = func(*primals)

    def jvp_fn(*tangents):
        return jvp(func, primals, tangents)[1]
    return out, jvp_fn


def _strip_tangents(values):
    """values without their tangents (plain views), before the dual level closes."""
    flat, tree = flatten(values, _is_tensor)
    return unflatten(tree, [_forward_ad.unpack_dual(t).primal for t in flat])


def _check_jvp_args(primals, tangents):
    p_flat, p_tree = flatten(primals, _is_tensor)
    t_flat, t_tree = flatten(tangents, _is_tensor)
    if len(p_flat) != len(t_flat):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to have "
                           "the same python structure")
    for p, t in zip(p_flat, t_flat):
        if tuple(p.shape) != tuple(t.shape):
            raise RuntimeError(f"jvp(f, primals, tangents): Expected primals and tangents to "
                               f"have the same shape, got {tuple(p.shape)} and {tuple(t.shape)}")


def _jvp_reverse(func, primals, tangents, has_aux):
    """jvp by the double-vjp trick (autograd/functional.py)."""
    p_flat, p_tree = flatten(primals, _is_tensor)
    t_flat, t_tree = flatten(tangents, _is_tensor)
    inp = _Inputs(primals, tuple(range(len(primals))), "jvp")
    with enable_grad():
        out, aux = _split_aux(func(*inp.args), has_aux, "jvp")
        outs, out_tree = flatten(out, _is_tensor)
        dummies = [zeros_like(o).requires_grad_(True) for o in outs]
        inp.fresh.update(id(d) for d in dummies)
        pairs = [(o, d) for o, d in zip(outs, dummies) if o.requires_grad]
        back = _autograd_grad([o for o, _ in pairs], inp.leaves, [d for _, d in pairs],
                              create_graph=True, allow_unused=True) if pairs else []
        live = [(b, t) for b, t in zip(back, t_flat) if b is not None and b.requires_grad]
        create = inp.needs_graph(outs + t_flat)
        jv = _autograd_grad([b for b, _ in live], dummies, [t for _, t in live],
                            create_graph=create, allow_unused=True) if live else [None] * len(outs)
        jv = [zeros_like(o) if g is None else g for g, o in zip(jv, outs)]
    result = inp.release((out, unflatten(out_tree, jv)))
    return result + (inp.release(aux),) if has_aux else result


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """The Jacobian of func with respect to args[argnums]: for each output leaf and each
    input leaf, a tensor of shape output.shape + input.shape, one backward per output
    element, nested as outputs then argnums."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nums = _argnums(argnums, len(args), "jacrev")
        inp = _Inputs(args, nums, "jacrev", isinstance(argnums, int))
        with enable_grad():
            out, aux = _split_aux(func(*inp.args, **kwargs), has_aux, "jacrev")
            outs, out_tree = flatten(out, _is_tensor)
            per_out = [_jacobian_of(o, inp) for o in outs]
        result = inp.release(unflatten(out_tree, per_out))
        return (result, inp.release(aux)) if has_aux else result
    return wrapper


def _jacobian_of(o, inp):
    """d o / d args[argnums], in the arguments' structure (one entry per argnum, or the entry
    itself for an int argnums)."""
    rows = [[] for _ in inp.leaves]
    flat = o.reshape(-1)
    create = inp.needs_graph([o])
    for k in range(flat.shape[0]):
        gs = _gradients(flat[k], inp.leaves, create) if o.requires_grad else \
            [zeros_like(x) for x in inp.leaves]
        for j, g in enumerate(gs):
            rows[j].append(g)
    jac = [_stack_rows(r, o, x) for r, x in zip(rows, inp.leaves)]
    grouped = inp.regroup(jac)
    return grouped[0] if inp.single else tuple(grouped)


def _stack_rows(rows, o, x):
    shape = tuple(o.shape) + tuple(x.shape)
    if not rows:
        return zeros(shape, dtype=x.dtype)
    return stack(rows).reshape(shape)


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """The Jacobian of func with respect to args[argnums] in forward mode: one jvp per input
    element (a basis tangent), the columns stacked to output.shape + input.shape. Inside an
    open dual level (jacfwd of jacfwd) it is jacrev's, forward mode taking one level."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if _forward_ad.STATE.token is not None:
            return jacrev(func, argnums, has_aux=has_aux)(*args, **kwargs)
        nums = _argnums(argnums, len(args), "jacfwd")
        leaves, trees = [], []
        for n in nums:
            flat, tree = flatten(args[n], _is_tensor)
            for x in flat:
                if not x.is_floating_point():
                    raise RuntimeError(f"jacfwd: only floating-point tensors can be "
                                       f"differentiated, got one of dtype {x.dtype}")
            leaves.extend(flat)
            trees.append(tree)
        columns, out, aux = [], None, None   # columns[j][k]: d outs / d leaves[j][k]
        for j, x in enumerate(leaves):
            cols = []
            for k in range(x.numel()):
                basis = zeros((x.numel(),), dtype=x.dtype)
                basis[k] = 1.0
                out, tangents, aux = _jvp_at(func, args, nums, trees, leaves, j,
                                             basis.reshape(tuple(x.shape)), has_aux, kwargs)
                cols.append(tangents)
            columns.append(cols)
        if out is None:   # no input element at all: one plain call for the outputs' shapes
            out, aux = _split_aux(func(*args, **kwargs), has_aux, "jacfwd")
        outs, out_tree = flatten(out, _is_tensor)
        per_out = []
        for i, o in enumerate(outs):
            jac = [_stack_columns([c[i] for c in columns[j]], o, x)
                   for j, x in enumerate(leaves)]
            grouped = _regroup(jac, trees)
            per_out.append(grouped[0] if isinstance(argnums, int) else tuple(grouped))
        result = unflatten(out_tree, per_out)
        return (result, aux) if has_aux else result
    return wrapper


def _jvp_at(func, args, nums, trees, leaves, j, tangent, has_aux, kwargs):
    """(outputs, their tangents flat, aux) of func with leaf j given `tangent`."""
    with _forward_ad.dual_level():
        duals = [_forward_ad.make_dual(x, tangent) if i == j else x
                 for i, x in enumerate(leaves)]
        call = list(args)
        k = 0
        for n, tree in zip(nums, trees):
            m = _count(tree)
            call[n] = unflatten(tree, duals[k:k + m])
            k += m
        out, aux = _split_aux(func(*call, **kwargs), has_aux, "jacfwd")
        outs, out_tree = flatten(out, _is_tensor)
        pairs = [_forward_ad.unpack_dual(o) for o in outs]
        tangents = [zeros_like(p) if t is None else t for p, t in pairs]
        out = unflatten(out_tree, [p for p, _ in pairs])
        aux = _strip_tangents(aux)
    return out, tangents, aux


def _stack_columns(cols, o, x):
    """Columns d o / d x_k (each o's shape) as one tensor of shape o.shape + x.shape."""
    shape = tuple(o.shape) + tuple(x.shape)
    if not cols:
        return zeros(shape, dtype=o.dtype)
    return stack([c.reshape(-1) for c in cols], 1).reshape(shape)


def _regroup(flat, trees):
    out, k = [], 0
    for tree in trees:
        n = _count(tree)
        out.append(unflatten(tree, flat[k:k + n]))
        k += n
    return out


def hessian(func, argnums=0):
    """The Hessian of func's scalar output: jacfwd(jacrev(func))."""
    return jacfwd(jacrev(func, argnums), argnums)


# -- vmap ---------------------------------------------------------------------------------
def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """func mapped over a dimension of its arguments: run once per batch element and the
    results stacked along out_dims (module docstring)."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")
    if randomness == "same":
        raise NotImplementedError("vmap(randomness='same') is not supported by stepjit: its "
                                  "vmap runs the function once per element, and the draws differ")

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        dims = _in_dims(in_dims, args)
        size = _batch_size(args, dims)
        results = [func(*_select(args, dims, i), **kwargs) for i in range(size)]
        return _stack_results(results, out_dims)
    return wrapper


def _in_dims(in_dims, args):
    """One in_dims entry per argument (an int, None, or a pytree like the argument)."""
    if isinstance(in_dims, int) or in_dims is None:
        return [in_dims] * len(args)
    if not isinstance(in_dims, (tuple, list)) or len(in_dims) != len(args):
        raise ValueError(f"vmap(f, in_dims={in_dims!r}, ...)(<inputs>): expected in_dims to be "
                         f"an int, None or a tuple of {len(args)} entries, one per input")
    return list(in_dims)


def _leaf_dims(arg, dim):
    """(tensor leaves of arg, their mapped dims) for one argument and its in_dims entry."""
    leaves, tree = flatten(arg, _is_tensor)
    if dim is None or isinstance(dim, int):
        return leaves, tree, [dim if _is_tensor(x) else None for x in leaves]
    dims, _ = flatten(dim, lambda d: d is None or isinstance(d, int))
    if len(dims) != len(leaves):
        raise ValueError("vmap: in_dims is not compatible with the structure of its input")
    return leaves, tree, dims


def _batch_size(args, dims):
    sizes = set()
    for arg, dim in zip(args, dims):
        leaves, _, ds = _leaf_dims(arg, dim)
        for x, d in zip(leaves, ds):
            if d is None:
                continue
            if not -x.ndim <= d < max(x.ndim, 1) or x.ndim == 0:
                raise ValueError(f"vmap: in_dim={d} is out of range for an input of "
                                 f"{x.ndim} dimensions")
            sizes.add(x.shape[d])
    if not sizes:
        raise ValueError("vmap: at least one input must be a tensor mapped over a dimension "
                         "(in_dims are all None)")
    if len(sizes) > 1:
        raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped "
                         f"dimension, got sizes {sorted(sizes)} for the mapped dimension")
    return sizes.pop()


def _select(args, dims, i):
    out = []
    for arg, dim in zip(args, dims):
        leaves, tree, ds = _leaf_dims(arg, dim)
        picked = [x if d is None else x.select(d, i) for x, d in zip(leaves, ds)]
        out.append(unflatten(tree, picked))
    return out


def _stack_results(results, out_dims):
    flats, tree = [], None
    for r in results:
        leaves, tree = flatten(r, _is_tensor)
        for x in leaf_constants(tree):
            raise ValueError(f"vmap: the function must return tensors (or tuples, lists "
                             f"and dicts of them), got {type(x).__name__}")
        flats.append(leaves)
    n = len(flats[0])
    if isinstance(out_dims, int) or out_dims is None:
        dims = [out_dims] * n
    else:
        dims, _ = flatten(out_dims, lambda d: d is None or isinstance(d, int))
        if len(dims) != n:
            raise ValueError("vmap: out_dims is not compatible with the structure of the outputs")
    stacked = []
    for j in range(n):
        column = [f[j] for f in flats]
        d = dims[j]
        if d is None:
            stacked.append(column[0])
        else:
            stacked.append(stack(column, d % (column[0].ndim + 1)))
    return unflatten(tree, stacked)


def stack_module_state(models):
    """(params, buffers): each parameter (buffer) of the same-shaped models stacked along a new
    first dimension; stacked parameters are new leaves that require grad (for vmap over
    functional_call, model ensembling)."""
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    kinds = {type(m) for m in models}
    if len(kinds) != 1:
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    names = [n for n, _ in models[0].named_parameters()]
    params = {}
    for name in names:
        ps = [dict(m.named_parameters())[name] for m in models]
        params[name] = stack([p.detach() for p in ps]).requires_grad_(ps[0].requires_grad)
    buffers = {n: stack([dict(m.named_buffers())[n].detach() for m in models])
               for n, _ in models[0].named_buffers()}
    return params, buffers

"""torch._foreach_*: PyTorch's multi-tensor operations, which hand-written optimizers call
(Muon's `torch._foreach_copy_(params, list(stacked.unbind(0)))`, `_foreach_mul_(grads, scale)`
in gradient clipping, `_foreach_lerp_` in EMA updates).

Each is a loop over its tensors calling the one-tensor op of the same name, so there is no
multi-tensor primitive: eagerly the ops run one by one (PyTorch's own fallback path), and in
a compiled step they are traced like any other ops, where fusion does what PyTorch's fused
kernels do by hand. The argument forms are PyTorch's: the second operand of a binary op is a
number or a tensor used for every tensor, or a list giving one per tensor (numbers or
tensors); `addcmul`/`addcdiv`'s value may also be a 1-D tensor of per-tensor numbers. The
in-place forms return the sequence they were given and the others a tuple, as in PyTorch
2.13.
"""
from __future__ import annotations

from ..linalg import vector_norm
from ..tensor import Tensor
from .elementwise import pow as _pow_of

UNARY = ("abs", "acos", "asin", "atan", "ceil", "cos", "cosh", "erf", "erfc", "exp", "expm1",
         "floor", "frac", "lgamma", "log", "log10", "log1p", "log2", "neg", "reciprocal", "round",
         "rsqrt", "sigmoid", "sign", "sin", "sinh", "sqrt", "tan", "tanh", "trunc")
BINARY = ("add", "sub", "mul", "div", "maximum", "minimum", "clamp_min", "clamp_max", "pow")


def _per_tensor(name, tensors, arg, what):
    """`arg` for each tensor: a list/tuple gives one each, anything else is shared."""
    if isinstance(arg, (list, tuple)):
        if len(arg) != len(tensors):
            raise RuntimeError(f"_foreach_{name}: {len(tensors)} tensors but {len(arg)} {what}; "
                               "a list argument needs one element per tensor")
        return list(arg)
    if isinstance(arg, Tensor) and what == "values" and arg.dim() == 1:
        if arg.shape[0] != len(tensors):
            raise RuntimeError(f"_foreach_{name}: {len(tensors)} tensors but a tensor of "
                               f"{arg.shape[0]} values")
        return arg.tolist()
    return [arg] * len(tensors)


def _unary(name):
    def out_of_place(tensors):
        return tuple(getattr(t, name)() for t in tensors)

    def in_place(tensors):
        for t in tensors:
            getattr(t, name + "_")()
        return tensors
    return {f"_foreach_{name}": out_of_place, f"_foreach_{name}_": in_place}


def _binary(name):
    def kw(alpha):
        return {} if alpha is None else {"alpha": alpha}

    def out_of_place(tensors, other, *, alpha=None):
        others = _per_tensor(name, tensors, other, "operands")
        return tuple(getattr(t, name)(o, **kw(alpha)) for t, o in zip(tensors, others))

    def in_place(tensors, other, *, alpha=None):
        others = _per_tensor(name, tensors, other, "operands")
        for t, o in zip(tensors, others):
            method = getattr(t, name + "_", None)
            if method is None:        # (maximum, minimum have no in-place method)
                t.copy_(getattr(t, name)(o, **kw(alpha)))
            else:
                method(o, **kw(alpha))
        return tensors
    return {f"_foreach_{name}": out_of_place, f"_foreach_{name}_": in_place}


def _pow(self, exponent):
    """pow's base may be a number with a list of exponents (`_foreach_pow(2.0, ts)`)."""
    if not isinstance(self, (list, tuple)):
        return tuple(_pow_of(self, e) for e in exponent)
    return _binary("pow")["_foreach_pow"](self, exponent)


def _lerp(self, tensors1, weight):
    weights = _per_tensor("lerp", self, weight, "weights")
    return tuple(t.lerp(e, w) for t, e, w in zip(self, tensors1, weights))


def _lerp_(self, tensors1, weight):
    weights = _per_tensor("lerp_", self, weight, "weights")
    for t, e, w in zip(self, tensors1, weights):
        t.lerp_(e, w)
    return self


def _pointwise(name):
    def out_of_place(self, tensor1, tensor2, value=1):
        values = _per_tensor(name, self, value, "values")
        return tuple(getattr(t, name)(a, b, value=v)
                     for t, a, b, v in zip(self, tensor1, tensor2, values))

    def in_place(self, tensor1, tensor2, value=1):
        values = _per_tensor(name + "_", self, value, "values")
        for t, a, b, v in zip(self, tensor1, tensor2, values):
            getattr(t, name + "_")(a, b, value=v)
        return self
    return {f"_foreach_{name}": out_of_place, f"_foreach_{name}_": in_place}


def _copy_(self, src, non_blocking=False):
    srcs = _per_tensor("copy_", self, list(src), "sources")
    for t, s in zip(self, srcs):
        t.copy_(s)
    return self


def _zero_(self):
    for t in self:
        t.zero_()
    return self


def _norm(self, ord=2, dtype=None):
    return tuple(vector_norm(t, ord, dtype=dtype) for t in self)


FOREACH = {
    **{k: v for n in UNARY for k, v in _unary(n).items()},
    **{k: v for n in BINARY for k, v in _binary(n).items()},
    **_pointwise("addcmul"), **_pointwise("addcdiv"),
    "_foreach_pow": _pow, "_foreach_lerp": _lerp, "_foreach_lerp_": _lerp_,
    "_foreach_copy_": _copy_, "_foreach_zero_": _zero_, "_foreach_norm": _norm,
    "_foreach_clone": lambda self: tuple(t.clone() for t in self),
    "_foreach_max": lambda self: tuple(t.max() for t in self),
}

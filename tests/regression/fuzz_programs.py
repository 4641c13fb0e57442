"""Random well-typed training programs for the differential fuzzer (test_fuzz.py).

A program is plain data (a `Spec`): batch and feature sizes, a list of ops over a pool of
values, how the loss is formed and which optimizer updates the parameters. Hypothesis draws
specs with `programs()` and shrinks them as data; `build(spec)` turns one into a training
step; `describe(spec)` renders it as the Python it runs, for failure messages.

Every value's shape is one of B x D, 1 x D, B x 1, D, 1 x 1 and scalar, a set closed under
broadcasting, so any two values can meet in a binary op. The pool starts with the input
`x` (B x D, no grad), the parameters `W` (D x D), `b` (D) and `g` (B x 1), and `h = x @ W + b`.
Ops cover elementwise math with broadcasting (erf, expm1, log2 among them, a multiplier from
bitwise ops on the values' integer parts), cumsum,
reductions (sum, mean, amax, softmax, log_softmax), matmuls, index tensors and slices, and
in-place updates of clones (masked fill, slice write, `mul_`/`add_`); domains are kept safe (log of |v| + 1, division by
|v| + 1) so values stay finite.
"""
from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

import stepjit as torch

UNARY = ("tanh", "sigmoid", "relu", "neg", "abs", "sin", "square", "exp_tanh", "log_abs1",
         "sqrt_sq1", "scale", "erf", "expm1_tanh", "log2_abs1", "cumsum")
BINARY = ("add", "sub", "mul", "div_abs1", "maximum", "minimum", "where_gt", "bit_mask")
OPTIMIZERS = ("sgd", "momentum", "adam", "manual")


@dataclass(frozen=True)
class Spec:
    B: int
    D: int
    ops: tuple          # ("unary", name, i) | ("binary", name, i, j) | ("reduce", name, i, dim, keep)
                        # | ("matmul", i) | ("cols", i, idx) | ("rows", i, idx) | ("masked_fill", i, v)
                        # | ("slice_write", i) | ("inplace", name, i, j)
    loss: tuple         # indices of the pool values the loss reads
    optimizer: str
    steps: int = 2


def _shapes(B, D):
    return {"BD": (B, D), "1D": (1, D), "B1": (B, 1), "D": (D,), "11": (1, 1), "": ()}


def _broadcast(a, b):
    """The broadcast shape, or None when a and b do not broadcast."""
    import numpy as np
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        return None


# -- drawing ------------------------------------------------------------------------------
@st.composite
def programs(draw, max_ops=7):
    B = draw(st.integers(1, 3))
    D = draw(st.integers(1, 3))
    pool = [(B, D), (D, D), (D,), (B, 1), (B, D)]      # x, W, b, g, h
    ops = []
    for _ in range(draw(st.integers(0, max_ops))):
        n = len(pool)
        i = draw(st.integers(0, n - 1))
        s = pool[i]
        kind = draw(st.sampled_from(("unary", "binary", "binary", "reduce", "matmul", "cols",
                                     "rows", "masked_fill", "slice_write", "inplace")))
        if kind == "unary":
            op, out = ("unary", draw(st.sampled_from(UNARY)), i), s
        elif kind in ("binary", "inplace"):
            j = draw(st.integers(0, n - 1))
            t = pool[j]
            if _broadcast(s, t) is None:
                continue
            if kind == "inplace":
                if _broadcast(s, t) != s:
                    continue  # an in-place op cannot grow its destination
                op, out = ("inplace", draw(st.sampled_from(("mul_", "add_", "sub_"))), i, j), s
            else:
                op, out = ("binary", draw(st.sampled_from(BINARY)), i, j), _broadcast(s, t)
            if out is None:
                continue
        elif kind == "reduce":
            name = draw(st.sampled_from(("sum", "mean", "amax", "softmax", "log_softmax")))
            if len(s) < 2 or s == (D, D):
                if name in ("softmax", "log_softmax") and len(s) >= 1:
                    op, out = ("reduce", name, i, -1, True), s
                else:
                    op, out = ("reduce", name if name in ("sum", "mean", "amax") else "sum",
                               i, None, False), ()
            else:
                dim = draw(st.sampled_from((0, 1)))
                if name in ("softmax", "log_softmax"):
                    keep, out = True, s
                else:
                    keep = draw(st.booleans())
                    if keep:
                        out = (1, s[1]) if dim == 0 else (s[0], 1)
                    else:
                        out = (s[1],) if dim == 0 else (s[0],)
                op = ("reduce", name, i, dim, keep)
        elif kind == "matmul":
            if s not in ((B, D), (1, D), (D,)):
                continue
            op, out = ("matmul", i), s
        elif kind in ("cols", "rows"):
            if kind == "cols" and s in ((B, D), (1, D), (D,)):
                idx = tuple(draw(st.lists(st.integers(0, D - 1), min_size=D, max_size=D)))
            elif kind == "rows" and s in ((B, D), (B, 1)):
                idx = tuple(draw(st.lists(st.integers(0, B - 1), min_size=B, max_size=B)))
            else:
                continue
            op, out = (kind, i, idx), s
        elif kind == "masked_fill":
            if not s:
                continue
            op, out = ("masked_fill", i, draw(st.sampled_from((0.0, 0.5, -1.0)))), s
        else:  # slice_write
            if len(s) != 2 or s == (D, D):
                continue
            op, out = ("slice_write", i), s
        if out not in _shapes(B, D).values() and out != (D, D):
            continue
        ops.append(op)
        pool.append(out)
    last = len(pool) - 1
    extra = draw(st.lists(st.integers(1, last), max_size=2))
    loss = tuple(sorted({last, *extra}))
    return Spec(B, D, tuple(ops), loss, draw(st.sampled_from(OPTIMIZERS)))


# -- building -----------------------------------------------------------------------------
def _unary(name, v):
    return {
        "tanh": lambda: v.tanh(), "sigmoid": lambda: v.sigmoid(), "relu": lambda: v.relu(),
        "neg": lambda: -v, "abs": lambda: v.abs(), "sin": lambda: v.sin(),
        "square": lambda: v.pow(2), "exp_tanh": lambda: v.tanh().exp(),
        "log_abs1": lambda: (v.abs() + 1).log(), "sqrt_sq1": lambda: (v * v + 1).sqrt(),
        "scale": lambda: v * 0.5 - 0.25, "erf": lambda: v.erf(),
        "expm1_tanh": lambda: v.tanh().expm1(), "log2_abs1": lambda: (v.abs() + 1).log2(),
        "cumsum": lambda: v.cumsum(-1) if v.ndim else v * 1,
    }[name]()


def _binary(name, a, b):
    return {
        "add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b,
        "div_abs1": lambda: a / (b.abs() + 1), "maximum": lambda: torch.maximum(a, b),
        "minimum": lambda: torch.minimum(a, b), "where_gt": lambda: torch.where(a > b, a, b * 0.5),
        "bit_mask": lambda: a * _bits(a, b),
    }[name]()


def _bits(a, b):
    """A {0, 1, 2, 3} multiplier from the integer bits of both operands (the bitwise
    primitives: &, ^, >>, ~ on int64), constant for the gradient."""
    ia, ib = (a * 4).floor().long(), (b * 4).floor().long()
    return ((ia & 3) ^ ((ib >> 1) & ~ia & 1)).to(a.dtype)


def _reduce(name, v, dim, keep):
    if name in ("softmax", "log_softmax"):
        return getattr(v, name)(dim=dim)
    if dim is None:
        return getattr(v, name)()
    return getattr(v, name)(dim=dim, keepdim=keep)


def _apply(op, pool, W):
    kind = op[0]
    if kind == "unary":
        return _unary(op[1], pool[op[2]])
    if kind == "binary":
        return _binary(op[1], pool[op[2]], pool[op[3]])
    if kind == "reduce":
        return _reduce(op[1], pool[op[2]], op[3], op[4])
    if kind == "matmul":
        return pool[op[1]] @ W
    if kind == "cols":
        v = pool[op[1]]
        idx = torch.tensor(list(op[2]))
        return v[idx] if v.ndim == 1 else v[:, idx]
    if kind == "rows":
        return pool[op[1]][torch.tensor(list(op[2]))]
    if kind == "masked_fill":
        c = pool[op[1]].clone()
        c[c > 0] = op[2]
        return c
    if kind == "slice_write":
        c = pool[op[1]].clone()
        c[:, 0] = c[:, 0] * 2 + 1
        return c
    if kind == "inplace":
        c = pool[op[2]].clone()
        getattr(c, op[1])(pool[op[3]])
        return c
    raise ValueError(op)


def build(spec: Spec, device="cpu"):
    """(step, args, state) for spec, on `device`: fresh parameters from a fixed seed on every
    call. Index tensors stay on the CPU (they may index a CUDA tensor, as in PyTorch)."""
    torch.manual_seed(1234)
    x = torch.randn(spec.B, spec.D, device=device)
    W = (torch.randn(spec.D, spec.D, device=device) * 0.5).requires_grad_()
    b = torch.zeros(spec.D, device=device, requires_grad=True)
    g = torch.ones(spec.B, 1, device=device, requires_grad=True)
    params = [W, b, g]
    opt = {"sgd": lambda: torch.optim.SGD(params, lr=0.05),
           "momentum": lambda: torch.optim.SGD(params, lr=0.05, momentum=0.9),
           "adam": lambda: torch.optim.Adam(params, lr=0.01),
           "manual": lambda: None}[spec.optimizer]()

    def step(x):
        pool = [x, W, b, g, x @ W + b]
        for op in spec.ops:
            pool.append(_apply(op, pool, W))
        loss = (pool[4] * g).pow(2).mean() * 0.01
        for i in spec.loss:
            loss = loss + pool[i].pow(2).mean()
        if opt is not None:
            opt.zero_grad()
        loss.backward()
        if opt is not None:
            opt.step()
        else:
            with torch.no_grad():
                for p in params:
                    p.sub_(0.05 * p.grad)
                    p.grad.zero_()
        return loss
    return step, (x,), params


def describe(spec: Spec) -> str:
    """The program as Python-like lines (what `build` runs)."""
    lines = [f"# B={spec.B} D={spec.D} optimizer={spec.optimizer} steps={spec.steps}",
             "v0 = x; v1 = W; v2 = b; v3 = g; v4 = x @ W + b"]
    for k, op in enumerate(spec.ops, start=5):
        kind = op[0]
        if kind == "unary":
            rhs = f"{op[1]}(v{op[2]})"
        elif kind == "binary":
            rhs = f"{op[1]}(v{op[2]}, v{op[3]})"
        elif kind == "reduce":
            rhs = f"v{op[2]}.{op[1]}(dim={op[3]}, keepdim={op[4]})"
        elif kind == "matmul":
            rhs = f"v{op[1]} @ W"
        elif kind == "cols":
            rhs = f"v{op[1]}[..., {list(op[2])}]"
        elif kind == "rows":
            rhs = f"v{op[1]}[{list(op[2])}]"
        elif kind == "masked_fill":
            rhs = f"(c = v{op[1]}.clone(); c[c > 0] = {op[2]}; c)"
        elif kind == "slice_write":
            rhs = f"(c = v{op[1]}.clone(); c[:, 0] = c[:, 0] * 2 + 1; c)"
        else:
            rhs = f"(c = v{op[2]}.clone(); c.{op[1]}(v{op[3]}); c)"
        lines.append(f"v{k} = {rhs}")
    lines.append("loss = (v4 * g).pow(2).mean() * 0.01 + "
                 + " + ".join(f"v{i}.pow(2).mean()" for i in spec.loss))
    lines.append("loss.backward(); optimizer step")
    return "\n".join(lines)

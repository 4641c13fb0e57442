"""The edge-case table: every primitive and the common composites at the values where
implementations disagree, against PyTorch (recorded by tests/fixtures/record_edge.py).

Inputs: 0, -0.0, +-inf, nan, the largest and smallest normal, a denormal and a few
ordinary numbers, in float32 and float64; empty tensors; 0-d tensors; int64. A binary op
sees every pair of them. Each case is an `oracle.Case`: `fn(T, *tensors)` runs on torch
when recording and on stepjit in the tests, with a fixed random cotangent backpropagated
through every float output, so values and gradients are both compared.

The table is driven by the registry: `ops_for(name)` builds a primitive's cases from its
kind and arity, through the public function that reaches it (PUBLIC). A new primitive
without a public spelling here, or one whose cases cannot be built generically, is
reported by tests/ir/test_edge_cases.py with the line to add. EXEMPT lists primitives that
cannot be compared with PyTorch value for value, with why (docs/edge_cases.md).
"""
from __future__ import annotations

import numpy as np

from tests.fixtures.oracle import Case


def specials(dtype):
    fi = np.finfo(dtype)
    values = [0.0, -0.0, np.inf, -np.inf, np.nan, fi.max, -fi.max, fi.tiny, fi.smallest_subnormal,
              1.5, -2.5, 0.5]
    return np.array(values, dtype)


INTS = np.array([0, -3, 7, 2 ** 40 + 1, -(2 ** 53) - 1], np.int64)
DIVISORS = np.array([5, -2, 3, -7, 2 ** 33 + 1], np.int64)   # (integer division by 0: docs)

# The public spelling of each primitive, as a torch-shaped call (T is torch or stepjit).
UNARY = {
    "neg": lambda T, x: T.neg(x), "exp": lambda T, x: T.exp(x), "log": lambda T, x: T.log(x),
    "log1p": lambda T, x: T.log1p(x), "sqrt": lambda T, x: T.sqrt(x),
    "sin": lambda T, x: T.sin(x), "cos": lambda T, x: T.cos(x), "tanh": lambda T, x: T.tanh(x),
    "sigmoid": lambda T, x: T.sigmoid(x), "relu": lambda T, x: T.relu(x),
    "abs": lambda T, x: T.abs(x), "sign": lambda T, x: T.sign(x),
    "floor": lambda T, x: T.floor(x), "ceil": lambda T, x: T.ceil(x),
    "round": lambda T, x: T.round(x), "copy": lambda T, x: x.clone(),
    "expm1": lambda T, x: T.expm1(x), "log2": lambda T, x: T.log2(x),
    "log10": lambda T, x: T.log10(x), "erf": lambda T, x: T.erf(x),
    "erfinv": lambda T, x: T.erfinv(x),
    "lgamma": lambda T, x: T.lgamma(x), "digamma": lambda T, x: T.digamma(x),
    "polygamma": lambda T, x: T.polygamma(1, x),
    "i0": lambda T, x: T.special.i0(x), "i0e": lambda T, x: T.special.i0e(x),
    "i1": lambda T, x: T.special.i1(x), "i1e": lambda T, x: T.special.i1e(x),
    "ndtri": lambda T, x: T.special.ndtri(x), "erfcx": lambda T, x: T.special.erfcx(x),
    "clamp": lambda T, x: T.clamp(x, -1.0, 1.0),
    "cast": lambda T, x: x.to(T.float64) if x.dtype == T.float32 else x.to(T.float32),
}
BINARY = {
    "add": lambda T, x, y: x + y, "sub": lambda T, x, y: x - y, "mul": lambda T, x, y: x * y,
    "div": lambda T, x, y: x / y, "floor_divide": lambda T, x, y: T.div(x, y, rounding_mode="floor"),
    "pow": lambda T, x, y: T.pow(x, y), "maximum": lambda T, x, y: T.maximum(x, y),
    "minimum": lambda T, x, y: T.minimum(x, y), "atan2": lambda T, x, y: T.atan2(x, y),
    "eq": lambda T, x, y: x == y, "ne": lambda T, x, y: x != y, "lt": lambda T, x, y: x < y,
    "le": lambda T, x, y: x <= y, "gt": lambda T, x, y: x > y, "ge": lambda T, x, y: x >= y,
    "where": lambda T, x, y: T.where(x > y, x, y),
}
LOGICAL = {
    "logical_not": lambda T, x: T.logical_not(x > 0),
    "logical_and": lambda T, x: T.logical_and(x > 0, x < 2),
    "logical_or": lambda T, x: T.logical_or(x > 0, x < -1),
}
REDUCE = {
    "sum": lambda T, x: (x.sum(), x.sum(0), x.sum(1, keepdim=True)),
    "amax": lambda T, x: (x.amax(), x.amax(1)),
    "amin": lambda T, x: (x.amin(), x.amin(0)),
    "argmax": lambda T, x: (x.argmax(), x.argmax(1)),
    "argmin": lambda T, x: (x.argmin(), x.argmin(0)),
    "prod": lambda T, x: (x.prod(), x.prod(1)),
    # a count of a shape (a mean's divisor), reached through mean and var
    "numel": lambda T, x: (x.mean(), x.mean(0, keepdim=True), x.var(1, correction=0)),
}
SCAN = {
    "cumsum": lambda T, x: x.cumsum(1), "cumprod": lambda T, x: x.cumprod(1),
    "argsort": lambda T, x: x.argsort(1),
}
OTHER = {   # movement, indexing, linalg, creation: special values carried through
    "matmul": lambda T, x: x @ x.t(),
    "reshape": lambda T, x: x.reshape(-1), "transpose": lambda T, x: x.t(),
    "expand": lambda T, x: x[:1].expand(3, -1),
    "as_strided": lambda T, x: x.as_strided((2, 3), (3, 2), 1),
    "concat": lambda T, x: T.cat([x, x * 2], 0),
    "slice": lambda T, x: x[1:, ::2],
    "slice_scatter": lambda T, x: _set_slice(T, x),
    "gather": lambda T, x: x[T.tensor([1, 0])] + T.gather(x, 1, T.tensor([[0], [2], [1]])),
    "index_put": lambda T, x: _set_mask(T, x),
    "full": lambda T, x: T.full((2,), float("-inf"), dtype=x.dtype) * x[0, :2],
    "arange": lambda T, x: T.arange(3, dtype=x.dtype) * x[0],
    "index_reduce": lambda T, x: (
        x.scatter_reduce(1, T.tensor([[0, 0, 1, 3]] * 3), x.flip(1), "amax"),
        x.scatter_reduce(0, T.tensor([[2, 0, 0, 1]] * 2), x[:2], "amin", include_self=False)),
    # binary_cross_entropy's input check: raises for the specials outside [0, 1] and NaN
    "check_range": lambda T, x: T.nn.functional.binary_cross_entropy(x, x * 0 + 0.5),
}
# Primitives whose values cannot be compared with PyTorch's one for one.
EXEMPT = {
    "normal": "random: stepjit's generator is not PyTorch's (docs/random.md)",
    "uniform": "random: stepjit's generator is not PyTorch's (docs/random.md)",
    "randint": "random: stepjit's generator is not PyTorch's (docs/random.md)",
    "randperm": "random: stepjit's generator is not PyTorch's (docs/random.md)",
    "rng_advance": "random: advances stepjit's generator; PyTorch has no counterpart",
    "sinh": "no public function reaches it yet (stepjit.sinh / Tensor.sinh): add its spelling "
            "to UNARY when one exists",
    "multinomial": "random: stepjit's generator is not PyTorch's (docs/random.md)",
    "inv": "LAPACK on non-finite or singular matrices: what comes out depends on the LAPACK "
           "build (OpenBLAS here, MKL in PyTorch); tests/test_linalg.py checks finite inputs",
    "det": "as inv",
    "fft": "a NaN or inf spreads through a transform's sums, and PyTorch's real-input path "
           "keeps imaginary parts that are structurally zero (bins 0 and n/2) where the "
           "transform of (x, 0) fills them with NaN (docs/edge_cases.md); finite values and "
           "gradients are checked against PyTorch in tests/ops/test_fft.py",
    **{name: "as inv (a decomposition); tests/ops/test_decompositions.py checks finite inputs "
             "against PyTorch" for name in ("cholesky", "eigh_values", "eigh_vectors", "qr_q",
                                             "qr_r", "svd_u", "svd_s", "svd_vh", "lu_factor",
                                             "lu_pivots")},
    **{name: "reached only inside a trace, by a slice whose bounds are read per call "
             "(tracer/windows.py); its values are the slice's (slice, slice_scatter above), "
             "tests/tracer/test_windows.py checks them against PyTorch's slicing"
       for name in ("dynamic_slice", "dynamic_update_slice")},
    **{name: "integer-only (floats are refused, as PyTorch refuses them): the integer edges "
             "(shifts by negative amounts or past the width, wrap-around, uint8) are checked "
             "against PyTorch in tests/ops/test_bitwise.py"
       for name in ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "left_shift",
                    "right_shift")},
    "gcd": "integer-only (floats are refused, as PyTorch refuses them): zeros, signs and "
           "int64 magnitudes are checked against PyTorch in tests/ops/math_cases.py (gcd_lcm)",
    "all_reduce": "a collective across processes (stepjit.distributed); one process has no "
                  "PyTorch value to compare",
}
PUBLIC = {**UNARY, **BINARY, **LOGICAL, **REDUCE, **SCAN, **OTHER}

# Cases where stepjit differs from PyTorch today: each is an expected failure (strict, so a
# fix shows) with what differs. docs/edge_cases.md lists them.
KNOWN = {
    "amax/float32": "a NaN in a slice: PyTorch's amax gives the whole slice NaN gradient (0/0); "
                    "stepjit's one amax rule follows PyTorch's max(), the gradient to the NaN",
    "amax/float64": "as amax/float32", "amin/float32": "as amax/float32",
    "amin/float64": "as amax/float32", "amin/0d": "as amax/float32",
    "matmul/float32": "inf * 0 inside a product: BLAS kernels differ in which products they "
                      "form (OpenBLAS here, MKL/oneDNN in PyTorch)",
    "matmul/float64": "as matmul/float32",
    "prod/float32": "prod's gradient at zeros, infinities and NaNs: PyTorch's formula "
                    "special-cases zeros; stepjit's is out / x",
    "prod/float64": "as prod/float32", "cumprod/float32": "as prod/float32",
    "cumprod/float64": "as prod/float32",
    "index_reduce/float32": "scatter_reduce(include_self=False) where input's own element "
                            "equals the result: PyTorch counts that excluded element as a tie "
                            "(the scattered value gets half the gradient, the element none); "
                            "stepjit leaves it out (the true derivative: the value gets all)",
    "index_reduce/float64": "as index_reduce/float32",
    "pow/int64": "int64 ** negative int64: NumPy raises, PyTorch computes (1 / x rounded)",
    "digamma/float32": "its gradient (trigamma) at -3.4e38: stepjit computes float32 inputs in "
                       "float64, where pi x is finite (a meaningless finite value); PyTorch's "
                       "float32 pi x overflows to nan",
    "polygamma/float32": "polygamma(1, x) at -3.4e38: as digamma/float32",
    "polygamma/int64": "polygamma(1, x) at large negative integers (poles, converted to "
                       "float32): sin(pi x) is computed in float64 by stepjit, in float32 by "
                       "PyTorch; both values are rounding noise at a pole",
}
# Compiled only: what eager checks on values and a compiled step does not check yet.
KNOWN_COMPILED = {}


def _set_slice(T, x):
    y = x.clone()
    y[0, 1:] = x[1, :2] * 3
    return y


def _set_mask(T, x):
    y = x.clone()
    y[x > 1] = float("nan")
    return y


def _pairs(dtype):
    s = specials(dtype)
    return np.repeat(s, len(s)), np.tile(s, len(s))


def _matrix(dtype):
    """A 3 x 4 matrix whose rows hold the special values (every row has a nan or inf)."""
    return specials(dtype).reshape(3, 4)


def ops_for(name):
    """The cases of one registry entry; [] when the table cannot build them (reported)."""
    fn = PUBLIC.get(name)
    if fn is None:
        return []
    cases = []
    for dt in (np.float32, np.float64):
        tag = np.dtype(dt).name
        tol = 2e-6 if dt is np.float32 else 1e-12
        if name in BINARY:
            x, y = _pairs(dt)
            cases.append(Case(f"{name}/{tag}", fn, x, y, tol=tol))
        elif name in UNARY or name in LOGICAL:
            cases.append(Case(f"{name}/{tag}", fn, specials(dt), tol=tol))
        else:
            cases.append(Case(f"{name}/{tag}", fn, _matrix(dt), tol=tol))
    one = lambda T, *ts: fn(T, *ts)   # noqa: E731
    if name in BINARY:
        cases += [Case(f"{name}/empty", one, np.zeros((0, 3)), np.zeros((0, 3))),
                  Case(f"{name}/0d", one, np.array(1.5), np.array(-0.0)),
                  Case(f"{name}/int64", one, INTS, DIVISORS, grad=())]
    elif name in UNARY or name in LOGICAL:
        cases += [Case(f"{name}/empty", one, np.zeros((0, 3))),
                  Case(f"{name}/0d", one, np.array(-0.0)),
                  Case(f"{name}/int64", one, INTS, grad=())]
    elif name in REDUCE or name in SCAN:
        cases += [Case(f"{name}/0d", one, np.array(np.nan)),
                  Case(f"{name}/int64", one, INTS[:4].reshape(2, 2), grad=())]
        if name in ("sum", "prod", "cumsum", "cumprod", "argsort"):
            cases.append(Case(f"{name}/empty", one, np.zeros((0, 3))))
    return cases


COMPOSITES = [
    ("mean", lambda T, x: (x.mean(), x.mean(1))),
    ("var", lambda T, x: (x.var(1), x.std(0))),
    ("softmax", lambda T, x: (T.softmax(x, 1), T.log_softmax(x, 0))),
    ("logsumexp", lambda T, x: x.logsumexp(1)),
    ("norm", lambda T, x: (x.norm(), x.norm(dim=1))),
    ("max_dim", lambda T, x: x.max(1)),
    ("mse_loss", lambda T, x: T.nn.functional.mse_loss(x, x.flip(0))),
    ("bce_with_logits", lambda T, x: T.nn.functional.binary_cross_entropy_with_logits(
        x, (x > 0).to(x.dtype))),
    ("cross_entropy", lambda T, x: T.nn.functional.cross_entropy(x, T.tensor([0, 3, 1]))),
    ("sigmoid_bce", lambda T, x: T.nn.functional.binary_cross_entropy(
        x.sigmoid(), (x > 0).to(x.dtype))),
]


def composite_cases():
    cases = []
    for name, fn in COMPOSITES:
        for dt in (np.float32, np.float64):
            tol = 2e-6 if dt is np.float32 else 1e-12
            # rows: one with every special, one finite with extremes, one ordinary
            # (the largest normal is left to the primitives' cases: a composite's intermediate
            # overflow depends on its algorithm, e.g. var's one pass or two)
            fi = np.finfo(dt)
            x = np.array([[0.0, -0.0, np.inf, np.nan], [1e10, -3.0, fi.tiny, 1.5],
                          [0.5, -2.5, 1.5, fi.smallest_subnormal]], dt)
            cases.append(Case(f"{name}/{np.dtype(dt).name}", fn, x, tol=tol))
            cases.append(Case(f"{name}/finite/{np.dtype(dt).name}", fn, x[1:], tol=tol))
    return cases


def all_cases():
    from stepjit.ir.primitives import PRIMITIVES
    cases = []
    for name in sorted(PRIMITIVES):
        cases += ops_for(name)
    return cases + composite_cases()

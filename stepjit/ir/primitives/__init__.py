"""Every primitive stepjit knows, imported here in one place.

Use as `from stepjit.ir import primitives as P` and then `P.add`, `P.matmul`, ...;
`PRIMITIVES` maps names to entries (the IR parser and the registry test use it).
"""
from ..registry import PRIMITIVES, Primitive  # noqa: F401
from .collective import all_reduce  # noqa: F401
from .elementwise import (  # noqa: F401
    abs, add, atan2, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, cast, ceil, clamp, copy,
    cos, digamma, div, eq, erf, erfcx, erfinv, exp, expm1, floor,
    floor_divide, gcd, ge, gt, i0, i0e, i1, i1e, lgamma, ndtri, polygamma,
    le, left_shift, log, log1p, log2, log10, logical_and, logical_not, logical_or, lt, maximum,
    minimum, mul,
    ne, neg, pow, relu, right_shift, sinh,
    round, sigmoid, sign, sin, sqrt, sub, tanh, where)
from .indexing import (  # noqa: F401
    arange, dynamic_slice, dynamic_update_slice, full, gather, index_put, index_reduce, slice,
    slice_scatter)
from .linalg import det, inv, matmul  # noqa: F401
from .decompositions import (  # noqa: F401
    cholesky, eigh_values, eigh_vectors, lu_factor, lu_pivots, qr_q, qr_r, svd_s, svd_u, svd_vh)
from .movement import as_strided, concat, expand, reshape, transpose  # noqa: F401
from .scans import argsort, cumprod, cumsum  # noqa: F401
from .spectral import fft  # noqa: F401
from .random import multinomial, normal, randint, randperm, rng_advance, uniform  # noqa: F401
from .reductions import amax, amin, argmax, argmin, check_range, numel, prod, sum  # noqa: F401

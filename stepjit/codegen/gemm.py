"""BLAS's gemm called from a native program, through the address codegen/blas.py found.

A program's matmul is `gemm(as_any(a), as_any(b), as_any(out), dims[k], np.int64)`:
`out = a @ b` by the cblas_?gemm at the address `dims[k]`, whose integers are int64
(`np.int32` for a 32-bit BLAS), where BLAS can read every operand in place (`blas_layout`),
else by loops (a broadcast or strided operand, an empty dimension). `as_any` retypes an
array as Numba's layout "A" (no code), so gemm is compiled once per dtype, integer type and
process, and cached like any njit function, instead of once per program and combination of
operand layouts (~1 s each).

`cblas_gemm(fn, trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, blas_int)` is the call
itself: `c = op(a) @ op(b)` (row-major, alpha 1, beta 0), the integers passed as the NumPy
integer class `blas_int`. It is an LLVM `inttoptr` and an indirect call, so the object code
references no symbol: a machine-code entry can hold it (codegen/machine_cache.py), and the same
cached code works wherever the library is loaded.

Only generated program modules import this one (it imports Numba).
"""
from __future__ import annotations

from llvmlite import ir
from numba import njit, types
from numba.core.extending import register_jitable
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic
from numba.np.arrayobj import make_array

NO_TRANS, TRANS, ROW_MAJOR = 111, 112, 101     # CBLAS's enum values


@register_jitable
def blas_layout(x):
    """(CBLAS transpose flag, leading dimension) with which BLAS reads the 2-D array x in
    place: NO_TRANS where its rows are contiguous, TRANS where its columns are (x is a
    row-major array transposed), (0, 0) where neither (broadcast, strided or reversed): the
    caller runs loops instead. A dimension of 1 may have any stride."""
    rows, cols = x.shape
    s0, s1 = x.strides
    size = x.itemsize
    if (cols == 1 or s1 == size) and (rows == 1 or (s0 % size == 0 and s0 >= cols * size)):
        return NO_TRANS, max(s0 // size if rows > 1 else cols, 1)
    if (rows == 1 or s0 == size) and (cols == 1 or (s1 % size == 0 and s1 >= rows * size)):
        return TRANS, max(s1 // size if cols > 1 else rows, 1)
    return 0, 0


@intrinsic
def cblas_gemm(typingctx, fn, trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, blas_int):
    arrays = (a, b, c)
    if not all(isinstance(x, types.Array) and x.ndim == 2 for x in arrays):
        return None
    if c.dtype not in (types.float32, types.float64) or a.dtype != c.dtype or b.dtype != c.dtype:
        return None
    if not (isinstance(blas_int, types.NumberClass)
            and blas_int.instance_type in (types.int64, types.int32)):
        return None
    width = blas_int.instance_type
    sig = types.void(fn, trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc, blas_int)

    def codegen(context, builder, signature, args):
        tys = signature.args
        flt = context.get_value_type(c.dtype)
        i32, iw = ir.IntType(32), context.get_value_type(width)

        def integer(pos, to):
            return context.cast(builder, args[pos], tys[pos], to)

        def data(pos):
            return make_array(tys[pos])(context, builder, args[pos]).data

        fnty = ir.FunctionType(ir.VoidType(), [i32, i32, i32, iw, iw, iw, flt, flt.as_pointer(),
                                               iw, flt.as_pointer(), iw, flt, flt.as_pointer(), iw])
        target = builder.inttoptr(integer(0, types.int64), fnty.as_pointer())
        builder.call(target, [ir.Constant(i32, ROW_MAJOR), integer(1, types.int32),
                              integer(2, types.int32), integer(3, width), integer(4, width),
                              integer(5, width), ir.Constant(flt, 1.0), data(6),
                              integer(7, width), data(8), integer(9, width),
                              ir.Constant(flt, 0.0), data(10), integer(11, width)])
        return context.get_dummy_value()
    return sig, codegen


@intrinsic
def as_any(typingctx, a):
    """The array a typed with layout "A": the same value, no code."""
    if not isinstance(a, types.Array):
        return None

    def codegen(context, builder, signature, args):
        return impl_ret_borrowed(context, builder, signature.return_type, args[0])
    return a.copy(layout="A")(a), codegen


@njit(cache=True)
def matmul_loops(a, b, out):
    """out = a @ b by loops: a native program's tiny matmuls, and gemm's fallback. Cached,
    not register_jitable: a jitable is compiled again in every process for every layout it
    is called with (~0.12-0.17 s of CPU each: W4's two matmuls spent 0.29 s on it)."""
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            acc = 0.0
            for k in range(a.shape[1]):
                acc += a[i, k] * b[k, j]
            out[i, j] = acc


@register_jitable
def _plan(a, b, out):
    """(trans_a, lda, trans_b, ldb, ldc) for BLAS, or trans_a 0 where the loops must run."""
    ta, lda = blas_layout(a)
    tb, ldb = blas_layout(b)
    tc, ldc = blas_layout(out)
    if a.shape[0] == 0 or b.shape[1] == 0 or a.shape[1] == 0 or tb == 0 or tc != NO_TRANS:
        ta = 0
    return ta, lda, tb, ldb, ldc


@njit(cache=True, error_model="numpy")
def gemm(a, b, out, fn, blas_int):
    ta, lda, tb, ldb, ldc = _plan(a, b, out)
    if ta:
        cblas_gemm(fn, ta, tb, a.shape[0], b.shape[1], a.shape[1], a, lda, b, ldb, out, ldc,
                   blas_int)
    else:
        matmul_loops(a, b, out)

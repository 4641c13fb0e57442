"""Arrays at raw addresses, and views, for native programs that allocate nothing.

Numba's dispatcher spends ~70 ns per array argument (type fingerprint, unboxing, a
MemInfo); a tiny step's native program takes half a dozen. Its `program_packed` entry
(codegen/native_program.py) takes instead one int64 array of the inputs' data addresses and
rebuilds each input with `array_at(p, k, shape, dtype)`, what
`numba.carray(voidptr_at(p[k]), shape, dtype)` makes. The runtime
(runtime/fastcall.py, with programs/cpu.py: pack_addresses) packs the addresses once, and again only when an
input's array changes, and only for arrays carray describes exactly. Only generated
modules import this one: a process that runs cached machine code never imports Numba.

`array_at`, `reshaped` and `empty_array` (a returned value's per-call array) are intrinsics,
not calls of Numba's carray, a reshape overload or np.empty: Numba compiles an overload's
implementation as a function of its own per argument type in every process (~0.5 s of CPU in
each of the makemore and MNIST programs), where an intrinsic emits its few instructions into
the program.

`broadcast_view(a, shape)` is the program's `expand` (np.broadcast_to's view, stride 0 on the
broadcast dimensions), made here as c_view is: Numba's np.broadcast_to compiles two generic
functions of its own (a shape check and the view) in every process, ~0.5 s of each native
program's compile, for what the trace's shapes already guarantee.

`reshaped(a, shape)` is the program's reshape: Numba's `a.reshape` calls a helper of
Numba's (numba_attempt_nocopy_reshape) even for a C-contiguous array, which a process
without Numba cannot link (codegen/machine_cache.py), so a C-contiguous array is reshaped here
as a view with C strides, as Numba's would be; another layout is copied as before
(`np.ascontiguousarray(a).reshape(shape)`, through Numba). Loop kernels use the same view,
`c_view(a, (n,))`, for their flat loops over arrays found C-contiguous at run time
(codegen/loops.py).

Both are views of their argument, and Numba must be told so (`alias_func_extensions`): its
parfor pass drops a prange loop's stores into an array it believes is fresh and unread after
the loop. Without that, every parallel flat loop (2-D and larger, at least PARALLEL_MIN
elements, all C-contiguous) silently stored nothing: an Adam update of a Linear weight over
2^20 elements left the parameter and state unchanged and its outputs uninitialized.
"""
from __future__ import annotations

import numpy as np
from numba import types
from numba.core import cgutils, ir_utils
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic
from numba.np.arrayobj import (_empty_nd_impl, _parse_empty_args, make_array, np_cfarray,
                                populate_array)
from numba.core.typing.npydecl import parse_shape as ty_parse_shape


@intrinsic
def voidptr_at(typingctx, addr):
    """The int64 `addr` as a void pointer (LLVM inttoptr), which numba.carray accepts."""
    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], context.get_value_type(types.voidptr))
    return types.voidptr(types.int64), codegen


@intrinsic
def array_at(typingctx, addrs, k, shape, dtype):
    """The C-contiguous array of `shape` and `dtype` at the address `addrs[k]` (an int64
    vector, `k` an int): what `numba.carray(voidptr_at(addrs[k]), shape, dtype)` makes (no
    meminfo, no parent), made in place. numba.carray is an overload, which Numba compiles as a
    function of its own for each rank and dtype in every process (7 in each of the makemore and
    MNIST programs, ~0.2 s of CPU); this emits the same few instructions into the program. The
    address is read here, not by the program's `addrs[k]`: Numba lowers each such constant
    index as a static getitem it first tries to resolve at compile time (W6's program reads
    89 addresses: ~0.1 s of lowering, and its IR for LLVM to clean up)."""
    ndim = ty_parse_shape(shape)
    if not (isinstance(addrs, types.Array) and addrs.ndim == 1
            and isinstance(addrs.dtype, types.Integer) and isinstance(k, types.Integer)
            and isinstance(dtype, types.DTypeSpec) and ndim is not None):
        return None
    out = types.Array(dtype.dtype, ndim, "C")

    def codegen(context, builder, signature, args):
        at = make_array(signature.args[0])(context, builder, args[0])
        addr = builder.load(builder.gep(at.data, [args[1]]))
        ptr = builder.inttoptr(addr, context.get_value_type(types.voidptr))
        return np_cfarray(context, builder, out(types.voidptr, signature.args[2]),
                          [ptr, args[2]])
    return out(addrs, k, shape, dtype), codegen


@intrinsic
def empty_array(typingctx, shape, dtype):
    """`np.empty(shape, dtype)` (C-contiguous, allocated through Numba's runtime), made in place:
    np.empty is an overload Numba compiles as a function of its own for each rank and dtype in
    every process (two in each of the makemore and MNIST programs, ~0.1-0.2 s of CPU)."""
    ndim = ty_parse_shape(shape)
    if not (isinstance(shape, types.BaseTuple) and isinstance(dtype, types.DTypeSpec)
            and ndim is not None):
        return None
    out = types.Array(dtype.dtype, ndim, "C")

    def codegen(context, builder, signature, args):
        arrtype, shapes = _parse_empty_args(context, builder, out(signature.args[0]), args[:1])
        return _empty_nd_impl(context, builder, arrtype, shapes)._getvalue()
    return out(shape, dtype), codegen


@intrinsic
def reshaped(typingctx, a, shape):
    """`a` as an array of `shape` (as many elements), C-ordered: a view (c_view's) where a
    is C-contiguous, else `np.ascontiguousarray(a).reshape(shape)`. An intrinsic, not an
    overload: Numba compiles an overload's implementation as a function of its own for each
    argument type in every process (4-6 in a program, ~0.15 s of CPU)."""
    if not _array_and_shape(a, shape):
        return None
    if a.layout == "C":
        return a.copy(ndim=len(shape), layout="C")(a, shape), _c_view
    out = a.copy(ndim=len(shape), layout="C", readonly=False)   # a copy, as ascontiguousarray

    def codegen(context, builder, signature, args):
        return context.compile_internal(builder, _copied_reshape, signature, args)
    return out(a, shape), codegen


def _copied_reshape(a, shape):
    return np.ascontiguousarray(a).reshape(shape)


def _array_and_shape(a, shape):
    # `()` (a 0-dim parameter's reshape) is typed Tuple(()), not a UniTuple
    return (isinstance(a, types.Array) and isinstance(shape, types.BaseTuple)
            and all(isinstance(d, types.Integer) for d in shape))


@intrinsic
def c_view(typingctx, a, shape):
    """The array `a` seen with `shape` (a tuple of ints whose product is a.size): its data,
    meminfo and parent, C strides. The caller guarantees that `a` is C-contiguous: its type
    says so (`reshaped`), or a run-time check of `a.flags.c_contiguous` did (the flat loops of
    codegen/loops.py). Numba's own `a.reshape` would do for the first, but it calls a helper
    of Numba's C library (numba_attempt_nocopy_reshape) that no machine-code entry can link."""
    if not _array_and_shape(a, shape):
        return None
    return a.copy(ndim=len(shape), layout="C")(a, shape), _c_view


def _c_view(context, builder, signature, args):
    ary = make_array(signature.args[0])(context, builder, args[0])
    dims = cgutils.unpack_tuple(builder, args[1])
    intp = context.get_value_type(types.intp)
    dims = [builder.sext(d, intp) if d.type.width < intp.width else d for d in dims]
    strides, step = [], ary.itemsize
    for d in reversed(dims):
        strides.insert(0, step)
        step = builder.mul(step, d)
    view = make_array(signature.return_type)(context, builder)
    populate_array(view, data=ary.data, shape=dims, strides=strides, itemsize=ary.itemsize,
                   meminfo=ary.meminfo, parent=ary.parent)
    return impl_ret_borrowed(context, builder, signature.return_type, view._getvalue())


@intrinsic
def broadcast_view(typingctx, a, shape):
    """`a` broadcast to `shape` (the trace checked that it broadcasts): a read-only view of
    a's data with stride 0 on the leading new dimensions and where a has size 1, typed as
    Numba's np.broadcast_to types it (layout "A", read-only)."""
    if not (isinstance(a, types.Array) and isinstance(shape, types.BaseTuple)
            and all(isinstance(d, types.Integer) for d in shape) and len(shape) >= a.ndim):
        return None
    out = a.copy(ndim=len(shape), layout="A", readonly=True)

    def codegen(context, builder, signature, args):
        ary = make_array(signature.args[0])(context, builder, args[0])
        intp = context.get_value_type(types.intp)
        dims = [builder.sext(d, intp) if d.type.width < intp.width else d
                for d in cgutils.unpack_tuple(builder, args[1])]
        have = cgutils.unpack_tuple(builder, ary.shape)
        steps = cgutils.unpack_tuple(builder, ary.strides)
        zero, one = intp(0), intp(1)
        lead = len(dims) - len(have)
        strides = [zero] * lead + [builder.select(builder.icmp_signed("==", n, one), zero, st)
                                   for n, st in zip(have, steps)]
        view = make_array(signature.return_type)(context, builder)
        # (no parent: as Numba's np.broadcast_to, so a boxed view is a new, read-only array)
        populate_array(view, data=ary.data, shape=dims, strides=strides, itemsize=ary.itemsize,
                       meminfo=ary.meminfo, parent=None)
        return impl_ret_borrowed(context, builder, signature.return_type, view._getvalue())
    return out(a, shape), codegen


def _view_of_first_argument(lhs, args, alias_map, arg_aliases):
    """Numba's alias analysis hook: `lhs = f(a, ...)` is a view of `a` (as its own `_add_alias`
    records `B = A.reshape(...)`)."""
    base = args[0].name
    if base in arg_aliases:
        arg_aliases.add(lhs)
        return
    alias_map.setdefault(base, set()).add(lhs)
    alias_map.setdefault(lhs, set()).add(base)


for _fn in ("c_view", "reshaped", "broadcast_view"):
    ir_utils.alias_func_extensions[(_fn, __name__)] = _view_of_first_argument

"""Arrays at raw addresses, for native programs called with one array of addresses.

Numba's dispatcher spends ~70 ns per array argument (type fingerprint, unboxing, a
MemInfo); a tiny step's native program takes half a dozen. Its `program_packed` entry
(codegen/program.py) takes instead one int64 array of the inputs' data addresses and
rebuilds each input with `numba.carray(voidptr_at(address), shape, dtype)`. The runtime
(runtime/fastcall.py: pack_addresses) packs the addresses once, and again only when an
input's array changes, and only for arrays carray describes exactly. Only generated
modules import this one: a process that runs cached machine code never imports Numba.
"""
from __future__ import annotations

from numba import types
from numba.extending import intrinsic


@intrinsic
def voidptr_at(typingctx, addr):
    """The int64 `addr` as a void pointer (LLVM inttoptr), which numba.carray accepts."""
    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], context.get_value_type(types.voidptr))
    return types.voidptr(types.int64), codegen

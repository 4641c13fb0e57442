"""`flat(a)`: a C-contiguous array as a 1-D view of all its elements, inside a kernel.

A flat loop (codegen/loops.py) runs an elementwise group over such views. Numba's
own `a.reshape(n)` would do, but it calls a helper of Numba's C library
(numba_attempt_nocopy_reshape), and a kernel that needs one gets no machine-code
entry (codegen/entry.py), so a warm process would have to import Numba to run it.
Only generated kernel modules import this one.
"""
from __future__ import annotations

from numba import types
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic
from numba.np.arrayobj import make_array, populate_array


@intrinsic
def flat(typingctx, a):
    """The caller checks contiguity first (`a.flags.c_contiguous`, a constant for an array
    typed C-contiguous); the view shares a's data and keeps a's owner alive."""
    out = types.Array(a.dtype, 1, "C")

    def codegen(context, builder, signature, args):
        src = make_array(a)(context, builder, args[0])
        view = make_array(out)(context, builder)
        populate_array(view, data=src.data, shape=[src.nitems], strides=[src.itemsize],
                       itemsize=src.itemsize, meminfo=src.meminfo, parent=src.parent)
        return impl_ret_borrowed(context, builder, out, view._getvalue())
    return out(a), codegen

"""Loop kernels that allocate nothing: partial-reduction accumulators given as arguments.

A loop kernel that reduces over some dimensions but keeps others (a bias gradient:
sum over the batch) accumulates into one float64 (int64) element per kept index,
which codegen/loops.py allocates in the kernel (`np.full`). An allocation goes
through Numba's runtime (NRT), which a process running machine-code entries without
Numba does not have (codegen/machine.py refuses such objects), so a kernel that
allocates keeps Numba's dispatcher, and imports Numba in a warm process. Here the
accumulators are instead buffers the caller allocates once and passes after the sizes
(`s0, s1, ...`); the kernel resets them on entry, so it computes the same sums, in
the same order, as the allocating kernel. The caller owns the buffers as it owns its
workspace: a kernel call must not run in two threads at once with the same buffers.
"""
from __future__ import annotations

from ..ir.types import FLOAT
from .loops import LoopSource


class GivenAccumulators(LoopSource):
    """A loop kernel whose partial-reduction accumulators (one per kept index) are buffers it
    is given, parameters after its sizes, reset on entry, rather than arrays it allocates:
    the same float64/int64 sums, so the same results. `given`: (shape, dtype) of each."""

    def source(self, fname):
        self.given = []
        src = super().source(fname)
        head, rest = src.split("\n", 1)
        start = f"def {fname}("
        assert head.startswith(start) and head.endswith("):"), head
        params = [p for p in head[len(start):-2].split(", ") if p]
        params += [f"s{k}" for k in range(len(self.given))]
        return f"{start}{', '.join(params)}):\n{rest}"

    def _reduction_prologue(self, node):
        if self._whole(node):
            return super()._reduction_prologue(node)
        axis = node.attrs["axis"]
        kept = tuple(self.group.shape[d] for d in range(self.k) if d not in axis)
        dtype = "float64" if node.inputs[0].dtype.category == FLOAT else "int64"
        self.given.append((kept, dtype))
        acc = self._acc(node)
        return [f"    {acc} = s{len(self.given) - 1}", f"    {acc}[:] = {self._acc_init(node)}"]


def loop_source(group, constants, fname, parallel=False, inplace=None, split=True):
    """loops.loop_source with given accumulators: (source, input Values, output Values,
    (shape, dtype name) of each accumulator parameter)."""
    src = GivenAccumulators(group, constants, parallel, inplace, split)
    return src.source(fname), src.arrays, src.outputs, src.given

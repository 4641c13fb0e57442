"""Buffer sharing: intermediates whose lifetimes do not overlap share one workspace buffer.

A program keeps a workspace buffer per intermediate between calls (programs/cpu.py,
codegen/native_program.py). Without sharing, a step holds every intermediate at once: its
workspace is the sum of all of them, and the caches see that many distinct arrays. Here a
buffer is handed on once the last group reading its value, or any view of it, has run;
outputs of one group never share with each other or with that group's inputs (a loop may
read an input at other indices than it writes, and BLAS's gemm needs its output apart from
its operands). Values read after the program (`pinned`, with the values they are views of)
keep their own buffers.
"""
from __future__ import annotations

from ..ir.graph import Value


def share_buffers(groups, owned, pinned=()) -> dict:
    """{value: the value whose buffer it uses (itself for a new one)} for the values in
    `owned`, each needing a buffer of its shape and dtype, as `groups` run in order."""
    base = _view_bases(groups)
    root = lambda v: base.get(v, v)      # noqa: E731 - the buffer a value or view lives in
    kept = {root(v) for v in pinned}
    last = {}
    for i, g in enumerate(groups):
        for v in _reads(g):
            last[root(v)] = i
    free, out, release = {}, {}, {}
    for i, g in enumerate(groups):
        for v in _writes(g):
            if v not in owned:
                continue
            pool = free.get(_kind(v))
            out[v] = pool.pop() if pool else v
            if v not in kept:
                release.setdefault(max(i, last.get(v, i)), []).append(v)
        for v in release.pop(i, ()):
            free.setdefault(_kind(v), []).append(out[v])
    return out


def computed_into_buffers(groups) -> set:
    """The values a program computes into a buffer it provides: loop results, matmul products,
    fills and sizes (views and other ops make their own arrays)."""
    out = set()
    for g in groups:
        if g.kind == "loop":
            out.update(g.outputs)
        elif g.nodes[0].prim.lowering in ("matmul", "fill", "size"):
            out.add(g.nodes[0].out)
    return out


def _kind(v):
    return tuple(v.shape), v.dtype.np.str


def _view_bases(groups):
    """view value -> the value whose buffer it views (through chains of views)."""
    base = {}
    for g in groups:
        n = g.nodes[0]
        if g.kind == "op" and n.prim.view and isinstance(n.inputs[0], Value):
            base[n.out] = base.get(n.inputs[0], n.inputs[0])
    return base


def _reads(g):
    values = g.inputs if g.kind == "loop" else g.nodes[0].inputs
    return [v for v in values if isinstance(v, Value)]


def _writes(g):
    return g.outputs if g.kind == "loop" else [g.nodes[0].out]

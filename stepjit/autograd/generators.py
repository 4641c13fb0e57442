"""Eager backward's code generators, which sit above the front end: codegen/eager_vjp.py's
`derive` traces a backward plan's VJP rules with the tracer and writes them out as a
straight-line function (array_vjp.py runs it); codegen/tape_function.py's `write` writes a
recurring tape's backward as one function (tape.py runs it).

autograd reaches them only through these slots, which the public API (stepjit/api.py) fills,
so the front end imports nothing above it. None until then: every backward takes the
engine's generic path, with the same bits.
"""
derive_vjp = None   # (plan, node name, attrs, gradient array, saved values) -> function or None
write_tape = None   # (nodes in key order, root output index, seed) -> the tape's function

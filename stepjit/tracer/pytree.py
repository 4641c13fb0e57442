"""Flattening of arguments and results: tuples, lists and dicts of tensors, and leaves.

A treedef is plain data: ("tensor",), ("array",), ("leaf", value), ("tuple"|"list",
[children]), ("dict", [keys], [children]), ("namedtuple", cls, [children]). ("array",) is a
NumPy array argument that a compiled step takes as a tensor input (tracer/arrays.py): its leaf
is the tensor standing for it.
"""
from __future__ import annotations

ARRAY = ("array",)


def flatten(obj, is_leaf, as_input=None):
    """as_input: for an object that is not a leaf, the tensor it is taken as (an ndarray
    argument), or None."""
    leaves = []

    def walk(x):
        if is_leaf(x):
            leaves.append(x)
            return ("tensor",)
        if as_input is not None:
            t = as_input(x)
            if t is not None:
                leaves.append(t)
                return ARRAY
        if isinstance(x, tuple) and hasattr(x, "_fields"):
            return ("namedtuple", type(x), [walk(c) for c in x])
        if isinstance(x, (tuple, list)):
            return (type(x).__name__, [walk(c) for c in x])
        if isinstance(x, dict):
            return ("dict", list(x.keys()), [walk(v) for v in x.values()])
        return ("leaf", x)

    return leaves, walk(obj)


def unflatten(treedef, leaves):
    it = iter(leaves)

    def build(d):
        kind = d[0]
        if kind == "tensor" or kind == "array":
            return next(it)
        if kind == "leaf":
            return d[1]
        if kind == "namedtuple":
            return d[1](*[build(c) for c in d[2]])
        if kind == "dict":
            return dict(zip(d[1], [build(c) for c in d[2]]))
        children = [build(c) for c in d[1]]
        return tuple(children) if kind == "tuple" else children

    return build(treedef)


def leaf_constants(treedef):
    """The non-tensor leaves of a treedef, in order (Python scalars, strings, None...)."""
    out = []

    def walk(d):
        if d[0] == "leaf":
            out.append(d[1])
        elif d[0] in ("tuple", "list"):
            for c in d[1]:
                walk(c)
        elif d[0] in ("dict", "namedtuple"):
            for c in d[2]:
                walk(c)

    walk(treedef)
    return out


def has_arrays(treedef) -> bool:
    """Whether the treedef holds an ("array",) leaf."""
    kind = treedef[0]
    if kind == "array":
        return True
    if kind in ("tuple", "list"):
        return any(has_arrays(c) for c in treedef[1])
    if kind in ("dict", "namedtuple"):
        return any(has_arrays(c) for c in treedef[2])
    return False

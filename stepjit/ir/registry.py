"""The primitive registry: each primitive declared once with every rule it needs.

A Primitive holds
  impl        its meaning, on NumPy arrays: impl(*arrays, **attrs) -> array
  shape_rule  abstract evaluation: shape_rule(*avals, **attrs) -> AVal
  vjp         one function per input, written with stepjit tensor methods so the
              same formula serves eager tape autograd and the IR autodiff pass;
              None for an input (or the whole op) that has no gradient
  kind        elementwise | reduction | scan (cumsum, sorts: along one axis) | matmul |
              movement | indexing | creation | random
  expr        for elementwise ops, the scalar expression codegen emits,
              with {0}, {1}, ... for the operands and {attr} for attributes
  grad_name   PyTorch's name for the backward node (string or fn(attrs) -> str)
  into        optional: into(*arrays, **attrs) writes impl's result into arrays[0]'s
              buffer (the eager in-place form, run when no autograd records);
              ufunc impls have it without saying (impl(*arrays, out=arrays[0]))

A vjp function's first parameter is the output gradient `g`; the names of the
others say what it needs, and so what autograd must save: input names, `out`,
attribute names, and `in_shapes` (always available, never saved as data).
The engine sums a gradient back to its input's shape and dtype, so elementwise
rules return gradients of the broadcast shape.
"""
from __future__ import annotations

import inspect
from typing import Callable

PRIMITIVES: dict[str, "Primitive"] = {}

KINDS = ("elementwise", "reduction", "scan", "matmul", "movement", "indexing", "creation",
         "random")
_SPECIAL = ("out", "in_shapes", "index")


class VJPRule:
    """One input's gradient formula plus the saved values it reads."""
    __slots__ = ("fn", "needs")

    def __init__(self, fn: Callable, prim: "Primitive"):
        self.fn = fn
        params = list(inspect.signature(fn).parameters)[1:]
        known = set(prim.inputs) | set(prim.attrs) | set(_SPECIAL)
        unknown = [p for p in params if p not in known and p != "xs"]
        if unknown:
            raise TypeError(f"vjp of {prim.name} asks for unknown values {unknown}")
        self.needs = tuple(params)


class Primitive:
    __slots__ = ("name", "kind", "impl", "shape_rule", "vjp", "expr", "_grad_name",
                 "inputs", "attrs", "variadic", "ufunc", "view", "casts", "into")

    def __init__(self, name, kind, impl, shape_rule, *, inputs, attrs=(), vjp=None,
                 expr=None, grad_name=None, variadic=False, view=False, casts=(), into=None):
        assert kind in KINDS, kind
        self.name = name
        self.kind = kind
        self.impl = impl
        self.shape_rule = shape_rule
        self.inputs = tuple(inputs)
        self.attrs = tuple(attrs)
        self.expr = expr
        self._grad_name = grad_name or (name.capitalize() + "Backward0")
        self.variadic = variadic
        self.view = view
        # Indices of inputs converted to the output dtype before impl runs (and
        # before the scalar expression is evaluated in generated code).
        self.casts = tuple(casts)
        self.ufunc = hasattr(impl, "nin") and hasattr(impl, "reduce")
        self.into = into
        if vjp is None:
            self.vjp = None
        elif variadic:
            self.vjp = VJPRule(vjp, self)
        else:
            assert len(vjp) == len(self.inputs), f"{name}: one vjp entry per input"
            self.vjp = tuple(None if f is None else VJPRule(f, self) for f in vjp)

    @property
    def differentiable(self) -> bool:
        return self.vjp is not None

    def vjp_for(self, i: int):
        """The VJPRule of input i, or None when that input gets no gradient."""
        if self.vjp is None:
            return None
        return self.vjp if self.variadic else self.vjp[i]

    def grad_name(self, attrs: dict) -> str:
        n = self._grad_name
        return n if isinstance(n, str) else n(attrs)

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"


def register(prim: Primitive) -> Primitive:
    if prim.name in PRIMITIVES:
        raise ValueError(f"primitive {prim.name} is declared twice")
    PRIMITIVES[prim.name] = prim
    return prim

"""The primitive registry: each primitive declared once with every rule it needs.

A Primitive holds
  impl        its meaning, on NumPy arrays: impl(*arrays, **attrs) -> array
  shape_rule  abstract evaluation: shape_rule(*avals, **attrs) -> AVal
  vjp         one function per input, written with stepjit tensor methods so the
              same formula serves eager tape autograd and the IR autodiff pass;
              None for an input (or the whole op) that has no gradient
  kind        elementwise | reduction | scan (cumsum, sorts: along one axis) | matmul |
              movement | indexing | creation | random | collective (communication between
              the processes of a data-parallel job)
  expr        for elementwise ops, the scalar expression codegen emits,
              with {0}, {1}, ... for the operands and {attr} for attributes; for a
              reduction, what it combines of each element (default: the element)
  simd_expr   optional: the expression CPU loops emit instead, for a float result: a
              function of codegen/vmath.py, arithmetic the loop vectorizer turns into
              SIMD, within the error bound documented there (CUDA keeps expr)
  jvp         the forward-mode rule (autograd/forward_ad.py), derived for the common
              families unless given: "diagonal" (default for elementwise ops: the Jacobian
              is diagonal, so input i's tangent contribution is its VJP rule applied to the
              tangent), "weighted" (default for reductions: the VJP spreads the output
              gradient back times a weight per element, so the tangent is the sum of
              tangent times that weight), "linear" (the op is linear in its float inputs:
              the tangent is the op applied to the tangents, zeros for inputs without one,
              index inputs as they are), or one function per input, fn(t, <names>) -> that
              input's contribution, names as a vjp's; None: no forward mode (an error
              naming the primitive)
  grad_name   PyTorch's name for the backward node (string or fn(attrs) -> str)
  into        optional: into(*arrays, **attrs) writes impl's result into arrays[0]'s
              buffer (the eager in-place form, run when no autograd records);
              ufunc impls have it without saying (impl(*arrays, out=arrays[0]))

Facts the passes and backends read (docs/architecture.md, "Adding a primitive"):
  view        impl returns a view of its first input (NumPy basic indexing, reshape...):
              eagerly the result aliases it; compiled, a free view, never a copy
  may_copy    for a view: its impl copies where NumPy cannot make a view (reshape of a
              transposed array), so a write through it may not reach its input; the tracer
              checks such writes on the arrays' real layouts
  unview      for a view: unview(x, v, **attrs) -> the value x takes when its view is
              overwritten by v, written with tensor methods like a vjp (slice: slice_scatter;
              reshape, transpose: the inverse view of v). An in-place write through a view
              rebases the base's history on it (autograd/view_writes.py). None: the view
              cannot be written (expand: several elements share one)
  reduce      for a reduction the generated loops can compute: how it combines
              elements, "add" | "max" | "min" (identity 0, -inf, +inf); None: run by impl
  exact       elementwise and exactly rounded (or exact) per element, whatever the
              operands' size and layout: constant folding may evaluate it on one element.
              A function of the node when that depends on it (cast)
  keeps_uniform  a uniform operand (every element the same) gives a uniform result of
              that same value (reshape, expand, amax...): constant folding follows it
  pure        evaluating it twice on the same operands gives the same value and has no
              other effect (default: every kind but "random")
  accumulates its result is a sum of many products (sum, matmul): check mode scales its
              tolerance by the same op over absolute values
  float_closed  for an elementwise op: its `expr`, on float operands all of the result's dtype,
              computes in that dtype (Python's + - * / and unary -, as Numba types them on
              float32 or float64 scalars), so generated loops need not convert its result
  identity    ((operand index, value), ...): with that operand a literal equal to value (a
              zero of that sign, in a float result), the result is the other operand of a
              two-operand op, bit for bit (x * 1, x + -0.0, x - 0.0): simplification drops it
  lowering    how backends run it, one of LOWERINGS: "loop" (fused into generated loops:
              elementwise with an expr, or a reduction with `reduce`), "view", "matmul",
              "fill" (a constant), "size" (a number of its input's shape, such as a mean's
              divisor: filled from the shape the program runs on, never a literal of a
              kernel), "impl" (its NumPy impl; a host round trip on CUDA).
              Derived from the fields above unless given
  check       its value is a flag computed from data, > 0 where the impl raises (an input out
              of range): backends test it as soon as it is computed and raise the impl's error
              there, before anything is written back (its impl raises eagerly)
  native      how a native whole-program function (codegen/native_program.py) writes it: a
              template over {0}, {1}.., {xs} (all inputs) and attribute names, an expression
              whose value is the result; or a statement that writes the result into {out}, a
              buffer the program provides, and may fill {status} (an int64[3] buffer: flag, the
              input at fault, its bad value; the program stops when the flag is set and the
              caller raises the impl's error, ir/impl.py raise_check). A function of the node
              when that depends on it, returning None to refuse; None: a program holding it
              does not go native. native_when(attrs) may refuse cases
  native_first  a function of the node: True where a program that is not native still runs
              the node by its native form, because that beats its impl (index_put's scatter-add
              of rows, an embedding's gradient: np.add.at costs ~0.4 us a row, the native loop
              the same rows in the same order in ~1 us for all); needs `native`

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
         "random", "collective")
LOWERINGS = ("loop", "view", "matmul", "fill", "size", "impl")
REDUCES = ("add", "max", "min")
_SPECIAL = ("out", "in_shapes", "index")
JVP_FORMS = ("diagonal", "weighted", "linear")


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
                 "inputs", "attrs", "variadic", "ufunc", "view", "unview", "casts", "into",
                 "reduce", "exact", "keeps_uniform", "pure", "accumulates", "lowering",
                 "native", "native_when", "native_first", "simd_expr", "check", "identity",
                 "may_copy", "jvp", "float_closed")

    def __init__(self, name, kind, impl, shape_rule, *, inputs, attrs=(), vjp=None,
                 expr=None, grad_name=None, variadic=False, view=False, unview=None, casts=(),
                 into=None,
                 reduce=None, exact=False, keeps_uniform=False, pure=None, accumulates=False,
                 lowering=None, native=None, native_when=None, native_first=None,
                 simd_expr=None, check=False, identity=(), may_copy=False, jvp=None,
                 float_closed=False):
        assert kind in KINDS, kind
        assert reduce in REDUCES + (None,), reduce
        self.name = name
        self.kind = kind
        self.impl = impl
        self.shape_rule = shape_rule
        self.inputs = tuple(inputs)
        self.attrs = tuple(attrs)
        self.expr = expr
        self.simd_expr = simd_expr
        self._grad_name = grad_name or (name.capitalize() + "Backward0")
        self.variadic = variadic
        self.view = view
        self.unview = unview
        # Indices of inputs converted to the output dtype before impl runs (and
        # before the scalar expression is evaluated in generated code).
        self.casts = tuple(casts)
        self.ufunc = hasattr(impl, "nin") and hasattr(impl, "reduce")
        self.into = into
        self.reduce = reduce
        self.exact = exact
        self.keeps_uniform = keeps_uniform
        self.pure = kind != "random" if pure is None else pure
        self.accumulates = accumulates
        self.lowering = lowering or self._default_lowering()
        self.native = native
        self.native_when = native_when
        self.native_first = native_first
        self.check = check
        self.identity = tuple(identity)
        self.may_copy = may_copy
        self.float_closed = float_closed
        if vjp is None:
            self.vjp = None
        elif variadic:
            self.vjp = VJPRule(vjp, self)
        else:
            assert len(vjp) == len(self.inputs), f"{name}: one vjp entry per input"
            self.vjp = tuple(None if f is None else VJPRule(f, self) for f in vjp)
        self.jvp = self._jvp_rule(jvp)

    def _jvp_rule(self, jvp):
        if jvp is None and self.vjp is not None:
            return {"elementwise": "diagonal", "reduction": "weighted"}.get(self.kind)
        if jvp is None or isinstance(jvp, str):
            assert jvp in (None,) + JVP_FORMS, jvp
            return jvp
        assert len(jvp) == len(self.inputs), f"{self.name}: one jvp entry per input"
        return tuple(None if f is None else VJPRule(f, self) for f in jvp)

    def _default_lowering(self):
        if (self.kind == "elementwise" and self.expr is not None) or self.reduce is not None:
            return "loop"
        return "view" if self.view else "impl"

    def is_exact(self, node) -> bool:
        """`exact` for this node (see the module docstring)."""
        return self.exact(node) if callable(self.exact) else self.exact

    def expr_for(self, node) -> str:
        """The scalar expression template for this node (`expr` may depend on it)."""
        return self.expr(node) if callable(self.expr) else self.expr

    def native_for(self, node):
        """The native template for this node, or None where it has none (`native`)."""
        if callable(self.native):
            return self.native(node)
        if self.native is None or (self.native_when is not None and not self.native_when(node.attrs)):
            return None
        return self.native

    def runs_native(self, node) -> bool:
        """Whether a program that is not native runs node by its native form (`native_first`)."""
        return (self.native_first is not None and self.native_first(node)
                and self.native_for(node) is not None)

    def simd_expr_for(self, node):
        """The vectorizable template CPU loops emit for this node's float result, or None."""
        return self.simd_expr(node) if callable(self.simd_expr) else self.simd_expr

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


def bind(prim: Primitive, *args, **attrs):
    """Apply `prim` to tensors through the front end's one dispatch point: what a VJP rule
    calls for a primitive no Tensor method reaches (`bind(P.cumprod, x, axis=0)`).

    The registry sits below the front end, so it names the dispatch point instead of
    importing it: stepjit.dispatch puts its `apply` in DISPATCH when it is imported, which
    happens before any tensor exists, so before any rule runs."""
    return DISPATCH["apply"](prim, *args, **attrs)


DISPATCH = {"apply": None}


def register(prim: Primitive) -> Primitive:
    if prim.name in PRIMITIVES:
        raise ValueError(f"primitive {prim.name} is declared twice")
    PRIMITIVES[prim.name] = prim
    return prim

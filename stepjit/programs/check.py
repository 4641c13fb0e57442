"""Check mode: the IR interpreter runs beside the compiled program (docs/checking.md).

`stepjit.compile(fn, check=True)`, or STEPJIT_CHECK=1 in the environment when the function
is compiled, turns on two checks:

Values. Each segment program is built with every value materialized (the cpu backend's
`materialize_all`: every node of a fused loop is also an output of its kernel, nothing is
computed into a tensor's own buffer). After it runs, the source graph is walked in order
(forward, backward, update) and each node is evaluated by the interpreter's `run_impl` on
the values the compiled program actually gave its inputs (or, for a value the program never
made, such as one the optimizer removed, on the interpreter's own value). The first node
whose compiled value is outside tolerance raises a CheckError naming the value, its IR line,
the user's source line and the error. Because every op is checked on its real inputs,
rounding differences do not pile up along the graph, and the value named is the op that is
wrong, not the first place where drift became visible. The error is raised inside the
segment's run, before the runtime writes anything back to the step's tensors.

Custom Functions. The first time a check-mode trace applies an `autograd.Function` subclass
with grad enabled, its forward and backward are run eagerly in float64 on the step's actual
inputs, and backward's vector-Jacobian product is compared with finite differences of the
forward (central, or either one-sided difference at a kink) on a sample of input elements.

Tolerances: float32 |compiled - expected| <= 1e-4 * scale + 1e-5 * max(scale), float64
1e-10 and 1e-10, where scale is |expected| for elementwise ops and the same reduction or
matmul over absolute values (sum |x|, |A| @ |B|) for sums and matmuls, whose summation
order legitimately differs (the registry's `accumulates`). Integers and bools must be equal; NaN must match NaN.
"""
from __future__ import annotations

import contextlib
import os
import warnings

import numpy as np

from .. import config, dispatch
from ..ir.impl import run_impl
from ..errors import CheckError, user_location
from ..ir.graph import Value
from ..ir.printer import fmt_loc, format_node
from ..ir.types import FLOAT, AVal
from . import CHECK as PREFIX, build
from .program import Program
from ..autograd import function
from ..ir.interpreter import evaluate
from ..tensor import Tensor
from ..autograd.function import FunctionCtx
from ..autograd.grad_mode import no_grad

RTOL = {"float32": 1e-4, "float64": 1e-10}
ATOL = {"float32": 1e-5, "float64": 1e-10}


def enabled(check=None) -> bool:
    """check=True/False wins; None reads STEPJIT_CHECK (anything but '', '0' turns it on)."""
    if check is not None:
        return bool(check)
    return config.check()


# -- value checking: programs ----------------------------------------------------------------
class CheckedProgram(Program):
    """A backend program run with every value materialized, then checked against the
    interpreter (see the module docstring). `program` is the backend's own program."""
    materialize_all = True

    def __init__(self, graph, backend, keep=None):
        self.graph = graph
        self.backend = backend
        if backend == "cpu":
            from .cpu import CpuProgram
            self.program = CpuProgram(graph, keep, materialize_all=True)
        elif backend == "cuda":
            from .cuda import CudaProgram
            self.program = CudaProgram(graph, keep, materialize_all=True)
        else:
            # keep=None: "unknown reads after the run", so no value is computed into an input's
            # buffer: the inputs stay as they were for the check, and nothing is written early
            self.program = build(graph, backend, None)
        record = self.program.record
        self.opt_graph = graph if record is None else record.graph

    def run(self, env):
        env = self.program.run(env)
        if self.backend != "interpret":   # the interpreter is the oracle: nothing to compare
            check_values(self, env)
        return env

    @property
    def record(self):
        return self.program.record

    def kernel_sources(self):
        return self.program.kernel_sources()

    def unwrapped(self):
        return self.program.unwrapped()

    def where(self, v):
        """Which part of the compiled program computed v: a fused kernel or a single op."""
        for step in getattr(self.program, "steps", ()):
            outs = getattr(step, "outs", None)
            if outs is not None and v in outs:
                name = getattr(step.kernel, "path", None)
                name = os.path.splitext(os.path.basename(name))[0] if name else "a loop kernel"
                n = len(_group_of(self.program, v).nodes) if _group_of(self.program, v) else "?"
                return f"fused loop kernel {name} ({n} nodes)"
            node = getattr(step, "node", None)
            if node is not None and node.out is v:
                return f"op step ({node.prim.name}, NumPy/BLAS)"
        return f"{self.backend} program"


def _group_of(program, v):
    record = program.record
    for g in (record.fused.groups if record is not None else ()):
        if v in g.outputs:
            return g
    return None


def program_backend(backend: str, check: bool) -> str:
    """The backend name segment programs are built with: "check:cpu" in check mode. A backend
    without a materializing build is checked on the values its program leaves in env
    (outputs, writes, decisions), copied to the host."""
    return PREFIX + backend if check else backend


# -- value checking: the walk -----------------------------------------------------------------
def check_values(program, got):
    """Raise CheckError at the first node of program.graph (in graph order) whose compiled value
    in `got` disagrees with the interpreter run on the compiled values of its inputs."""
    graph = program.graph
    produced = {n.out for n in graph.nodes}
    # Nodes the optimizer introduced (outputs that are not values of the source graph): each is
    # checked against its own IR on the compiled inputs.
    for node in program.opt_graph.nodes:
        if node.out not in produced and node.out in got and all(
                x in got for x in node.inputs if isinstance(x, Value)):
            _check_node(program, node, [_arg(got, {}, x) for x in node.inputs], got[node.out])
    ref = {}
    for node in graph.nodes:
        args = [_arg(got, ref, x) for x in node.inputs]
        if node.out in got:
            _check_node(program, node, args, got[node.out])
        else:   # not materialized (removed or merged by the optimizer, inlined constant)
            ref[node.out] = _eval(node, args)


def _arg(got, ref, x):
    if not isinstance(x, Value):
        return x
    return _host(got[x]) if x in got else ref[x]


def _host(a):
    """A NumPy array for a backend's value (a device array is copied to the host)."""
    return a.copy_to_host() if hasattr(a, "copy_to_host") else a


def _eval(node, args):
    out = node.out
    return run_impl(node.prim, args, node.attrs, AVal(out.shape, out.dtype), node.loc)


def _check_node(program, node, args, value):
    expected = _eval(node, args)
    value = np.asarray(_host(value))
    out = node.out
    if value.shape != tuple(out.shape) or value.dtype != expected.dtype:
        _raise(program, node, f"the compiled value has type {value.dtype}{list(value.shape)}, "
               f"the IR says {out.type}", None, None, None, value, expected)
    if out.dtype.category != FLOAT:
        bad = value != expected
        if bad.any():
            idx = _index(np.argmax(bad.reshape(-1)), value.shape)
            n = int(bad.sum())
            _raise(program, node, f"{n} of {value.size} elements differ (exact match required for "
                   f"{out.dtype.name})", idx, None, None, value, expected)
        return
    name = out.dtype.name if out.dtype.name in RTOL else "float32"
    rtol, atol = _tolerance(node, name, value.dtype)
    scale = _scale(node, args, expected)
    with np.errstate(all="ignore"):
        v64 = value.astype(np.float64)
        e64 = expected.astype(np.float64)
        nan_v, nan_e = np.isnan(v64), np.isnan(e64)
        same = (v64 == e64) | (nan_v & nan_e)
        err = np.where(same, 0.0, np.abs(v64 - e64))
        err = np.where(np.isnan(err), np.inf, err)     # one NaN, or inf against another value
        finite = scale[np.isfinite(scale)]
        big = float(finite.max()) if finite.size else 0.0
        # (+ 16 smallest normals: results in the subnormal range keep only a few bits)
        bound = rtol * np.where(np.isfinite(scale), scale, 0.0) + atol * big \
            + 16 * float(np.finfo(value.dtype).tiny)
        ratio = err / bound
    bad = ratio > 1.0
    if bad.any():
        with np.errstate(all="ignore"):
            rel = err / np.maximum(np.abs(e64), np.finfo(np.float64).tiny)
        worst = int(np.argmax(np.where(bad, err, -1.0).reshape(-1)))  # the largest error out of bounds
        _raise(program, node, None, _index(worst, value.shape), float(err.max()),
               float(np.nanmax(rel)), value, expected,
               f"rtol {rtol:g} x {'|x| summed like the op' if node.prim.accumulates else '|expected|'}"
               f" + atol {atol:g} x {big:.3g} (the tensor's largest magnitude)")


# ulps allowed beyond a vectorized function's documented bound: NumPy's own float32 functions
# are not correctly rounded either (and a device's transcendentals have bounds of their own).
_SIMD_SLACK_ULPS = 4


def _tolerance(node, name, dtype):
    """(rtol, atol) for a node. An op CPU loops compute by a codegen/vmath.py function is held to
    that function's ulp bound (plus slack), relative to each element, not to the tensor's
    largest magnitude: an error far below the general 1e-4 but above the bound is a bug."""
    if node.prim.simd_expr is not None:
        from ..codegen.vmath import BOUND_ULPS
        ulps = BOUND_ULPS.get(node.prim.name, (0, 0))[0 if name == "float32" else 1]
        if ulps:
            return (ulps + _SIMD_SLACK_ULPS) * float(np.finfo(dtype).eps), 0.0
    return RTOL[name], ATOL[name]


def _scale(node, args, expected):
    """Per-element magnitude the tolerance is relative to."""
    if node.prim.accumulates:
        absargs = [np.abs(a) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
                   for a in args]
        with np.errstate(all="ignore"):
            return np.abs(_eval(node, absargs)).astype(np.float64)
    return np.abs(expected.astype(np.float64))


def _index(flat, shape):
    return tuple(int(i) for i in np.unravel_index(flat, shape)) if shape else ()


def _fmt(x):
    if isinstance(x, (np.floating, float)):
        return f"{float(x):.9g}"
    return repr(x.item() if hasattr(x, "item") else x)


def _raise(program, node, what, index, max_abs, max_rel, value, expected, tolerance=None):
    out = node.out
    name = "%" + out.name
    loc = node.loc
    line = fmt_loc(loc) if loc is not None else "<no source line>"
    if what is None:
        what = f"max abs error {max_abs:.3g}, max rel error {max_rel:.3g}"
    lines = [f"stepjit check: {program.backend} computed {name} wrongly (the first value out of "
             "tolerance, in graph order)",
             f"  op:       {format_node(node, show_loc=False)}",
             f"  line:     {line}",
             f"  error:    {what}"]
    if index is not None:
        lines.append(f"  at index {index}: compiled {_fmt(value[index])}, interpreter "
                     f"{_fmt(expected[index])}")
    if tolerance:
        lines.append(f"  allowed:  {tolerance}")
    lines.append(f"  computed by: {program.where(out)}; graph {program.graph.name}")
    lines.append("  Each op is checked on the inputs the compiled program gave it. Nothing was "
                 "written back to the step's tensors.")
    raise CheckError("\n".join(lines), value=name, op=format_node(node), loc=loc, index=index,
                     max_abs=max_abs, max_rel=max_rel)


# -- custom Functions: backward against finite differences -------------------------------------
_CHECKED_FUNCTIONS: set = set()
FD_EPS = 1e-6
FD_RTOL, FD_ATOL = 1e-3, 1e-5
FD_MAX_ELEMENTS = 32       # elements per input probed by finite differences (sampled beyond)


@contextlib.contextmanager
def function_checks():
    """While a check-mode trace runs: custom Functions applied with grad get their backward
    checked against finite differences (once per Function class and process)."""
    prev = getattr(function, "CHECK_HOOK", None)
    function.CHECK_HOOK = check_function
    try:
        yield
    finally:
        function.CHECK_HOOK = prev


def check_function(cls, args, kwargs):
    """Called by Function.apply during a check-mode trace, after forward, when grad is needed."""
    if cls in _CHECKED_FUNCTIONS:
        return
    tracer = dispatch.MODE.tracer
    if tracer is None:
        return
    _CHECKED_FUNCTIONS.add(cls)
    where = user_location(2)
    dispatch.MODE.tracer = None
    try:
        arrays = [_concrete(tracer, a) for a in args]
        _fd_check(cls, args, arrays, kwargs, where)
    except CheckError:
        _CHECKED_FUNCTIONS.discard(cls)   # raise again on the next trace that applies it
        raise
    except Exception as e:  # noqa: BLE001 - the check must not break a step it cannot check
        warnings.warn(f"stepjit check: could not check {cls.__name__}.backward by finite "
                      f"differences ({type(e).__name__}: {e})", UserWarning, stacklevel=4)
    finally:
        dispatch.MODE.tracer = tracer


def _concrete(tracer, a):
    if not isinstance(a, Tensor):
        return None
    d = a._data
    if isinstance(d, Value):
        if d not in tracer.env:
            evaluate(tracer.graph, tracer.env)
        return np.array(tracer.env[d])
    return np.array(d)


def _fd_check(cls, args, arrays, kwargs, where):
    rng = np.random.default_rng(0)
    needs = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
    xs = []
    for a, arr in zip(args, arrays):
        if arr is None:
            xs.append(a)
        elif arr.dtype.kind == "f":
            xs.append(Tensor._make(np.array(arr, dtype=np.float64)))
        else:
            xs.append(Tensor._make(arr))

    def forward():
        ctx = FunctionCtx()
        ctx.needs_input_grad = needs
        with no_grad():
            outs = cls.forward(ctx, *xs, **kwargs)
        return ctx, (outs if isinstance(outs, tuple) else (outs,))

    ctx, outs = forward()
    vs = [rng.standard_normal(o._data.shape) if isinstance(o, Tensor) and o.dtype.category == FLOAT
          and id(o) not in ctx._non_differentiable else None for o in outs]

    def phi(outs):
        return sum(float(np.sum(np.asarray(o._data, dtype=np.float64) * v))
                   for o, v in zip(outs, vs) if v is not None)

    grads = [Tensor._make(v.copy()) if v is not None else
             (Tensor._make(np.zeros(o._data.shape)) if isinstance(o, Tensor) else None)
             for o, v in zip(outs, vs)]
    with no_grad():
        result = cls.backward(ctx, *grads)
    if not isinstance(result, tuple):
        result = (result,)
    phi0 = phi(outs)
    for i, (x, need) in enumerate(zip(xs, needs)):
        if not need or x.dtype.category != FLOAT:
            continue
        g = result[i] if i < len(result) else None
        analytic = np.zeros(x._data.shape) if g is None else _sum_to(
            np.asarray(g._data, dtype=np.float64), x._data.shape)
        flat = x._data.reshape(-1)
        n = flat.size
        picks = range(n) if n <= FD_MAX_ELEMENTS else sorted(rng.choice(n, FD_MAX_ELEMENTS, replace=False))
        for j in picks:
            old = flat[j]
            eps = FD_EPS * max(1.0, abs(old))
            flat[j] = old + eps
            plus = phi(forward()[1])
            flat[j] = old - eps
            minus = phi(forward()[1])
            flat[j] = old
            central = (plus - minus) / (2 * eps)
            sides = ((plus - phi0) / eps, (phi0 - minus) / eps)
            a = float(analytic.reshape(-1)[j])
            if any(abs(a - d) <= FD_ATOL + FD_RTOL * abs(d) for d in (central,) + sides):
                continue
            idx = _index(j, x._data.shape)
            raise CheckError(
                f"stepjit check: custom Function {cls.__name__}: its backward disagrees with finite "
                f"differences for input {i} at index {idx}: backward gives {a:.9g}, finite "
                f"differences give {central:.9g} (central; one-sided {sides[0]:.9g} and "
                f"{sides[1]:.9g}){' (backward returned None)' if g is None else ''}.\n"
                f"  Checked in float64 on the step's actual inputs, for a random output gradient "
                f"(the vector-Jacobian product); {cls.__name__}.apply was called at {where}.",
                function=cls.__name__, input=i, index=idx)


def _sum_to(g, shape):
    """A gradient the input broadcasts to, summed back to the input's shape (as autograd does)."""
    if g.shape == tuple(shape):
        return g
    lead = g.ndim - len(shape)
    if lead > 0:
        g = g.sum(axis=tuple(range(lead)))
    axes = tuple(k for k, (a, b) in enumerate(zip(g.shape, shape)) if b == 1 and a != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g.reshape(shape)


__all__ = ["CheckError", "CheckedProgram", "enabled", "function_checks", "program_backend",
           "check_values", "check_function"]

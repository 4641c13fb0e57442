"""codegen/vmath.py: the vectorizable transcendentals stay within their documented ulp bounds
of NumPy over the whole float range (edges listed below, hypothesis elsewhere), give IEEE
results for inf, nan, -0.0, denormals and the overflow edges, are what CPU loops emit for
float results, and vectorize (no libm call per lane left in the loop)."""
import itertools
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numba import njit

import stepjit as torch
from stepjit.codegen import vmath
from stepjit.codegen.vmath import (BOUND_ULPS, verf, vexp, vexpm1, vlog, vlog1p, vpow,
                                   vsigmoid, vtanh)
from stepjit.ir.primitives.elementwise import _sigmoid_impl

NAMES = ("exp", "log", "tanh", "sigmoid", "log1p", "expm1")


@njit(error_model="numpy")
def _all(x, out):
    for i in range(x.size):
        v = x[i]
        out[0, i] = vexp(v)
        out[1, i] = vlog(v)
        out[2, i] = vtanh(v)
        out[3, i] = vsigmoid(v)
        out[4, i] = vlog1p(v)
        out[5, i] = vexpm1(v)


def _reference(name, x):
    """NumPy in float64, rounded to the input's dtype (float64: NumPy's own function)."""
    with np.errstate(all="ignore"):
        xd = x.astype(np.float64)
        fn = _sigmoid_impl if name == "sigmoid" else getattr(np, name)
        return fn(xd).astype(x.dtype)


def _ulps(a, b):
    """Distance in representable values; 0 for nan against nan, huge for nan against a number
    or for zeros of another sign."""
    ibits = np.int32 if a.dtype == np.float32 else np.int64
    mask = np.iinfo(ibits).max

    def ordered(v):
        i = v.view(ibits).astype(np.int64)
        return np.where(i < 0, -(i & mask), i)
    oa, ob = ordered(a), ordered(b)
    same = (oa < 0) == (ob < 0)      # int64 differences, exact where they cannot overflow
    d = np.where(same, np.abs(np.where(same, oa - ob, 0)).astype(np.float64),
                 np.abs(oa.astype(np.float64)) + np.abs(ob.astype(np.float64)))
    d[(a == 0) & (b == 0) & (np.signbit(a) != np.signbit(b))] = np.inf
    d[np.isnan(a) & np.isnan(b)] = 0
    d[np.isnan(a) != np.isnan(b)] = np.inf
    return d


def _check(x):
    out = np.empty((len(NAMES), x.size), x.dtype)
    _all(x, out)
    col = 0 if x.dtype == np.float32 else 1
    for k, name in enumerate(NAMES):
        want = _reference(name, x)
        d = _ulps(out[k], want)
        bound = BOUND_ULPS[name][col]
        bad = np.nonzero(d > bound)[0]
        assert bad.size == 0, (f"{name} {x.dtype}: {d[bad[0]]} ulps at x={x[bad[0]]!r}: "
                               f"got {out[k][bad[0]]!r}, NumPy {want[bad[0]]!r} (bound {bound})")


def _edges(dtype):
    fi = np.finfo(dtype)
    tiny, big = float(fi.smallest_subnormal), float(fi.max)
    base = [0.0, 1.0, 2.0, 0.5, math.e, 10.0, 1e-8, 1e-30, tiny, 2 * tiny, float(fi.tiny),
            float(fi.tiny) * 0.999, big, 1 + float(fi.eps), 1 - float(fi.epsneg), 1e-4, 4e-4,
            0.625, 9.0, 9.02, 19.1, 22.0, 30.0, 87.3, 88.72283, 88.72284, 89.0, 103.97, 103.98,
            104.0, 708.0, 709.78, 709.79, 745.13, 745.14, 746.0, 1e6, 1e30, 1e300, math.pi]
    vals = np.array([s * v for v in base for s in (1.0, -1.0)]
                    + [np.inf, -np.inf, np.nan, -1.0 + float(fi.epsneg)], np.float64)
    with np.errstate(over="ignore"):
        vals = vals.astype(dtype)
    with np.errstate(over="ignore"):
        nearby = [np.nextafter(vals, dtype(np.inf)), np.nextafter(vals, dtype(-np.inf))]
    return np.concatenate([vals] + nearby)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_edges_within_bounds_and_ieee(dtype):
    _check(_edges(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_binade_within_bounds(dtype):
    """A spread over every exponent of the format, both signs."""
    rng = np.random.default_rng(0)
    ibits, width = (np.uint32, 32) if dtype == np.float32 else (np.uint64, 64)
    bits = rng.integers(0, 2 ** width - 1, 20000, dtype=np.uint64).astype(ibits)
    x = np.concatenate([bits.view(dtype), rng.uniform(-30, 30, 20000).astype(dtype)])
    _check(x)


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(st.sampled_from([np.float32, np.float64]), st.integers(1, 64),
                  elements={"allow_nan": True, "allow_infinity": True, "allow_subnormal": True}))
def test_hypothesis_within_bounds(x):
    # elements draws respect each array's dtype (width 32 for float32 arrays)
    _check(x)


def test_special_values_exactly():
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -1.0, -5.0], np.float32)
    out = np.empty((len(NAMES), x.size), np.float32)
    _all(x, out)
    exp, log, tanh, sig, log1p, expm1 = out
    assert exp.tolist()[:4] == [1.0, 1.0, np.inf, 0.0] and np.isnan(exp[4])
    assert log.tolist()[:3] == [-np.inf, -np.inf, np.inf] and np.isnan(log[3])
    assert np.isnan(log[5]) and np.isnan(log[6])
    assert np.signbit(tanh[1]) and tanh[2] == 1.0 and tanh[3] == -1.0 and np.isnan(tanh[4])
    assert sig.tolist()[2:4] == [1.0, 0.0]
    assert np.signbit(log1p[1]) and log1p[5] == -np.inf and np.isnan(log1p[6])
    assert np.signbit(expm1[1]) and expm1[2] == np.inf and expm1[3] == -1.0


@njit(error_model="numpy")
def _pow(x, y, out):
    for i in range(x.size):
        out[i] = vpow(x[i], y[i])


def test_pow_float32_ieee_cases_and_bound():
    edge = np.array([0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, 3.0, -3.0, np.inf, -np.inf,
                     np.nan, 1e-40, -1e-40, 1e30, -1e30, 2.5, -2.5, 1e10, -1e10, 7.0, 0.3],
                    np.float32)
    x, y = (np.array(a, np.float32) for a in zip(*itertools.product(edge, edge)))
    rng = np.random.default_rng(1)
    x = np.concatenate([x, rng.uniform(0, 10, 5000).astype(np.float32)])
    y = np.concatenate([y, rng.uniform(-30, 30, 5000).astype(np.float32)])
    out = np.empty_like(x)
    _pow(x, y, out)
    with np.errstate(all="ignore"):
        want = (x.astype(np.float64) ** y.astype(np.float64)).astype(np.float32)
    d = _ulps(out, want)
    bad = np.nonzero(d > BOUND_ULPS["pow"][0])[0]
    assert bad.size == 0, [(x[i], y[i], out[i], want[i]) for i in bad[:5]]


def _loop_llvm(fn):
    @njit(error_model="numpy")
    def loop(a, o):
        for i in range(a.size):
            o[i] = fn(a[i])
    a = np.ones(64, np.float32)
    loop(a, np.empty_like(a))
    return loop.inspect_llvm(loop.signatures[0])


@pytest.mark.parametrize("name", ["vtanh", "vexp", "vlog", "verf"])
def test_loops_vectorize_with_no_libm_call(name):
    llvm = _loop_llvm(getattr(vmath, name))
    assert "x float>" in llvm or "x double>" in llvm     # the loop body works on vectors
    for libm in ("tanhf", "expf", "logf", "erff", "erf", "llvm.tanh", "llvm.exp", "llvm.log"):
        assert f"@{libm}" not in llvm


@njit(error_model="numpy")
def _erf_loop(x, out):
    for i in range(x.size):
        out[i] = verf(x[i])


def _erf_reference(x):
    """math.erf in float64 (NumPy has no erf), rounded to float32."""
    return np.array([math.erf(v) for v in x.astype(np.float64).tolist()]).astype(np.float32)


def test_erf_float32_within_bound_over_every_binade_and_edges():
    rng = np.random.default_rng(3)
    bits = rng.integers(0, 2 ** 32 - 1, 30000, dtype=np.uint64).astype(np.uint32)
    x = np.concatenate([bits.view(np.float32), np.linspace(-5, 5, 40001, dtype=np.float32),
                        _edges(np.float32),
                        np.array([0.9999999, 1.0, 1.0000001, 3.91, 3.92, 3.9999998, 4.0],
                                 np.float32)])
    x = np.concatenate([x, -x])
    out = np.empty_like(x)
    _erf_loop(x, out)
    d = _ulps(out, _erf_reference(x))
    bad = np.nonzero(d > BOUND_ULPS["erf"][0])[0]
    assert bad.size == 0, [(x[i], out[i]) for i in bad[:5]]


def test_eager_float32_erf_is_the_same_algorithm_within_bound():
    """The eager impl evaluates verf's polynomials with NumPy: within the bound of math.erf and
    within an ulp of the compiled loop's value (their float64 exp may differ in the last bit)."""
    from stepjit.ir.primitives.erf_float32 import erf_float32
    x = np.concatenate([np.linspace(-5, 5, 20001, dtype=np.float32), _edges(np.float32)])
    eager = erf_float32(x)
    assert eager.dtype == np.float32
    assert _ulps(eager, _erf_reference(x)).max() <= BOUND_ULPS["erf"][0]
    compiled = np.empty_like(x)
    _erf_loop(x, compiled)
    assert _ulps(eager, compiled).max() <= 1


def test_eager_float32_erf_does_not_import_numba():
    """GELU's eager erf (a compiled step's first, interpreted call) runs without Numba, whose
    import was most of a warm process's first call."""
    code = ("import sys, numpy as np, stepjit as t\n"
            "t.nn.functional.gelu(t.tensor(np.float32([0.5, -1.0])))\n"
            "assert 'numba' not in sys.modules, 'numba imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=120)


def test_erf_special_values_exactly():
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 10.0, -10.0], np.float32)
    out = np.empty_like(x)
    _erf_loop(x, out)
    assert out.tolist()[:4] == [0.0, 0.0, 1.0, -1.0] and np.signbit(out[1]) and np.isnan(out[4])
    assert out.tolist()[7:] == [1.0, -1.0] and out[5] > 0 and out[6] < 0
    x64 = np.array([0.5, -2.0, 0.0], np.float64)        # float64 keeps math.erf
    out64 = np.empty_like(x64)
    _erf_loop(x64, out64)
    assert out64.tolist() == [math.erf(v) for v in x64.tolist()]


def test_compiled_step_uses_vmath_within_bound_of_eager():
    """CPU loops emit the vmath functions for float results; compiled values stay within the
    documented bound of eager's NumPy values."""
    x0 = np.linspace(-6, 6, 257, dtype=np.float32)

    def f(x):
        return (x.tanh(), x.exp(), (x.abs() + 0.5).log(), x.sigmoid(), x.abs().log1p(),
                (x.abs() + 0.25) ** 1.5, x.erf())
    fn = torch.compile(f)
    got = fn(torch.tensor(x0))
    with torch.no_grad():
        want = f(torch.tensor(x0))
    for g, w, name in zip(got, want, ["tanh", "exp", "log", "sigmoid", "log1p", "pow", "erf"]):
        bound = BOUND_ULPS[name][0] + 1        # + NumPy's own float32 error
        assert _ulps(g.numpy(), w.numpy()).max() <= bound, name
    src = "".join(s for _, prog in fn.programs.values() for s in prog.kernel_sources())
    for call in ("vtanh(", "vexp(", "vlog(", "vsigmoid(", "vlog1p(", "vpow(", "verf("):
        assert call in src


def test_float64_pow_and_integer_results_keep_the_exact_expression():
    fn = torch.compile(lambda x, n: (x ** 2.5, n * 3))
    x = torch.tensor(np.array([0.5, 2.0, 9.0]))
    n = torch.tensor(np.array([1, 2, 3]))
    r, m = fn(x, n)
    np.testing.assert_array_equal(r.numpy(), np.array([0.5, 2.0, 9.0]) ** 2.5)
    np.testing.assert_array_equal(m.numpy(), [3, 6, 9])


_CACHED_CALLS = """
import math
import numpy as np
from numba import njit
from stepjit.codegen.vmath import vexp, vlog, vsigmoid, vtanh

@njit(cache=False)
def f(x, y):
    return vexp(x) + vsigmoid(x) + vlog(y) + vtanh(y)

want = math.exp(0.5) + 1 / (1 + math.exp(-0.5)) + math.log(2.0) + math.tanh(2.0)
assert abs(f(np.float32(0.5), np.float64(2.0)) - want) < 1e-6
"""


def test_a_second_process_loads_every_vmath_function_from_numba_cache(tmp_path):
    """What generated code calls (vexp, ...) compiles once per dtype into Numba's cache and a
    later process loads it: no process adds entries to the cache after the first one (each
    process used to compile a closure around the typed function again and add its entry)."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))

    def run():
        subprocess.run([sys.executable, "-c", _CACHED_CALLS], check=True, env=env, timeout=300)
        return sorted(p.name for p in tmp_path.rglob("*.nbc"))
    first = run()
    assert first and run() == first

"""A loop kernel converts only what is not already of its IR dtype (codegen/loops.py): float
arithmetic whose operands all have the result's dtype (`float_closed` in the registry) is
written bare, and a typed constant is named once before the loops (`c0 = np.float32(0.5)`)
instead of converted at each use. Numba types and lowers every `np.float32(...)` as a function
call, which cost a third of a small kernel's compile. The values are the same bit for bit:
float32 arithmetic on float32 operands is what the conversion rounded to anyway."""
import re

import numpy as np

import stepjit as torch


def _kernels(fn):
    return [src for _, prog in fn.programs.values() for src in prog.kernel_sources()]


def _code(src):
    return "\n".join(line.split("  #")[0] for line in src.splitlines()
                     if not line.startswith(("import", "from", "#", " " * 36)))


def _step(x, y, z):
    return (x - y) * 0.5 + (y * 0.5) / (z + 2.0)


def _compiled(dtype):
    """The compiled step, and its two calls' results with eager's, each bit for bit."""
    rng = np.random.default_rng(0)
    args = [rng.standard_normal((6, 5)).astype(dtype) for _ in range(3)]
    fn = torch.compile(_step)
    want = _step(*map(torch.from_numpy, args)).numpy()
    for _ in range(2):
        got = fn(*map(torch.from_numpy, args)).numpy()
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, want)
    return fn


def test_float32_arithmetic_is_not_converted_and_constants_are_named_once():
    fn = _compiled(np.float32)
    code = "\n".join(_code(s) for s in _kernels(fn))
    assert "np.float32((" not in code, code   # no conversion of (a - b), (a * c0), ...
    hoisted = re.findall(r"^    (c\d+) = np\.float32\((.*)\)$", code, re.M)
    values = [v for _, v in hoisted]
    assert "0.5" in values and "2.0" in values, code
    # each constant is typed once per kernel, before its loops
    for src in _kernels(fn):
        consts = re.findall(r"^    c\d+ = (np\.float32\(.*\))$", _code(src), re.M)
        assert len(consts) == len(set(consts))
        assert _code(src).count("np.float32(0.5)") <= 1


def test_float64_arithmetic_is_not_converted():
    fn = _compiled(np.float64)
    code = "\n".join(_code(s) for s in _kernels(fn))
    assert "np.float64((" not in code, code


def test_mixed_and_integer_operands_keep_their_conversions():
    """An int64 operand of a float32 op is converted where it is read; integer results stay
    converted (Numba's integer typing is not the IR's); reductions' float64 accumulators are
    converted back to float32."""
    x0 = np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4)
    k0 = np.arange(12, dtype=np.int64).reshape(3, 4)

    def step(x, k):
        return x * k, k * 3 + 1, (x * x).sum(1)

    fn = torch.compile(step)
    want = [t.numpy() for t in step(torch.from_numpy(x0), torch.from_numpy(k0))]
    for _ in range(2):
        got = [t.numpy() for t in fn(torch.from_numpy(x0), torch.from_numpy(k0))]
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])
        np.testing.assert_allclose(got[2], want[2], rtol=1e-6)   # (summed in float64)
    code = "\n".join(_code(s) for s in _kernels(fn))
    assert re.search(r"np\.float32\(t\d+\)", code), code       # the int64 operand, converted
    assert "np.int64((" in code, code                            # integer arithmetic
    assert re.search(r"= np\.float32\(acc\d+", code), code       # an accumulator, rounded

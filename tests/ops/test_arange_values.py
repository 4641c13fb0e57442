"""A float arange is start + i * step rounded once, as PyTorch defines it (its CPU kernel
computes in float64). NumPy's float32 arange steps by a float32 difference, so its error
grows with i: arange(-3, 3.1, 0.1) had -2.9e-06 where 0 belongs and 0.099997 for 0.1 (the
activation-function plots of Deep Learning with PyTorch ch. 6 printed those)."""
import numpy as np
import pytest

import stepjit

CASES = [(-3, 3.1, 0.1), (0, 1, 0.01), (1.5, -2.25, -0.3), (-10, 10, 0.05), (0.0, 7.0)]


def _exact(start, stop, step=1.0):
    n = int(np.ceil((stop - start) / step))
    return start + step * np.arange(n, dtype=np.float64)


@pytest.mark.parametrize("args", CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_each_element_is_rounded_once(args, dtype):
    got = stepjit.arange(*args, dtype=getattr(stepjit, dtype)).numpy()
    want = _exact(*args).astype(dtype)
    np.testing.assert_array_equal(got, want)


def test_the_chapter_values():
    x = stepjit.arange(-3, 3.1, 0.1)
    assert x.dtype is stepjit.float32 and tuple(x.shape) == (61,)
    assert abs(x[30].item()) < 1e-15 and x[31].item() == np.float32(0.1)


def test_in_a_compiled_step_as_eagerly():
    step = stepjit.compile(lambda w: w * stepjit.arange(-3, 3.1, 0.1))
    w = stepjit.ones(61)
    for _ in range(2):
        np.testing.assert_array_equal(step(w).numpy(), _exact(-3, 3.1, 0.1).astype(np.float32))


def test_against_live_pytorch():
    torch = pytest.importorskip("torch")
    for args in CASES:
        want = torch.arange(*args).numpy()
        got = stepjit.arange(*args).numpy()
        # PyTorch's vector lanes add i * step to a rounded block start: an ulp, never more
        np.testing.assert_allclose(got, want, rtol=0, atol=4 * np.spacing(np.float32(np.abs(want).max())))


# PyTorch 2.13's integer aranges with float bounds or step: int64 truncates start, end and
# step before counting; the other integer types count in float64 and truncate start and step
INTEGER_RECORDED = [
    ((0, 5, 2.5), "int64", [0, 2, 4]), ((0, 5, 2.5), "int32", [0, 2]),
    ((-1.5, 4, 1.5), "int64", [-1, 0, 1, 2, 3]), ((-1.5, 4, 1.5), "int32", [-1, 0, 1, 2]),
    ((0, 5.5, 1), "int64", [0, 1, 2, 3, 4]), ((0, 5.5, 1), "int16", [0, 1, 2, 3, 4, 5]),
    ((1.9, 7.2, 2.2), "int64", [1, 3, 5]), ((1.9, 7.2, 2.2), "int32", [1, 3, 5]),
    ((5, 0, -1.5), "int64", [5, 4, 3, 2, 1]), ((5, 0, -1.5), "uint8", [5, 4, 3, 2]),
    ((-1.5, 4, 1.5), "uint8", [255, 0, 1, 2]), ((0, 10, 3), "int64", [0, 3, 6, 9]),
]


@pytest.mark.parametrize("args,dtype,want", INTEGER_RECORDED)
def test_integer_arange_with_float_arguments(args, dtype, want):
    got = stepjit.arange(*args, dtype=getattr(stepjit, dtype))
    assert got.tolist() == want and got.dtype is getattr(stepjit, dtype)


def test_integer_arange_against_live_pytorch():
    torch = pytest.importorskip("torch")
    for dtype in ("int64", "int32", "int16", "uint8"):
        for args in [(0.5, 5.5, 1), (2, 9, 2), (0.3, 9.9, 3.7), (7.5, -2, -2.5), (0, 100, 7)]:
            want = torch.arange(*args, dtype=getattr(torch, dtype)).tolist()
            assert stepjit.arange(*args, dtype=getattr(stepjit, dtype)).tolist() == want, (dtype, args)


@pytest.mark.parametrize("args", [(5, 0, 1), (0, 5, -1), (0.0, -1.5, 0.5), (3, 1)])
def test_bounds_against_the_step_sign_raise_as_pytorch_does(args):
    # PyTorch 2.13: RuntimeError "upper bound and lower bound inconsistent with step sign"
    with pytest.raises(RuntimeError, match="inconsistent with step sign"):
        stepjit.arange(*args)
    assert stepjit.arange(2, 2, -1).shape == (0,) and stepjit.arange(0, 0).shape == (0,)

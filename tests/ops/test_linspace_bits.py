"""linspace equals PyTorch's to the last bit (ops/spacing.py): the expected values below were
printed by PyTorch 2.13 (float.hex of each element); a live PyTorch, where installed, checks
thousands more. np.linspace, used before, rounds differently (the middle of
linspace(-1, 1, 7) is 0.0 there, -2**-25 in PyTorch's float32), which moved the spatial
transformer tutorial's identity grid off the pixel centres."""
import numpy as np
import pytest

import stepjit

RECORDED = [
    ((-1, 1, 7), "float32", ["-0x1.0000000000000p+0", "-0x1.5555540000000p-1",
                             "-0x1.5555540000000p-2", "-0x1.0000000000000p-25",
                             "0x1.5555540000000p-2", "0x1.5555540000000p-1",
                             "0x1.0000000000000p+0"]),
    ((0, 6.283185307179586, 5), "float32", ["0x0.0p+0", "0x1.921fb60000000p+0",
                                            "0x1.921fb60000000p+1", "0x1.2d97c80000000p+2",
                                            "0x1.921fb60000000p+2"]),
    ((-1, 1, 7), "float64", ["-0x1.0000000000000p+0", "-0x1.5555555555556p-1",
                             "-0x1.5555555555556p-2", "0x1.0000000000000p-54",
                             "0x1.5555555555556p-2", "0x1.5555555555556p-1",
                             "0x1.0000000000000p+0"]),
    ((0, 6.283185307179586, 5), "float64", ["0x0.0p+0", "0x1.921fb54442d18p+0",
                                            "0x1.921fb54442d18p+1", "0x1.2d97c7f3321d2p+2",
                                            "0x1.921fb54442d18p+2"]),
]


@pytest.mark.parametrize("args,dtype,want", RECORDED)
def test_recorded_pytorch_bits(args, dtype, want):
    got = stepjit.linspace(*args, dtype=getattr(stepjit, dtype)).numpy()
    assert [float(v).hex() for v in got] == want


def test_integer_linspace_truncates_the_ends_first():
    # PyTorch: linspace(-3.5, 10.25, 6, dtype=int64) == [-3, 0, 2, 4, 7, 10]
    got = stepjit.linspace(-3.5, 10.25, 6, dtype=stepjit.int64)
    assert got.tolist() == [-3, 0, 2, 4, 7, 10] and got.dtype is stepjit.int64


def test_edges():
    assert stepjit.linspace(2.5, 7, 1).tolist() == [2.5]
    assert tuple(stepjit.linspace(0, 1, 0).shape) == (0,)
    with pytest.raises(RuntimeError):
        stepjit.linspace(0, 1, -1)


def test_against_live_pytorch():
    torch = pytest.importorskip("torch")
    for dtype in ("float32", "float64", "int64"):
        for n in list(range(0, 120)) + [1000, 4097]:
            for a, b in [(-1, 1), (0.0, 6.283185307179586), (-3.5, 10.25), (5, -2), (0.1, 0.7)]:
                want = torch.linspace(a, b, n, dtype=getattr(torch, dtype)).numpy()
                got = stepjit.linspace(a, b, n, dtype=getattr(stepjit, dtype)).numpy()
                np.testing.assert_array_equal(got, want, err_msg=f"{dtype} {a} {b} {n}")

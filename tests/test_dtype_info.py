"""finfo / iinfo against NumPy's limits for the same storage type (PyTorch reports those)."""
import numpy as np
import pytest

import stepjit


@pytest.mark.parametrize("dtype,np_dtype", [(stepjit.float32, np.float32),
                                            (stepjit.float64, np.float64)])
def test_finfo_matches_numpy(dtype, np_dtype):
    fi, ni = stepjit.finfo(dtype), np.finfo(np_dtype)
    assert (fi.bits, fi.eps, fi.max, fi.min, fi.tiny, fi.resolution) == (
        ni.bits, float(ni.eps), float(ni.max), float(ni.min), float(ni.smallest_normal),
        10.0 ** -ni.precision)
    assert fi.smallest_normal == fi.tiny and fi.dtype == dtype.name


def test_finfo_default_is_the_default_float_and_eps_is_a_python_float():
    assert stepjit.finfo().eps == np.finfo(np.float32).eps
    assert isinstance(stepjit.finfo(stepjit.float).eps, float)
    assert stepjit.finfo(stepjit.float32).eps == np.finfo(np.float32).eps.item()


@pytest.mark.parametrize("dtype,np_dtype", [(stepjit.int32, np.int32), (stepjit.int64, np.int64)])
def test_iinfo_matches_numpy(dtype, np_dtype):
    ii = stepjit.iinfo(dtype)
    assert (ii.bits, ii.max, ii.min) == (np.iinfo(np_dtype).bits, int(np.iinfo(np_dtype).max),
                                         int(np.iinfo(np_dtype).min))


def test_wrong_kind_of_dtype_is_a_type_error():
    with pytest.raises(TypeError, match="floating point"):
        stepjit.finfo(stepjit.int64)
    with pytest.raises(TypeError, match="integer"):
        stepjit.iinfo(stepjit.float32)
    with pytest.raises(TypeError, match="integer"):
        stepjit.iinfo(stepjit.bool)


def test_live_pytorch_agrees():
    torch = pytest.importorskip("torch")
    for name in ("float32", "float64"):
        a, b = stepjit.finfo(getattr(stepjit, name)), torch.finfo(getattr(torch, name))
        assert (a.eps, a.max, a.min, a.tiny, a.bits, a.resolution) == (
            b.eps, b.max, b.min, b.tiny, b.bits, b.resolution)
    for name in ("int32", "int64"):
        a, b = stepjit.iinfo(getattr(stepjit, name)), torch.iinfo(getattr(torch, name))
        assert (a.max, a.min, a.bits) == (b.max, b.min, b.bits)

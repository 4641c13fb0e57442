"""Memory formats and layouts as accepted names, torch.version, torch.testing.assert_close
(PyTorch's default tolerances by dtype)."""
import pickle

import numpy as np
import pytest

import stepjit


def test_memory_formats_change_no_value():
    x = stepjit.randn(2, 3, 4, 4)
    for fmt in (stepjit.channels_last, stepjit.contiguous_format, stepjit.preserve_format):
        np.testing.assert_array_equal(x.contiguous(memory_format=fmt).numpy(), x.numpy())
        np.testing.assert_array_equal(x.clone(memory_format=fmt).numpy(), x.numpy())
    assert isinstance(stepjit.channels_last, stepjit.memory_format)
    assert isinstance(stepjit.strided, stepjit.layout)
    assert pickle.loads(pickle.dumps(stepjit.channels_last)) is stepjit.channels_last
    assert repr(stepjit.channels_last) == "stepjit.channels_last"


def test_version():
    assert stepjit.version.__version__ == stepjit.__version__
    assert stepjit.version.cuda is None


def test_version_is_pytorchs_that_stepjit_follows():
    """Programs branch on torch.__version__ (`>= "1.10"`, `>= (2, 0)`, split on dots): it is
    the PyTorch release whose API stepjit follows, stepjit's own version as the local label,
    and compares as PyTorch's TorchVersion does; pyproject.toml states stepjit's version."""
    import pathlib
    import re
    v = stepjit.__version__
    assert v.startswith(stepjit.version.PYTORCH_API + "+stepjit" + stepjit.version.stepjit)
    assert v >= "1.10" and v > "2.0" and v >= (2, 0) and v < (3,) and v < "2.13.1"
    assert v == "2.13" and v == "2.13.0" and v == (2, 13, 0) and v != "2.12" and v != "2.13.0+cpu"
    assert not v < "2.13.0" and v <= "2.13.0" and "1.9.0a0" < v
    assert int(v.split(".")[0]) >= 2 and v.split("+")[0] == "2.13.0"
    assert isinstance(v, str) and hash(v) == hash(str(v)) and f"{v}" == str(v)
    toml = (pathlib.Path(stepjit.__file__).parent.parent / "pyproject.toml")
    if toml.exists():
        assert re.search(r'^version = "(.*)"', toml.read_text(), re.M).group(1) == \
            stepjit.version.stepjit


def test_assert_close_uses_pytorchs_tolerances():
    x = stepjit.tensor([1.0, 2.0])
    stepjit.testing.assert_close(x, x + 1e-6)              # float32: rtol 1.3e-6, atol 1e-5
    with pytest.raises(AssertionError, match="not close"):
        stepjit.testing.assert_close(x, x + 1e-4)
    d = stepjit.tensor([1.0, 2.0], dtype=stepjit.float64)
    with pytest.raises(AssertionError, match="not close"):
        stepjit.testing.assert_close(d, d + 1e-6)          # float64: 1e-7 both
    with pytest.raises(AssertionError, match="dtype"):
        stepjit.testing.assert_close(x, d)
    with pytest.raises(AssertionError, match="shape"):
        stepjit.testing.assert_close(x, x[:1])
    stepjit.testing.assert_close(stepjit.tensor([3]), stepjit.tensor([3]))
    stepjit.testing.assert_close([x, {"a": x}], [x.clone(), {"a": x.clone()}])
    stepjit.testing.assert_close(x, x + 0.5, rtol=0.0, atol=0.5)
    nan = stepjit.tensor([float("nan")])
    with pytest.raises(AssertionError):
        stepjit.testing.assert_close(nan, nan)
    stepjit.testing.assert_close(nan, nan, equal_nan=True)


def test_assert_close_agrees_with_pytorch():
    torch = pytest.importorskip("torch")
    for dtype, delta in (("float32", 5e-6), ("float32", 5e-5), ("float64", 5e-8), ("float64", 5e-7)):
        a = np.array([1.0, -2.0, 3.0], dtype=dtype)
        outcomes = []
        for T, check in ((torch, torch.testing.assert_close), (stepjit, stepjit.testing.assert_close)):
            try:
                check(T.from_numpy(a.copy()), T.from_numpy(a + delta))
                outcomes.append(True)
            except AssertionError:
                outcomes.append(False)
        assert outcomes[0] == outcomes[1], (dtype, delta)

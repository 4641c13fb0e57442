"""bfloat16 storage (tests/ops/bfloat16_cases.py) against PyTorch's recorded values and a live
PyTorch where installed; what stays unsupported raises, naming the op, shapes and line."""
import warnings
from pathlib import Path

import numpy as np
import pytest

import stepjit
from tests.fixtures import checks
from tests.ops.bfloat16_cases import CASES, X


class TestAgainstPyTorch(checks.CaseTable):
    cases = CASES
    recording = Path(__file__).parents[1] / "fixtures" / "bfloat16" / "torch_bfloat16.npz"

    def check(self, got, want, case):
        checks.same_dtypes_and_values(got, want, case.name)


def test_compute_on_bfloat16_is_refused_naming_the_op():
    b = stepjit.from_numpy(X).to(stepjit.bfloat16)
    bits = b.view(stepjit.int16).clone()
    for fn, op in [(lambda: b + b, "add"), (lambda: b * 2.0, "mul"), (lambda: b.sum(), "sum"),
                   (lambda: b @ b.t(), "matmul")]:
        with pytest.raises(NotImplementedError, match=rf"{op}: stepjit stores bfloat16 tensors "
                           r"but computes only in float32 and float64.*bfloat16 \[3, 4\].*"
                           r"test_bfloat16.py:"):
            fn()
    with pytest.raises(TypeError, match="Got unsupported ScalarType BFloat16"):
        b.numpy()
    with pytest.raises(TypeError, match="stepjit does not compute in float16"):
        stepjit.zeros(2, dtype=stepjit.float16)
    with pytest.raises(RuntimeError, match="stride\\(-1\\) must be 1 to view float32 as int16"):
        stepjit.zeros(2, 3).t().view(stepjit.int16)
    assert stepjit.equal(b.view(stepjit.int16), bits)   # the failed calls left b unchanged


def test_view_dtype_shares_storage():
    x = stepjit.ones(2, 2)
    x.view(stepjit.int32)[0, 0] = 0
    assert x[0, 0].item() == 0.0


def test_a_compiled_step_meeting_bfloat16_runs_eagerly_with_a_warning():
    x = stepjit.from_numpy(X)

    def step(x):
        return x.to(stepjit.bfloat16).float() * 2

    compiled = stepjit.compile(step)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = compiled(x)
    assert any("makes a bfloat16 tensor" in str(w.message) for w in caught)
    np.testing.assert_array_equal(got.numpy(), step(x).numpy())
    bits = stepjit.compile(lambda x: x.view(stepjit.int32) + 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = bits(x)
    assert any("reinterpreting bytes is eager only" in str(w.message) for w in caught)
    np.testing.assert_array_equal(got.numpy(), X.view(np.int32) + 1)


def test_a_bfloat16_module_refuses_its_forward_naming_the_op_shapes_and_line():
    """Module.to(bfloat16) stores the parameters; running the layer is arithmetic, refused with
    the op, both shapes and the caller's line, and the parameters stay as they were."""
    lin = stepjit.nn.Linear(4, 3).to(stepjit.bfloat16)
    bits = lin.weight.view(stepjit.int16).clone()
    x = stepjit.ones(2, 4, dtype=stepjit.bfloat16)
    with pytest.raises(NotImplementedError, match=r"matmul: stepjit stores bfloat16 tensors but "
                       r"computes only in float32 and float64; convert with \.float\(\) first "
                       r"\(got bfloat16 \[2, 4\], bfloat16 \[4, 3\], at test_bfloat16.py:\d+"):
        lin(x)
    assert stepjit.equal(lin.weight.view(stepjit.int16), bits)
    out = lin.float()(x.float())                                # converted back: computes
    assert out.dtype is stepjit.float32 and out.shape == (2, 3)

"""uint8, int8 and int16 (tests/ops/int_dtype_cases.py) against PyTorch's recorded values
and dtypes, a live PyTorch where installed, and compiled steps against eager; and PyTorch's
errors for what these dtypes cannot do."""
from pathlib import Path

import numpy as np
import pytest

import stepjit
from stepjit.ir.types import result_type, AVal
from tests.fixtures import checks, oracle
from tests.ops.int_dtype_cases import CASES, U8

TABLE = oracle.load(Path(__file__).parents[1] / "fixtures" / "int_dtypes" / "torch_int_dtypes.npz")
IDS = [c.name for c in CASES]


@pytest.fixture
def float64_default():
    """The recorder runs with PyTorch's default dtype float64 (a Python float times an integer
    tensor is then float64): run stepjit the same way."""
    stepjit.set_default_dtype(stepjit.float64)
    yield
    stepjit.set_default_dtype(stepjit.float32)


def same(got, want, what):
    # (float gradients: sums that may round in another order)
    checks.same_dtypes_and_values(got, want, what, float_tol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_recorded_pytorch(case, float64_default):
    same(oracle.run(stepjit, case), TABLE[case.name], case.name)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_live_pytorch(case, float64_default):
    torch = pytest.importorskip("torch")
    same(oracle.run(stepjit, case), checks.run_torch(case, torch), case.name)


COMPILED = [c for c in CASES if c.compiled]


@pytest.mark.parametrize("case", COMPILED, ids=[c.name for c in COMPILED])
@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_compiled_matches_eager(case, backend):
    checks.compiled_outputs_equal_eager(case, backend)


def test_every_recorded_case_is_in_the_table():
    assert set(TABLE) == {c.name for c in CASES}


def test_promotion_table_is_pytorchs():
    """Every pair of integer dtypes promotes as torch.promote_types does (written out)."""
    d = stepjit
    want = {("uint8", "int8"): "int16", ("uint8", "int16"): "int16", ("uint8", "int32"): "int32",
            ("uint8", "int64"): "int64", ("int8", "int16"): "int16", ("int8", "int32"): "int32",
            ("int16", "int64"): "int64", ("uint8", "bool"): "uint8", ("int8", "bool"): "int8",
            ("uint8", "float32"): "float32", ("int16", "float64"): "float64"}
    for (a, b), r in want.items():
        for x, y in ((a, b), (b, a)):
            got = result_type(AVal((2,), getattr(d, x if x != "bool" else "bool")),
                              AVal((2,), getattr(d, y if y != "bool" else "bool")))
            assert got.name == r, (x, y, got)
            assert d.promote_types(getattr(d, x), getattr(d, y)) is getattr(d, r)


def test_names_and_legacy_types():
    x = stepjit.tensor([1, 2], dtype=stepjit.uint8)
    assert x.type() == "stepjit.ByteTensor"
    assert stepjit.short is stepjit.int16
    assert isinstance(x, stepjit.ByteTensor) and not isinstance(x, stepjit.CharTensor)
    assert repr(stepjit.int8) == "stepjit.int8"
    assert stepjit.iinfo(stepjit.uint8).max == 255 and stepjit.iinfo(stepjit.int16).min == -32768
    assert "dtype=stepjit.uint8" in repr(x)


def test_saved_and_loaded_bit_for_bit(tmp_path):
    ts = {"u8": stepjit.from_numpy(U8), "i8": stepjit.tensor([-3, 4], dtype=stepjit.int8),
          "i16": stepjit.tensor([-300, 9], dtype=stepjit.int16)}
    stepjit.save(ts, tmp_path / "ints.pt")
    back = stepjit.load(tmp_path / "ints.pt")
    for k, t in ts.items():
        assert back[k].dtype is t.dtype and np.array_equal(back[k].numpy(), t.numpy())


# -- errors PyTorch raises -------------------------------------------------------------------
def test_mean_of_integers_is_refused():
    with pytest.raises(RuntimeError, match="mean\\(\\): could not infer output dtype"):
        stepjit.tensor([1, 2], dtype=stepjit.uint8).mean()


def test_integer_tensors_cannot_require_grad():
    for dt in (stepjit.uint8, stepjit.int8, stepjit.int16):
        with pytest.raises(RuntimeError, match="floating point"):
            stepjit.tensor([1, 2], dtype=dt, requires_grad=True)
        x = stepjit.tensor([1, 2], dtype=dt)
        with pytest.raises(RuntimeError, match="floating point"):
            x.requires_grad_()
        assert not x.requires_grad


def test_python_values_out_of_range_are_refused_on_creation():
    with pytest.raises(RuntimeError, match="cannot be converted to type uint8 without overflow"):
        stepjit.tensor([1, 300], dtype=stepjit.uint8)
    with pytest.raises(RuntimeError, match="int8 without overflow"):
        stepjit.tensor([-129], dtype=stepjit.int8)
    assert stepjit.tensor([255], dtype=stepjit.uint8).tolist() == [255]


def test_a_narrow_int_model_input_trains_compiled():
    """ToTensor-style pixels into a compiled step: uint8 batches scaled in the step."""
    rng = np.random.default_rng(0)
    images = [stepjit.from_numpy(rng.integers(0, 256, (4, 6)).astype(np.uint8)) for _ in range(3)]

    def make():
        stepjit.manual_seed(0)
        return stepjit.nn.Linear(6, 1).double()

    def step(model, x):
        loss = (model(x.double() / 255) ** 2).mean()
        loss.backward()
        with stepjit.no_grad():
            for p in model.parameters():
                p -= 0.1 * p.grad
                p.grad = None
        return loss

    eager_model, comp_model = make(), make()
    compiled = stepjit.compile(step, backend="cpu")
    for x in images:
        a, b = step(eager_model, x), compiled(comp_model, x)
        np.testing.assert_allclose(b.item(), a.item(), rtol=1e-12)
    assert compiled.stats()["fallbacks"] == 0

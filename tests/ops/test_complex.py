"""Complex tensors (tests/ops/complex_cases.py) against PyTorch's recorded values and
gradients, a live PyTorch where installed, compiled vs eager; a rotary-embedding training step
compiled vs eager; and the errors for what complex tensors do not support."""
from pathlib import Path

import numpy as np
import pytest

import stepjit
from tests.fixtures import checks
from tests.ops.complex_cases import CASES, NOT_BY_DIFFERENCES, X0, Y, freqs_cis, rotary


class TestAgainstPyTorch(checks.CaseTable):
    cases = CASES
    recording = Path(__file__).parents[1] / "fixtures" / "complex" / "torch_complex.npz"

    def check(self, got, want, case):
        checks.same_dtypes_and_values(got, want, case.name, float_tol=1e-12)

    def by_differences(self, case):
        return bool(case.grad) and case.name not in NOT_BY_DIFFERENCES


class _RotaryAttention(stepjit.nn.Module):
    """Query and key projections rotated by LLaMA's complex rotary embedding (a buffer)."""

    def __init__(self):
        super().__init__()
        self.wq = stepjit.nn.Linear(8, 8, bias=False)
        self.wk = stepjit.nn.Linear(8, 8, bias=False)
        self.register_buffer("freqs_cis", freqs_cis(stepjit, 4, 16).to(stepjit.complex64),
                             persistent=False)

    def forward(self, x):
        b, t, _ = x.shape
        q, k = self.wq(x).view(b, t, 2, 4), self.wk(x).view(b, t, 2, 4)
        q, k = rotary(stepjit, q, k, self.freqs_cis[:t])
        return (q * k).sum(-1)


def test_rotary_training_step_compiles_and_matches_eager():
    x = stepjit.from_numpy(np.random.default_rng(1).standard_normal((2, 5, 8)).astype(np.float32))
    models = []
    for _ in range(2):
        stepjit.manual_seed(0)
        models.append(_RotaryAttention().to("cpu").float())
    assert models[0].freqs_cis.dtype is stepjit.complex64   # (Module.float keeps complex)

    def make_step(model):
        opt = stepjit.optim.SGD(model.parameters(), lr=0.5)

        def step(x):
            opt.zero_grad()
            loss = (model(x) ** 2).mean()
            loss.backward()
            opt.step()
            return loss
        return step

    eager, compiled = make_step(models[0]), stepjit.compile(make_step(models[1]))
    for _ in range(3):
        want, got = eager(x), compiled(x)
        np.testing.assert_allclose(got.item(), want.item(), rtol=1e-5)
    for a, b in zip(models[0].parameters(), models[1].parameters()):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert compiled.stats()["fallbacks"] == 0


def test_unsupported_ops_name_the_op_shape_and_line():
    x = stepjit.zeros(3, 4, 2)
    z = stepjit.view_as_complex(x)
    for fn, op in [(lambda: z.log(), "log"), (lambda: z.prod(), "prod"),
                   (lambda: stepjit.matmul(z, z), "matmul"), (lambda: z @ z, "matmul")]:
        with pytest.raises(RuntimeError, match=rf"{op}: not supported for complex tensors "
                                               r"\(got complex64 \[3, 4\], at test_complex.py:"):
            fn()
    with pytest.raises(RuntimeError, match="last dimension of size 2"):
        stepjit.view_as_complex(stepjit.zeros(3))
    with pytest.raises(RuntimeError, match="only supported for float and double tensors"):
        stepjit.view_as_complex(stepjit.zeros(3, 2, dtype=stepjit.int64))
    with pytest.raises(RuntimeError, match="view_as_real is only supported for complex tensors"):
        stepjit.view_as_real(x)
    with pytest.raises(RuntimeError, match="Expected object of scalar type Float but got scalar "
                                           "type Double"):
        stepjit.polar(stepjit.ones(2), stepjit.ones(2, dtype=stepjit.float64))
    with pytest.raises(RuntimeError, match="Expected both inputs to be Float or Double"):
        stepjit.complex(stepjit.ones(2, dtype=stepjit.int64), stepjit.ones(2))
    with pytest.raises(TypeError, match="only with polar, complex and view_as_complex"):
        stepjit.zeros(2, dtype=stepjit.cfloat)
    with pytest.raises(RuntimeError, match="real scalar outputs"):
        stepjit.view_as_complex(stepjit.ones(2, requires_grad=True)).backward()
    assert x.abs().sum().item() == 0   # the failed calls left x unchanged


def test_complex_arguments_to_a_compiled_step_are_refused_clearly():
    z = stepjit.polar(stepjit.ones(2), stepjit.zeros(2))
    step = stepjit.compile(lambda z: stepjit.view_as_real(z * z).sum())
    with pytest.raises(RuntimeError, match="not supported for complex tensors"):
        step(z)


def test_graph_walk_and_hooks():
    x = stepjit.randn(2, 4, 2, requires_grad=True)
    z, w = stepjit.view_as_complex(x), stepjit.polar(stepjit.ones(2, 4), stepjit.ones(2, 4))
    node = (z * w).grad_fn   # PyTorch's: MulBackward0 -> ViewAsComplexBackward0 -> the leaf
    assert type(node).__name__ == "MulBackward0" and node.next_functions[1] == (None, 0)
    inner = node.next_functions[0][0]
    assert type(inner).__name__ == "ViewAsComplexBackward0"
    assert inner.next_functions[0][0].variable is x
    with pytest.raises(RuntimeError, match="register_hook: not supported for complex tensors"):
        z.register_hook(lambda g: g)


def test_copies_and_pickles_of_a_model_with_a_complex_buffer():
    import copy
    import pickle
    model = stepjit.nn.Module()
    model.register_buffer("freqs_cis", freqs_cis(stepjit, 4, 3), persistent=False)
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert clone.freqs_cis.dtype is stepjit.complex128
        assert clone.freqs_cis._pair is not model.freqs_cis._pair
        np.testing.assert_array_equal(clone.freqs_cis.numpy(), model.freqs_cis.numpy())


def test_complex_functions_in_a_compiled_step_match_eager():
    """abs, angle, exp, sum, mean and torch.mul/add of complex tensors inside a compiled step
    (interpret backend: bit for bit), with the gradient reaching a real leaf, z = 0 included."""
    def step(x, y):
        z, w = stepjit.view_as_complex(x), stepjit.view_as_complex(y)
        u = stepjit.add(stepjit.mul(z, w), z.exp(), alpha=0.5)
        loss = (u.abs() * z.angle()).mean() + stepjit.view_as_real(u.sum(0)).pow(2).sum() \
            + u.mean().abs()
        loss.backward()
        return loss

    results = []
    for fn in (step, stepjit.compile(step, backend="interpret")):
        x = stepjit.from_numpy(X0.copy()).requires_grad_()
        y = stepjit.from_numpy(Y.copy())
        for _ in range(2):
            loss = fn(x, y)
        results.append((loss.item(), x.grad.numpy().copy()))
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])
    assert np.isfinite(results[1][1]).all()

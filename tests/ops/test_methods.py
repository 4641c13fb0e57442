"""Tensor methods (tests/ops/method_cases.py) against PyTorch's recorded values and gradients
and a live PyTorch where installed; unfold and select compiled against eager; and PyTorch's
errors for their bad arguments, naming the op, the shapes and the line."""
from pathlib import Path

import numpy as np
import pytest

import stepjit
from tests.fixtures import checks
from tests.ops.method_cases import CASES, X
from tests.ops.step_checks import compiled_matches_eager


class TestAgainstPyTorch(checks.CaseTable):
    """Recorded values and gradients, dtypes exact; a live PyTorch where installed."""
    cases = CASES
    recording = Path(__file__).parents[1] / "fixtures" / "methods" / "torch_methods.npz"

    def by_differences(self, case):
        """Ties, NaN inputs and in-place chains are these tables' point: there PyTorch's
        gradient is a convention, not a derivative, so its recording is the reference."""
        return False

    def check(self, got, want, case):
        checks.same_dtypes_and_values(got, want, case.name, float_tol=1e-12)


def test_unfold_and_select_compile_with_their_gradients():
    def step(x):
        y = x.unfold(1, 2, 1).sum(-1) * x.select(1, 0).unsqueeze(1)
        loss = (y * y).sum()
        loss.backward()
        return loss.detach()

    compiled_matches_eager(step, stepjit.tensor(X, requires_grad=True))


def test_quantile_cov_fmax_and_scatter_reduce_compile_with_their_gradients():
    index = stepjit.tensor([[0, 2, 0, 4, 1], [1, 1, 1, 3, 0], [4, 4, 0, 0, 2]])

    def step(x):
        y = x.quantile(0.3, dim=1).sum() + x.cov().sum() + stepjit.fmax(x, x.flip(0)).sum()
        y = y + (x.scatter_reduce(1, index, x * 2, "amax") * x).sum()
        y = y + x.scatter_reduce(1, index, x, "mean", include_self=False).sum()
        y.backward()
        return y.detach()

    # (quantile's NaN constant is the same constant on every call: no stale trace)
    compiled_matches_eager(step, stepjit.tensor(X, requires_grad=True), stale=True)


ERRORS = [
    ("split_sizes_sum", lambda T: T.ones(4).split([1, 2]), RuntimeError, "split"),
    ("split_size_zero", lambda T: T.ones(4).split(0), RuntimeError, "split"),
    ("unfold_too_large", lambda T: T.ones(4).unfold(0, 5, 1), RuntimeError, "unfold"),
    ("unfold_step_zero", lambda T: T.ones(4).unfold(0, 2, 0), RuntimeError, "unfold"),
    ("select_out_of_range", lambda T: T.ones(2, 3).select(1, 3), IndexError, "select"),
    ("target_out_of_bounds",
     lambda T: T.nn.functional.cross_entropy(T.ones(2, 3), T.tensor([0, 3])), IndexError,
     "nll_loss"),
    ("negative_target",
     lambda T: T.nn.functional.nll_loss(T.ones(2, 3), T.tensor([-1, 0])), IndexError, "nll_loss"),
    ("attn_mask_shape",
     lambda T: T.nn.MultiheadAttention(4, 2)(T.ones(2, 3, 4), T.ones(2, 3, 4), T.ones(2, 3, 4),
                                             attn_mask=T.ones(4, 3, 3, dtype=T.bool)),
     RuntimeError, "attn_mask"),
    ("scatter_reduce_kind", lambda T: T.ones(3).scatter_reduce(0, T.tensor([0]), T.ones(1),
                                                               "foo"), RuntimeError, "reduce"),
    ("quantile_q_range", lambda T: T.quantile(T.ones(3), 1.5), RuntimeError, "quantile"),
    ("quantile_integer", lambda T: T.quantile(T.arange(3), 0.5), RuntimeError, "quantile"),
    ("quantile_interpolation", lambda T: T.quantile(T.ones(3), 0.5, interpolation="cubic"),
     RuntimeError, "quantile"),
    ("cov_3d", lambda T: T.cov(T.ones(2, 2, 2)), RuntimeError, "cov"),
    ("multilabel_target_range",
     lambda T: T.nn.functional.multilabel_margin_loss(T.ones(2, 3), T.tensor([[0, 3, -1]] * 2)),
     RuntimeError, "multilabel_margin_loss"),
]


@pytest.mark.parametrize("make,exc,op", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors_name_the_op_and_line(make, exc, op):
    with pytest.raises(exc) as e:
        make(stepjit)
    assert op in str(e.value) and "test_methods.py" in str(e.value), str(e.value)


@pytest.mark.parametrize("make,exc", [e[1:3] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_pytorch_raises_the_same_class(make, exc):
    torch = pytest.importorskip("torch")
    with pytest.raises(exc):
        make(torch)


def test_gumbel_softmax_samples_and_straight_through_gradient():
    """Its noise is stepjit's generator's (not PyTorch's numbers): the law and the gradient."""
    stepjit.manual_seed(0)
    logits = stepjit.tensor(np.log([[0.7, 0.2, 0.1]]), requires_grad=True)
    soft = stepjit.nn.functional.gumbel_softmax(logits.expand(4000, 3), tau=0.5)
    np.testing.assert_allclose(soft.sum(-1).detach().numpy(), 1.0, rtol=1e-12)
    hard = stepjit.nn.functional.gumbel_softmax(logits.expand(4000, 3), hard=True)
    counts = hard.detach().numpy().mean(0)
    assert set(np.unique(hard.detach().numpy())) == {0.0, 1.0}
    np.testing.assert_allclose(counts, [0.7, 0.2, 0.1], atol=0.03)    # argmax of Gumbel: the law
    (hard * stepjit.tensor([1.0, 2.0, 3.0])).sum().backward()          # straight through the soft
    assert logits.grad is not None and np.isfinite(logits.grad.numpy()).all()
    assert abs(logits.grad.numpy().sum()) < 1e-9                       # softmax's gradient sums to 0


def test_rrelu_in_training_draws_slopes_between_its_bounds():
    x = -stepjit.ones(1000)
    y = stepjit.nn.RReLU(0.1, 0.3)(x).numpy()
    assert (-0.3 <= y).all() and (y <= -0.1).all() and y.std() > 0.03


def test_ignored_targets_may_lie_outside_the_classes():
    loss = stepjit.nn.functional.cross_entropy(stepjit.ones(2, 3), stepjit.tensor([-100, 1]))
    assert np.isclose(loss.item(), np.log(3))

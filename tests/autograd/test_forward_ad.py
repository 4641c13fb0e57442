"""Forward-mode AD (torch.autograd.forward_ad, torch.func.jvp/jacfwd): the table of
tests/autograd/forward_cases.py against PyTorch's recorded tangents (and the gradients
through them), tangents against central differences, compiled against eager; then the
tutorial's patterns and the errors."""
from pathlib import Path

import numpy as np
import pytest

import stepjit
import stepjit as torch
from stepjit import nn
from stepjit.autograd import forward_ad as fwAD
from tests.autograd.forward_cases import CASES, PRIMALS
from tests.fixtures import checks, oracle


class TestAgainstPyTorch(checks.CaseTable):
    cases = CASES
    recording = Path(__file__).parents[1] / "fixtures" / "forward_ad" / "torch_forward_ad.npz"

    def by_differences(self, case):
        return False   # (the tangents' own check is below; gradients are recorded ones)


# (float_cast rounds to float32 on the way: a central difference resolves nothing there)
FD_CASES = [c for c in CASES if c.name in PRIMALS and c.name != "float_cast"]


@pytest.mark.parametrize("case", FD_CASES, ids=[c.name for c in FD_CASES])
def test_tangent_matches_central_differences(case):
    f, n = PRIMALS[case.name]
    xs, vs = case.inputs[:n], case.inputs[n:]
    got = oracle.run(stepjit, oracle.Case(case.name, case.fn, *case.inputs, grad=()))["out1"]

    def value(step):
        with stepjit.no_grad():
            ts = [stepjit.from_numpy(x + step * v) for x, v in zip(xs, vs)]
            return f(stepjit, *ts).numpy()
    eps = 1e-6
    numeric = (value(eps) - value(-eps)) / (2 * eps)
    np.testing.assert_allclose(got, numeric, rtol=1e-6, atol=1e-6, err_msg=case.name)


def test_tutorial_dual_tensors():
    primal, tangent = torch.randn(10, 10), torch.randn(10, 10)
    with fwAD.dual_level():
        dual_input = fwAD.make_dual(primal, tangent)
        assert fwAD.unpack_dual(dual_input).tangent is tangent
        dual_input_alt = fwAD.make_dual(primal, tangent.T)   # another layout: copied
        assert fwAD.unpack_dual(dual_input_alt).tangent is not tangent
        out = dual_input ** 2 + torch.randn(10, 10) ** 2
        jvp = fwAD.unpack_dual(out).tangent
        np.testing.assert_allclose(jvp.numpy(), (2 * primal * tangent).numpy(), rtol=1e-6)
    assert fwAD.unpack_dual(out).tangent is None   # the level is gone
    assert isinstance(fwAD.unpack_dual(out), fwAD.UnpackedDualTensor)


def test_tutorial_modules_by_setattr_and_functional_call():
    torch.manual_seed(0)
    model = nn.Linear(5, 5)
    x = torch.randn(16, 5)
    params = {name: p for name, p in model.named_parameters()}
    tangents = {name: torch.rand_like(p) for name, p in params.items()}
    want = x @ tangents["weight"].T + tangents["bias"]
    with fwAD.dual_level():
        dual = {name: fwAD.make_dual(p, tangents[name]) for name, p in params.items()}
        got_call = fwAD.unpack_dual(torch.func.functional_call(model, dual, (x,))).tangent
        for name, p in params.items():
            delattr(model, name)
            setattr(model, name, dual[name])
        got_attr = fwAD.unpack_dual(model(x)).tangent
    for got in (got_call, got_attr):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


class _Exp(stepjit.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        result = torch.exp(x)
        ctx.result = result
        return result

    @staticmethod
    def jvp(ctx, g):
        out = g * ctx.result
        del ctx.result
        return out


def test_custom_function_jvp_and_missing_jvp():
    x = torch.randn(3, 3, dtype=torch.float64, requires_grad=True)
    v = torch.randn(3, 3, dtype=torch.float64)
    with fwAD.dual_level():
        t = fwAD.unpack_dual(_Exp.apply(fwAD.make_dual(x, v))).tangent
    np.testing.assert_allclose(t.detach().numpy(), (x.exp() * v).detach().numpy(), rtol=1e-12)

    class NoJvp(stepjit.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2
    with fwAD.dual_level(), pytest.raises(NotImplementedError, match="must implement the jvp"):
        NoJvp.apply(fwAD.make_dual(x, v))


def test_forward_over_reverse_is_a_hessian_vector_product():
    x = torch.tensor([0.3, -0.5, 0.8], dtype=torch.float64)
    v = torch.tensor([1.0, 2.0, -1.0], dtype=torch.float64)

    def f(x):
        return (x.exp() * x.sin()).sum() * x.sum()
    with fwAD.dual_level():
        d = fwAD.make_dual(x, v).requires_grad_()
        (g,) = torch.autograd.grad(f(d), d)
        hv = fwAD.unpack_dual(g).tangent
    h = torch.autograd.functional.hessian(f, x)
    np.testing.assert_allclose(hv.numpy(), (h @ v).numpy(), rtol=1e-12)


def test_func_jvp_jacfwd_hessian_run_in_forward_mode(monkeypatch):
    from stepjit import func
    x = torch.tensor([0.3, -0.5, 0.8], dtype=torch.float64)
    w = torch.tensor([[1.0, 2.0, 0.5], [-1.0, 0.3, 0.2]], dtype=torch.float64)

    def f(x):
        return (w @ x).tanh() * x[:2]
    want = func.jacrev(f)(x)
    # the reverse route is not taken at the outermost level (forward mode is)
    monkeypatch.setattr(func, "_jvp_reverse", None)
    np.testing.assert_allclose(func.jacfwd(f)(x).numpy(), want.numpy(), rtol=1e-12)
    _, jv = func.jvp(f, (x,), (torch.ones(3, dtype=torch.float64),))
    np.testing.assert_allclose(jv.numpy(), want.sum(1).numpy(), rtol=1e-12)
    g = lambda x: (x.exp() * x).sum() * x.sum()   # noqa: E731
    np.testing.assert_allclose(func.hessian(g)(x).numpy(),
                               func.jacrev(func.jacrev(g))(x).numpy(), rtol=1e-12)


def test_jacfwd_of_jacfwd_takes_reverse_mode_inside():
    x = torch.tensor([0.3, -0.5], dtype=torch.float64)
    g = lambda x: (x.sin() * x).sum() ** 2   # noqa: E731
    np.testing.assert_allclose(torch.func.jacfwd(torch.func.jacfwd(g))(x).numpy(),
                               torch.func.hessian(g)(x).numpy(), rtol=1e-12)


def test_inplace_on_a_plain_tensor_takes_the_dual_tangent():
    v = torch.tensor([1.0, 2.0])
    with fwAD.dual_level():
        p = torch.ones(2)
        p.add_(fwAD.make_dual(torch.zeros(2), v))
        p.mul_(3.0)
        np.testing.assert_array_equal(fwAD.unpack_dual(p).tangent.numpy(), [3.0, 6.0])
        assert fwAD.unpack_dual(p.detach()).tangent is None


def test_errors():
    x = torch.randn(3)
    with pytest.raises(RuntimeError, match="no level exists"):
        fwAD.make_dual(x, x)
    with fwAD.dual_level():
        with pytest.raises(RuntimeError, match="Nested forward mode AD"):
            fwAD.enter_dual_level()
        with pytest.raises(RuntimeError, match=r"size \[3\] while the given forward gradient "
                                                r"is of size \[4\]"):
            fwAD.make_dual(x, torch.randn(4))
        with pytest.raises(ValueError, match="floating point"):
            fwAD.make_dual(torch.arange(3), torch.arange(3))
        a = torch.eye(2, dtype=torch.float64) * 2
        d = fwAD.make_dual(a, torch.ones(2, 2, dtype=torch.float64))
        with pytest.raises(NotImplementedError,
                           match=r"primitive eigh_values has no JVP rule .*shapes \[\[2, 2\]\].*"
                                 r"test_forward_ad.py"):
            torch.linalg.eigvalsh(d)
    assert fwAD.STATE.token is None


def test_registry_jvp_forms():
    """Every differentiable primitive says how forward mode runs it, or is one of the few
    documented without (docs/autograd.md)."""
    from stepjit.ir.primitives import PRIMITIVES
    without = sorted(n for n, p in PRIMITIVES.items() if p.vjp is not None and p.jvp is None)
    assert without == ["cumprod", "eigh_values", "eigh_vectors", "index_reduce", "lu_factor",
                       "qr_q", "qr_r", "svd_s", "svd_u", "svd_vh"], without


def test_compiled_step_with_forward_mode_matches_eager():
    w = torch.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=torch.float64)

    def step(x, v):
        with fwAD.dual_level():
            y = (fwAD.make_dual(x, v) @ w).tanh().sum(1)
            return fwAD.unpack_dual(y).tangent * 1

    x = torch.tensor([[0.1, 0.2], [0.3, -0.4]], dtype=torch.float64)
    v = torch.tensor([[1.0, 0.0], [0.5, 2.0]], dtype=torch.float64)
    compiled = stepjit.compile(step)
    want = step(x, v).numpy()
    for _ in range(2):
        np.testing.assert_allclose(compiled(x, v).numpy(), want, rtol=1e-12)
    assert compiled.stats()["fallbacks"] == 0

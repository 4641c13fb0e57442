"""nn.utils.stateless.functional_call (also torch.func.functional_call): the module runs on
the tensors given, its own parameters are untouched and put back, tied weights follow."""
import numpy as np
import pytest

import stepjit
from stepjit.nn.utils.stateless import functional_call


def linear():
    stepjit.manual_seed(1)
    return stepjit.nn.Linear(3, 2).double()


def test_call_uses_the_given_tensors_and_restores_the_module():
    m = linear()
    w0 = m.weight
    w = stepjit.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    b = stepjit.tensor([1.0, -1.0], dtype=stepjit.float64)
    x = np.array([[1.0, 2.0, 3.0]])
    out = functional_call(m, {"weight": w, "bias": b}, (stepjit.tensor(x),))
    np.testing.assert_allclose(out.detach().numpy(), x @ np.arange(6.0).reshape(2, 3).T + [1, -1])
    out.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), np.tile(x, (2, 1)))
    assert m.weight is w0 and m.weight.grad is None and isinstance(m.weight, stepjit.nn.Parameter)
    assert stepjit.func.functional_call is functional_call
    assert stepjit.nn.utils.stateless.functional_call is functional_call


def test_partial_dicts_keep_the_rest_and_an_error_restores_everything():
    m = linear()
    b = stepjit.zeros(2, dtype=stepjit.float64)
    x = stepjit.ones(1, 3, dtype=stepjit.float64)
    out = functional_call(m, {"bias": b}, x)
    np.testing.assert_allclose(out.detach().numpy(), (x @ m.weight.T).detach().numpy())
    with pytest.raises(Exception):
        functional_call(m, {"weight": stepjit.ones(5, 5, dtype=stepjit.float64)}, (x,))
    assert tuple(m.weight.shape) == (2, 3)


def test_strict_names_missing_and_unexpected_keys():
    m = linear()
    with pytest.raises(RuntimeError, match="missing keys \\['bias'\\].*unexpected keys \\['w'\\]"):
        functional_call(m, {"weight": m.weight, "w": m.bias}, (stepjit.ones(1, 3),), strict=True)


def test_tied_weights_follow_unless_untied():
    class Tied(stepjit.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = stepjit.nn.Linear(2, 2, bias=False).double()
            self.b = stepjit.nn.Linear(2, 2, bias=False).double()
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.b(self.a(x))

    m = Tied()
    eye = stepjit.eye(2, dtype=stepjit.float64)
    x = stepjit.tensor([[1.0, 2.0]], dtype=stepjit.float64)
    np.testing.assert_allclose(functional_call(m, {"a.weight": eye * 2}, (x,)).detach().numpy(),
                               [[4.0, 8.0]])
    untied = functional_call(m, {"a.weight": eye * 2}, (x,), tie_weights=False)
    w = m.a.weight.detach().numpy()
    np.testing.assert_allclose(untied.detach().numpy(), (2 * x.numpy()) @ w.T)


def test_buffers_are_replaced_too():
    bn = stepjit.nn.BatchNorm1d(2).double().eval()
    mean = stepjit.tensor([1.0, 2.0], dtype=stepjit.float64)
    x = stepjit.tensor([[1.0, 2.0]], dtype=stepjit.float64)
    out = functional_call(bn, {"running_mean": mean}, (x,))
    np.testing.assert_allclose(out.detach().numpy(), [[0.0, 0.0]], atol=1e-12)
    np.testing.assert_allclose(bn.running_mean.numpy(), [0.0, 0.0])

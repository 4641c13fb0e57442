"""stepjit.distributions against NumPy formulas and, where installed, PyTorch (values and
gradients of log_prob / entropy, sample shapes and frequencies)."""
import math

import numpy as np
import pytest

import stepjit
from stepjit.distributions import Bernoulli, Categorical, Normal, Uniform, kl_divergence

P = np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])


def test_categorical_log_prob_entropy_and_gradient_against_numpy():
    probs = stepjit.tensor(P * 2, requires_grad=True)        # unnormalized: divided by the sum
    m = Categorical(probs)
    a = stepjit.tensor([1, 0])
    lp = m.log_prob(a)
    np.testing.assert_allclose(lp.detach().numpy(), np.log([0.5, 0.6]))
    np.testing.assert_allclose(m.entropy().detach().numpy(), -(P * np.log(P)).sum(1))
    lp.sum().backward()
    # d log(p_a / sum p) / d p = onehot(a) / p_a - 1 / sum p
    want = -np.ones_like(P) / 2.0
    want[0, 1] += 1 / 1.0
    want[1, 0] += 1 / 1.2
    np.testing.assert_allclose(probs.grad.numpy(), want)


def test_categorical_logits_and_sampling():
    m = Categorical(logits=stepjit.tensor(np.log(P)))
    np.testing.assert_allclose(m.probs.numpy(), P)
    stepjit.manual_seed(0)
    s = m.sample((4000,))
    assert tuple(s.shape) == (4000, 2) and s.dtype is stepjit.int64
    freq = np.stack([np.bincount(s.numpy()[:, i], minlength=3) / 4000 for i in range(2)])
    np.testing.assert_allclose(freq, P, atol=0.03)
    assert tuple(m.sample().shape) == (2,) and m.batch_shape == (2,)
    with pytest.raises(ValueError, match="not both"):
        Categorical(probs=stepjit.tensor(P), logits=stepjit.tensor(P))


def test_normal_bernoulli_uniform_formulas():
    loc = stepjit.tensor([0.5, -1.0], requires_grad=True)
    scale = stepjit.tensor([2.0, 0.5], requires_grad=True)
    n = Normal(loc, scale)
    v = np.array([1.0, 0.0])
    want = -((v - [0.5, -1.0]) ** 2) / (2 * np.array([4.0, 0.25])) - np.log([2.0, 0.5]) \
        - 0.5 * math.log(2 * math.pi)
    np.testing.assert_allclose(n.log_prob(stepjit.tensor(v)).detach().numpy(), want)
    np.testing.assert_allclose(n.entropy().detach().numpy(),
                               0.5 + 0.5 * math.log(2 * math.pi) + np.log([2.0, 0.5]))
    stepjit.manual_seed(1)
    r = n.rsample((3,))
    assert tuple(r.shape) == (3, 2) and r.requires_grad
    r.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [3.0, 3.0])
    assert not n.sample().requires_grad
    b = Bernoulli(probs=stepjit.tensor([0.25, 0.9]))
    np.testing.assert_allclose(b.log_prob(stepjit.tensor([1.0, 0.0])).numpy(),
                               np.log([0.25, 0.1]), rtol=1e-6)
    u = Uniform(0.0, 4.0)
    np.testing.assert_allclose(float(u.log_prob(stepjit.tensor(1.0))), -math.log(4.0))
    kl = kl_divergence(Normal(0.0, 1.0), Normal(1.0, 2.0))
    np.testing.assert_allclose(float(kl), math.log(2) + (1 + 1) / 8 - 0.5, rtol=1e-6)


def test_against_pytorch():
    torch = pytest.importorskip("torch")
    x = {}
    for T in (stepjit, torch):
        probs = T.tensor(P, requires_grad=True)
        c = T.distributions.Categorical(probs)
        out = c.log_prob(T.tensor([2, 1])).sum() + c.entropy().sum()
        nrm = T.distributions.Normal(probs[:, 0], probs[:, 1])
        out = out + nrm.log_prob(T.tensor([0.3, -0.2], dtype=T.float64)).sum() + nrm.entropy().sum()
        brn = T.distributions.Bernoulli(logits=probs[:, 2])
        out = out + brn.log_prob(T.tensor([1.0, 0.0], dtype=T.float64)).sum() + brn.entropy().sum()
        out.backward()
        x[T.__name__] = (out.item(), probs.grad.numpy())
    np.testing.assert_allclose(x["stepjit"][0], x["torch"][0], rtol=1e-12)
    np.testing.assert_allclose(x["stepjit"][1], x["torch"][1], rtol=1e-12)

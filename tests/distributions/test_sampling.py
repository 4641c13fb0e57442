"""Sampling: the calls PyTorch makes (so a program draws what it draws, from stepjit's
generator), frequencies against the probabilities, rsample's reparameterized gradient
against its analytic value, and compiled steps drawing the eager numbers."""
import numpy as np
import pytest

import stepjit
from stepjit.distributions import Bernoulli, Categorical, Normal, Uniform


def test_categorical_sample_is_pytorchs_multinomial_call():
    """PyTorch: multinomial(probs.reshape(-1, K), n, True).T, reshaped."""
    probs = stepjit.tensor([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]])
    stepjit.manual_seed(3)
    got = Categorical(probs).sample((4,))
    stepjit.manual_seed(3)
    want = stepjit.multinomial(probs, 4, True).T
    assert tuple(got.shape) == (4, 2)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_categorical_frequencies_follow_the_probabilities():
    stepjit.manual_seed(0)
    p = np.array([0.1, 0.6, 0.3])
    draws = Categorical(stepjit.tensor(p)).sample((20000,)).numpy()
    np.testing.assert_allclose(np.bincount(draws, minlength=3) / 20000, p, atol=0.015)


def test_bernoulli_and_normal_and_uniform_moments():
    stepjit.manual_seed(1)
    b = Bernoulli(probs=stepjit.tensor([0.2, 0.9])).sample((20000,)).numpy()
    np.testing.assert_allclose(b.mean(0), [0.2, 0.9], atol=0.015)
    n = Normal(stepjit.tensor([1.0, -2.0]), stepjit.tensor([0.5, 3.0])).sample((20000,)).numpy()
    np.testing.assert_allclose(n.mean(0), [1.0, -2.0], atol=0.08)
    np.testing.assert_allclose(n.std(0), [0.5, 3.0], rtol=0.03)
    u = Uniform(-1.0, 3.0).sample((20000,)).numpy()
    assert u.min() >= -1.0 and u.max() < 3.0 and abs(u.mean() - 1.0) < 0.05


def test_sample_carries_no_gradient_and_rsample_does():
    loc = stepjit.tensor([0.5, -1.0], requires_grad=True)
    scale = stepjit.tensor([2.0, 0.5], requires_grad=True)
    d = Normal(loc, scale)
    assert not d.sample().requires_grad
    stepjit.manual_seed(7)
    x = d.rsample((3,))
    stepjit.manual_seed(7)
    eps = stepjit.randn(3, 2).numpy()
    np.testing.assert_allclose(x.detach().numpy(), loc.detach().numpy() + eps * scale.detach().numpy(), rtol=1e-6)
    x.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [3.0, 3.0])
    np.testing.assert_allclose(scale.grad.numpy(), eps.sum(0), rtol=1e-6)


def test_compiled_reinforce_step_draws_and_learns_as_eager():
    """Sample an action, its log-probability times a reward, backward, SGD: compiled vs eager,
    the same actions drawn from the same seeds."""
    def make():
        stepjit.manual_seed(11)
        return stepjit.nn.Linear(4, 3).double()

    def step(policy, opt, obs):
        dist = Categorical(logits=policy(obs))
        action = dist.sample()
        loss = -(dist.log_prob(action) * (action.double() - 1.0)).sum() - 0.1 * dist.entropy().sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return action, loss.detach()

    obs = stepjit.tensor(np.linspace(-1, 1, 20).reshape(5, 4))
    runs = []
    for compiled in (False, True):
        policy = make()
        opt = stepjit.optim.SGD(policy.parameters(), lr=0.1)
        fn = stepjit.compile(step) if compiled else step
        stepjit.manual_seed(5)
        out = [fn(policy, opt, obs) for _ in range(3)]
        runs.append(([a.numpy() for a, _ in out], [l.item() for _, l in out],
                     policy.weight.detach().numpy().copy()))
    (ea, el, ew), (ca, cl, cw) = runs
    for a, b in zip(ea, ca):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(cl, el, rtol=1e-12)
    np.testing.assert_allclose(cw, ew, rtol=1e-12)


def test_compiled_rsample_step_matches_eager():
    """A VAE-style step: z = Normal(mu, sigma).rsample(), a loss of z and the KL to N(0, 1)."""
    from stepjit.distributions import kl_divergence

    def run(compiled):
        stepjit.manual_seed(2)
        enc = stepjit.nn.Linear(3, 4).double()
        opt = stepjit.optim.SGD(enc.parameters(), lr=0.05)

        def step(x):
            mu, log_sigma = enc(x).chunk(2, dim=1)
            q = Normal(mu, log_sigma.exp())
            z = q.rsample()
            loss = (z ** 2).sum() + kl_divergence(q, Normal(0.0, 1.0)).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss.detach()

        fn = stepjit.compile(step) if compiled else step
        x = stepjit.tensor(np.linspace(-1, 1, 12).reshape(4, 3))
        stepjit.manual_seed(8)
        losses = [fn(x).item() for _ in range(3)]
        return losses, enc.weight.detach().numpy()

    (el, ew), (cl, cw) = run(False), run(True)
    np.testing.assert_allclose(cl, el, rtol=1e-12)
    np.testing.assert_allclose(cw, ew, rtol=1e-12)

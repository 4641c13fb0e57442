"""SGD, Adam and AdamW against NumPy transcriptions of PyTorch's documented update rules."""
import numpy as np
import pytest

import stepjit
import stepjit.nn as nn
import stepjit.optim as optim

RNG = np.random.default_rng(0)
P0 = RNG.standard_normal((3, 2))
GRADS = [RNG.standard_normal((3, 2)) for _ in range(4)]


def _run(opt_cls, **kw):
    """Apply the fixed gradient sequence GRADS; return the parameter after each step and the state."""
    p = nn.Parameter(stepjit.tensor(P0, dtype=stepjit.float64))
    opt = opt_cls([p], **kw)
    history = []
    for g in GRADS:
        p.grad = stepjit.tensor(g, dtype=stepjit.float64)
        opt.step()
        history.append(p.detach().numpy().copy())
    return history, opt.state[p]


def _sgd_ref(lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    p, buf, out = P0.copy(), None, []
    for g in GRADS:
        g = -g if maximize else g
        g = g + weight_decay * p
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
        out.append(p)
    return out


def _adam_ref(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, decoupled=False,
              maximize=False):
    p, m, v, vmax, out = P0.copy(), 0.0, 0.0, 0.0, []
    for t, g in enumerate(GRADS, 1):
        g = -g if maximize else g
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        vmax = np.maximum(vmax, v)
        denom = np.sqrt(vmax if amsgrad else v) / np.sqrt(1 - betas[1] ** t) + eps
        p = p - lr / (1 - betas[0] ** t) * m / denom
        out.append(p)
    return out


@pytest.mark.parametrize("kw", [
    dict(lr=0.1),
    dict(lr=0.1, momentum=0.9),
    dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.01),
    dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1),
    dict(lr=0.1, momentum=0.5, maximize=True)])
def test_sgd_matches_reference(kw):
    got, state = _run(optim.SGD, **kw)
    for a, b in zip(got, _sgd_ref(**kw)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assert ("momentum_buffer" in state) == bool(kw.get("momentum"))


def test_sgd_first_step_buffer_is_a_copy_of_the_gradient():
    p = nn.Parameter(stepjit.zeros(2))
    opt = optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.5)
    p.grad = stepjit.tensor([1.0, 2.0])
    opt.step()
    buf = opt.state[p]["momentum_buffer"]
    assert buf.tolist() == [1.0, 2.0]  # no dampening on the first step
    p.grad.add_(1)  # the buffer must not alias the gradient
    assert buf.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("kw", [
    dict(lr=0.1),
    dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
    dict(lr=0.1, amsgrad=True),
    dict(lr=0.1, maximize=True)])
def test_adam_matches_reference(kw):
    got, state = _run(optim.Adam, **kw)
    for a, b in zip(got, _adam_ref(**kw)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert set(state) >= {"step", "exp_avg", "exp_avg_sq"}
    assert ("max_exp_avg_sq" in state) == kw.get("amsgrad", False)


@pytest.mark.parametrize("kw", [dict(lr=0.1), dict(lr=0.05, weight_decay=0.3, amsgrad=True)])
def test_adamw_matches_reference(kw):
    got, _ = _run(optim.AdamW, **kw)
    ref_kw = dict(kw, weight_decay=kw.get("weight_decay", 1e-2), decoupled=True)
    for a, b in zip(got, _adam_ref(**ref_kw)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_adam_step_is_a_float32_zero_dim_tensor_updated_in_place():
    _, state = _run(optim.Adam, lr=0.1)
    step = state["step"]
    assert isinstance(step, stepjit.Tensor) and step.shape == () and step.dtype is stepjit.float32
    assert step.item() == len(GRADS)


def test_adam_reads_lr_and_betas_every_step():
    p = nn.Parameter(stepjit.zeros(1))
    opt = optim.Adam([p], lr=0.1)
    p.grad = stepjit.ones(1)
    opt.step()
    first = p.item()
    opt.param_groups[0]["lr"] = 0.0
    opt.step()
    assert p.item() == first  # lr 0: no move, so the new lr was read


def test_float32_parameters_stay_float32():
    p = nn.Parameter(stepjit.ones(2))
    for opt in (optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1),
                optim.Adam([p], weight_decay=0.1), optim.AdamW([p], amsgrad=True)):
        p.grad = stepjit.ones(2)
        opt.step()
        assert p.dtype is stepjit.float32
        assert all(v.dtype is stepjit.float32 for v in opt.state[p].values())

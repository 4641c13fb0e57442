"""One table of nn.utils cases (parametrize, weight and spectral norm, orthogonal, prune), run
the same way on PyTorch (tests/fixtures/record_nn_utils.py) and on stepjit
(tests/nn/test_nn_utils_recorded.py).

Each case takes the torch-like module `T` and a `wrap` for the training step (identity, or
stepjit.compile) and returns a dict of NumPy arrays: losses over a few SGD steps, the
state_dict's values, gradients, and its keys (as one '|'-joined string in a 0-dim array).
Weights and data come from NumPy, and the power-iteration vectors that PyTorch draws from its
generator are set from NumPy too, so both libraries start from the same numbers (float64).
"""
from __future__ import annotations

import importlib
import warnings

import numpy as np

STEPS = 4
_RNG = np.random.default_rng(5)
X = _RNG.standard_normal((6, 3))
Y = _RNG.standard_normal((6, 4))
W = _RNG.standard_normal((4, 3))
B = _RNG.standard_normal(4) * 0.1
W2 = _RNG.standard_normal((4, 4)) * 0.5
CONV = _RNG.standard_normal((3, 2, 3))
XC = _RNG.standard_normal((2, 2, 7))
X4 = _RNG.standard_normal((6, 4))


def _utils(T, name):
    return importlib.import_module(f"{T.__name__}.nn.utils.{name}")


def _linear(T, w=W, b=B):
    m = T.nn.Linear(w.shape[1], w.shape[0]).double()
    with T.no_grad():
        m.weight.copy_(T.tensor(w))
        m.bias.copy_(T.tensor(b))
    return m


def _train(T, m, wrap, x=X, y=Y, lr=0.1, steps=STEPS):
    """Losses of `steps` SGD-with-momentum steps, the state_dict after, and its keys."""
    opt = T.optim.SGD(m.parameters(), lr=lr, momentum=0.5)
    xt, yt = T.tensor(x), T.tensor(y)

    def step():
        opt.zero_grad()
        loss = ((m(xt) - yt) ** 2).mean()
        loss.backward()
        opt.step()
        return loss
    fn = wrap(step)
    losses = [fn().item() for _ in range(steps)]
    return _record(m, losses=np.array(losses))


def _record(m, **out):
    state = m.state_dict()
    out["keys"] = np.array("|".join(state.keys()))
    for k, v in state.items():
        out[f"state/{k}"] = v.detach().numpy().copy()
    return out


def _grads(T, m, x=X):
    """Gradients of one backward, by parameter name, on a fresh copy of the data."""
    loss = ((m(T.tensor(x)) - T.tensor(Y)) ** 2).mean()
    loss.backward()
    return {f"grad/{n}": p.grad.numpy().copy() for n, p in m.named_parameters()}


# -- the cases ------------------------------------------------------------------------------
def weight_norm(T, wrap, dim=0):
    m = _utils(T, "parametrizations").weight_norm(_linear(T), dim=dim)
    out = _grads(T, m)
    m.zero_grad()
    out.update(_train(T, m, wrap))
    out["weight"] = m.weight.detach().numpy().copy()
    return out


def weight_norm_dim_none(T, wrap):
    return weight_norm(T, wrap, dim=None)


def weight_norm_conv(T, wrap):
    """Conv1d's weight normalized per output channel; a sum-of-squares loss on the output."""
    m = T.nn.Conv1d(2, 3, 3).double()
    with T.no_grad():
        m.weight.copy_(T.tensor(CONV))
        m.bias.zero_()
    _utils(T, "parametrizations").weight_norm(m)
    opt = T.optim.SGD(m.parameters(), lr=0.05)
    x = T.tensor(XC)

    def step():
        opt.zero_grad()
        loss = (m(x) ** 2).mean()
        loss.backward()
        opt.step()
        return loss
    fn = wrap(step)
    return _record(m, losses=np.array([fn().item() for _ in range(STEPS)]))


def legacy_weight_norm(T, wrap):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        m = T.nn.utils.weight_norm(_linear(T), dim=1)
    out = _grads(T, m)
    m.zero_grad()
    out.update(_train(T, m, wrap))
    T.nn.utils.remove_weight_norm(m)
    after = _record(m)
    out["removed/keys"] = after["keys"]
    out["removed/weight"] = after["state/weight"]
    return out


def legacy_keys_into_weight_norm(T, wrap):
    """A state_dict saved with the legacy weight_norm (weight_g, weight_v) loads into a
    module using parametrizations.weight_norm (its load pre-hook renames the keys)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        old = T.nn.utils.weight_norm(_linear(T, w=W * 2))
    new = _utils(T, "parametrizations").weight_norm(_linear(T))
    new.load_state_dict(old.state_dict())
    return _record(new, y=new(T.tensor(X)).detach().numpy())


def _set_uv(T, u, v):
    with T.no_grad():
        u.copy_(T.tensor(np.linspace(1.0, 2.0, u.shape[0]) / np.linalg.norm(
            np.linspace(1.0, 2.0, u.shape[0]))))
        v.copy_(T.tensor(np.linspace(-1.0, 1.5, v.shape[0]) / np.linalg.norm(
            np.linspace(-1.0, 1.5, v.shape[0]))))


def spectral_norm(T, wrap):
    m = _utils(T, "parametrizations").spectral_norm(_linear(T), n_power_iterations=2)
    sn = m.parametrizations.weight[0]
    _set_uv(T, sn._u, sn._v)
    out = _train(T, m, wrap)
    m.eval()
    out["eval_weight"] = m.weight.detach().numpy().copy()
    return out


def legacy_spectral_norm(T, wrap):
    m = T.nn.utils.spectral_norm(_linear(T))
    _set_uv(T, m.weight_u, m.weight_v)
    out = _train(T, m, wrap)
    T.nn.utils.remove_spectral_norm(m)
    after = _record(m)
    out["removed/keys"] = after["keys"]
    out["removed/weight"] = after["state/weight"]
    return out


def orthogonal(T, wrap, orthogonal_map=None, w=W2):
    m = _linear(T, w=w, b=B)
    _utils(T, "parametrizations").orthogonal(m, orthogonal_map=orthogonal_map)
    out = {"weight0": m.weight.detach().numpy().copy()}
    out.update(_train(T, m, wrap, x=X4, lr=0.05))
    out["weight"] = m.weight.detach().numpy().copy()
    return out


def orthogonal_cayley(T, wrap):
    return orthogonal(T, wrap, "cayley")


def orthogonal_householder(T, wrap):
    return orthogonal(T, wrap, "householder")


def _symmetric(T):
    class Symmetric(T.nn.Module):
        def forward(self, x):
            return x.triu() + x.triu(1).transpose(-1, -2)

        def right_inverse(self, a):
            return a.triu()

    class Scale(T.nn.Module):
        def forward(self, x):
            return 2.0 * x

        def right_inverse(self, a):
            return a / 2.0
    return Symmetric, Scale


def parametrize_chain(T, wrap):
    """A symmetric-then-scaled weight (two chained parametrizations), trained; then assigned
    through right_inverse, read under cached(), and removed (leaving it parametrized)."""
    P = _utils(T, "parametrize")
    Symmetric, Scale = _symmetric(T)
    m = _linear(T, w=W2)
    P.register_parametrization(m, "weight", Symmetric())
    P.register_parametrization(m, "weight", Scale())
    out = _grads(T, m, x=X4)
    m.zero_grad()
    out.update(_train(T, m, wrap, x=X4, lr=0.05))
    out["weight"] = m.weight.detach().numpy().copy()
    with T.no_grad():
        m.weight = T.tensor(W2 + W2.T)
    out["assigned"] = m.parametrizations.weight.original.detach().numpy().copy()
    with P.cached():
        out["cached"] = (m.weight + m.weight).detach().numpy()
    P.remove_parametrizations(m, "weight")
    after = _record(m)
    out["removed/keys"] = after["keys"]
    out["removed/weight"] = after["state/weight"]
    return out


def parametrize_remove_original(T, wrap):
    P = _utils(T, "parametrize")
    Symmetric, _ = _symmetric(T)
    m = _linear(T, w=W2)
    P.register_parametrization(m, "weight", Symmetric())
    P.remove_parametrizations(m, "weight", leave_parametrized=False)
    return _record(m)


def prune_l1_then_structured(T, wrap):
    """l1_unstructured, then ln_structured on what it kept (a PruningContainer), trained
    (the masked weight), then removed."""
    prune = _utils(T, "prune")
    m = _linear(T)
    prune.l1_unstructured(m, "weight", amount=0.25)
    prune.ln_structured(m, "weight", amount=1, n=2, dim=0)
    prune.l1_unstructured(m, "bias", amount=1)
    out = {"mask": m.weight_mask.numpy().copy(), "bias_mask": m.bias_mask.numpy().copy()}
    out.update(_grads(T, m))
    m.zero_grad()
    out.update(_train(T, m, wrap))
    out["weight"] = m.weight.detach().numpy().copy()
    prune.remove(m, "weight")
    after = _record(m)
    out["removed/keys"] = after["keys"]
    out["removed/weight"] = after["state/weight"]
    return out


def prune_global(T, wrap):
    """global_unstructured over two layers' weights: one threshold for both."""
    prune = _utils(T, "prune")
    a, b = _linear(T), _linear(T, w=W2 * 3)
    prune.global_unstructured([(a, "weight"), (b, "weight")],
                              pruning_method=prune.L1Unstructured, amount=0.4)
    prune.global_unstructured([(a, "weight"), (b, "weight")],
                              pruning_method=prune.L1Unstructured, amount=3)
    return {"a": a.weight_mask.numpy().copy(), "b": b.weight_mask.numpy().copy(),
            "a_keys": _record(a)["keys"],
            "hooks": np.array(type(list(a._forward_pre_hooks.values())[0]).__name__)}


def prune_importance_scores(T, wrap):
    prune = _utils(T, "prune")
    m = _linear(T)
    scores = T.tensor(np.arange(12.0).reshape(4, 3)[::-1].copy())
    prune.l1_unstructured(m, "weight", amount=5, importance_scores=scores)
    prune.ln_structured(m, "weight", amount=0.34, n=1, dim=1,
                        importance_scores=T.tensor(W[:, ::-1].copy()))
    return {"mask": m.weight_mask.numpy().copy()}


CASES = [weight_norm, weight_norm_dim_none, weight_norm_conv, legacy_weight_norm,
         legacy_keys_into_weight_norm, spectral_norm, legacy_spectral_norm, orthogonal,
         orthogonal_cayley, orthogonal_householder, parametrize_chain,
         parametrize_remove_original, prune_l1_then_structured, prune_global,
         prune_importance_scores]

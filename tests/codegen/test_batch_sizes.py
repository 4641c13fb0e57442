"""A new batch size compiles no kernel (README, docs/compiler.md): kernels take sizes as
arguments, and the divisor of a mean is a value of the program (`numel`), not a literal of a
kernel's source. Checked on the mean-based losses and reductions a training step uses, by
the kernels a program runs: after the first batch size, a later one adds no kernel source."""
import numpy as np
import pytest

import stepjit
import stepjit.nn as nn
import stepjit.nn.functional as F
from stepjit.codegen import kernels


def test_mean_over_new_batch_sizes_compiles_no_kernel(fresh_kernels):
    w0 = np.linspace(-1, 1, 6, dtype=np.float32).reshape(3, 2)

    def make():
        w = stepjit.tensor(w0.copy(), requires_grad=True)

        def step(x, y):
            loss = ((x @ w).tanh() - y).pow(2).mean() + x.mean(0).sum()
            loss.backward()
            with stepjit.no_grad():
                w.sub_(0.1 * w.grad)
                w.grad.zero_()
            return loss
        return w, step

    w_c, compiled = make()
    compiled = stepjit.compile(compiled, backend="cpu")
    w_e, eager = make()
    rng = np.random.default_rng(0)
    counts = []
    for n in (5, 6, 7, 9, 12):
        x = stepjit.tensor(rng.standard_normal((n, 3)).astype(np.float32))
        y = stepjit.tensor(rng.standard_normal((n, 2)).astype(np.float32))
        np.testing.assert_allclose(compiled(x, y).item(), eager(x, y).item(), rtol=1e-6)
        counts.append(kernels.STATS["compiled"])
    np.testing.assert_allclose(w_c.detach().numpy(), w_e.detach().numpy(), rtol=1e-6)
    assert counts[1] == counts[-1], f"kernels compiled after each batch size: {counts}"


def _classes(rng, n):
    return stepjit.tensor(rng.integers(0, 3, n))


# loss(out: [n, 3] logits, rng, n) -> a scalar: what the step minimizes
LOSSES = {
    "mse_loss": lambda out, rng, n: F.mse_loss(out, stepjit.tensor(rng.standard_normal((n, 3)))),
    "cross_entropy": lambda out, rng, n: F.cross_entropy(out, _classes(rng, n)),
    "bce": lambda out, rng, n: F.binary_cross_entropy(
        out.sigmoid(), stepjit.tensor(rng.integers(0, 2, (n, 3)).astype(np.float64))),
    "kl_div_batchmean": lambda out, rng, n: F.kl_div(
        F.log_softmax(out, 1), F.softmax(stepjit.tensor(rng.standard_normal((n, 3))), 1),
        reduction="batchmean"),
    "var_std_mean_dim": lambda out, rng, n: out.var(0).sum() + out.std() + out.mean(1).pow(2).mean(),
}


def _model(batch_norm):
    stepjit.manual_seed(0)
    layers = [nn.Linear(4, 5)] + ([nn.BatchNorm1d(5)] if batch_norm else []) + [nn.Tanh(),
                                                                                  nn.Linear(5, 3)]
    return nn.Sequential(*layers).double()


@pytest.mark.parametrize("name,batch_norm", [(k, False) for k in LOSSES] + [("mse_loss", True)])
def test_mean_based_losses_compile_no_kernel_for_a_new_batch_size(name, batch_norm):
    """Compiled vs eager over batch sizes 5, 6, 9 (float64): the same losses and weights,
    and no kernel source after the first size that the first size's programs did not run."""
    loss_of = LOSSES[name]

    def make():
        model = _model(batch_norm)
        opt = stepjit.optim.SGD(model.parameters(), lr=0.1)

        def step(x, rng_seed):
            rng = np.random.default_rng(rng_seed)
            opt.zero_grad()
            loss = loss_of(model(x), rng, x.shape[0])
            loss.backward()
            opt.step()
            return loss
        return model, step

    model_c, step = make()
    compiled = stepjit.compile(step, backend="cpu", recompile_limit=20)
    model_e, eager = make()
    seen = None
    for k, n in enumerate((5, 5, 6, 9)):
        x = stepjit.tensor(np.random.default_rng(k).standard_normal((n, 4)))
        # (the step draws its targets from a NumPy generator seeded by an argument: the
        # trace sees them as constants, so every call traces; kernels are what is counted)
        np.testing.assert_allclose(compiled(x, k).item(), eager(x, k).item(), rtol=1e-9)
        if k == 1:
            seen = set(kernels._KERNELS)
    for (_, a), (_, b) in zip(model_c.state_dict().items(), model_e.state_dict().items()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-12)
    new = set(kernels._KERNELS) - seen
    assert not new, f"{name}: new batch sizes added kernels {sorted(new)}"

"""State a step keeps by rebinding a name to a new tensor (a global, a closure variable, a
module attribute or buffer), written the way a hand-made batch norm keeps its running
statistics: compiled, the rebinding is a write-back after each call, so one trace serves every
call (before: each call's new tensor failed the binding guard, 8 traces, then eager), and every
step matches eager (bit for bit on the interpret backend)."""
import numpy as np
import pytest

import stepjit as torch
import stepjit.nn.functional as F

N_EMBD, N_HIDDEN, VOCAB, BLOCK = 4, 16, 11, 3


def _data():
    g = torch.Generator().manual_seed(7)
    X = torch.randint(0, VOCAB, (64, BLOCK), generator=g)
    Y = torch.randint(0, VOCAB, (64,), generator=g)
    return X, Y


def _params():
    g = torch.Generator().manual_seed(11)
    C = torch.randn((VOCAB, N_EMBD), generator=g)
    W1 = torch.randn((N_EMBD * BLOCK, N_HIDDEN), generator=g) * 0.2
    W2 = torch.randn((N_HIDDEN, VOCAB), generator=g) * 0.01
    b2 = torch.zeros(VOCAB)
    bngain, bnbias = torch.ones((1, N_HIDDEN)), torch.zeros((1, N_HIDDEN))
    params = [C, W1, W2, b2, bngain, bnbias]
    for p in params:
        p.requires_grad = True
    return params


class GlobalState:
    """The step of a character MLP with a hand-made batch norm whose running mean and std are
    module-level names the step rebinds (`global`), as the lectures write it."""

    def __init__(self):
        self.X, self.Y = _data()
        self.params = _params()
        self.ns = {"bnmean_running": torch.zeros((1, N_HIDDEN)),
                   "bnstd_running": torch.ones((1, N_HIDDEN))}
        src = (
            "def step(ix):\n"
            "    global bnmean_running, bnstd_running\n"
            "    C, W1, W2, b2, bngain, bnbias = params\n"
            "    Xb, Yb = X[ix], Y[ix]\n"
            "    emb = C[Xb]\n"
            "    hpreact = emb.view(emb.shape[0], -1) @ W1\n"
            "    bnmeani = hpreact.mean(0, keepdim=True)\n"
            "    bnstdi = hpreact.std(0, keepdim=True)\n"
            "    hpreact = bngain * (hpreact - bnmeani) / bnstdi + bnbias\n"
            "    with torch.no_grad():\n"
            "        bnmean_running = 0.999 * bnmean_running + 0.001 * bnmeani\n"
            "        bnstd_running = 0.999 * bnstd_running + 0.001 * bnstdi\n"
            "    logits = torch.tanh(hpreact) @ W2 + b2\n"
            "    loss = F.cross_entropy(logits, Yb)\n"
            "    for p in params:\n"
            "        p.grad = None\n"
            "    loss.backward()\n"
            "    for p in params:\n"
            "        p.data += -0.1 * p.grad\n"
            "    return loss\n")
        self.ns.update(torch=torch, F=F, params=self.params, X=self.X, Y=self.Y)
        exec(compile(src, "<global_state_step>", "exec"), self.ns)
        self.step = self.ns["step"]

    def state(self):
        return [self.ns["bnmean_running"], self.ns["bnstd_running"]] + self.params


class RunningMean(torch.nn.Module):
    """A module that rebinds its running statistics as attributes (a buffer and a plain
    attribute) in forward, instead of writing into them."""

    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(N_EMBD * BLOCK, N_HIDDEN)
        self.register_buffer("running_mean", torch.zeros(N_HIDDEN))
        self.running_var = torch.ones(N_HIDDEN)
        self.out = torch.nn.Linear(N_HIDDEN, VOCAB)
        self.emb = torch.nn.Embedding(VOCAB, N_EMBD)

    def forward(self, xb):
        h = self.lin(self.emb(xb).flatten(1))
        if self.training:
            with torch.no_grad():
                self.running_mean = 0.9 * self.running_mean + 0.1 * h.mean(0)
                self.running_var = 0.9 * self.running_var + 0.1 * h.var(0)
            h = (h - h.mean(0)) / (h.var(0) + 1e-5).sqrt()
        else:
            h = (h - self.running_mean) / (self.running_var + 1e-5).sqrt()
        return self.out(torch.relu(h))


class ModuleState:
    def __init__(self):
        torch.manual_seed(5)
        self.X, self.Y = _data()
        self.model = RunningMean()
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.1)

        def step(ix):
            loss = F.cross_entropy(self.model(self.X[ix]), self.Y[ix])
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
            return loss
        self.step = step

    def state(self):
        return [self.model.running_mean, self.model.running_var] + list(self.model.parameters())


def _batches(n):
    g = np.random.default_rng(3)
    return [torch.from_numpy(g.integers(0, 64, 16)) for _ in range(n)]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("make", [GlobalState, ModuleState], ids=["global", "module"])
def test_rebound_state_is_written_back_and_matches_eager(make, backend):
    eager, comp = make(), make()
    fn = torch.compile(comp.step, backend=backend)
    for k, ix in enumerate(_batches(12)):
        le, lc = eager.step(ix), fn(ix)
        for a, b in zip(comp.state(), eager.state()):
            if backend == "interpret":
                np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy(),
                                              err_msg=f"step {k}")
            else:
                np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(),
                                           rtol=1e-5, atol=1e-6, err_msg=f"step {k}")
        assert abs(lc.item() - le.item()) <= 1e-5 * abs(le.item())
    st = fn.stats()
    assert st["fallbacks"] == 0 and st["mode"] == "tree", st
    assert st["traces"] <= 3, st   # first call, then .grad no longer None; then replayed
    if make is ModuleState:   # what the rebinding left: a buffer still registered as one
        assert "running_mean" in dict(comp.model.named_buffers())

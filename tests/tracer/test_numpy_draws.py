"""NumPy's global random draws inside a compiled step (tracer/draws.py): a draw with constant
arguments that the step turns into a tensor is an input of the trace, drawn again on every
call, so the step is traced once and every call equals eager, NumPy's stream included."""
import warnings

import numpy as np
import pytest

import stepjit as torch
import stepjit.nn as nn
from stepjit.runtime.tree import clear_programs

from ..runtime.helpers import assert_same, snapshot

N, LATENT, OUT = 6, 4, 3


def _stream():
    """NumPy's global stream position, comparable."""
    kind, key, pos, gauss, cached = np.random.get_state()
    return key.tobytes(), pos, gauss, cached


def side_by_side(make, calls, backend="interpret", before=None, exact=True):
    """make() -> (step, state tensors). Both copies start from one NumPy seed; NumPy is never
    reseeded between calls, so a draw made once too often or too few shows in every later
    value. before(i) runs ahead of call i, once per copy. Returns the compiled function."""
    clear_programs()
    torch.manual_seed(0)
    eager, e_state = make()
    torch.manual_seed(0)
    step, c_state = make()
    compiled = torch.compile(step, backend=backend)
    np.random.seed(1)
    torch.manual_seed(2)    # (what a lazy layer draws its first weights from)
    want = []
    for i in range(calls):
        if before is not None:
            before(i)
        want.append((snapshot(eager(), e_state), _stream()))
    np.random.seed(1)
    torch.manual_seed(2)
    for i in range(calls):
        if before is not None:
            before(i)
        got = snapshot(compiled(), c_state)
        (e, stream) = want[i]
        assert e[3] == got[3]
        for part in range(3):
            for a, b in zip(e[part], got[part]):
                assert_same(a, b, exact=exact)
        assert _stream() == stream, f"NumPy's stream after call {i} is not eager's"
    return compiled


def _descend(loss, params, lr):
    """The steps below end alike: backward, then plain SGD under no_grad."""
    loss.backward()
    with torch.no_grad():
        for p in params:
            p.sub_(lr * p.grad)
            p.grad = None
    return loss


def _gan(labels_as="LongTensor"):
    """A GAN's step as PyTorch-GAN writes it: the generator's noise, class labels and the
    gradient penalty's mixing weights drawn with NumPy on every step."""
    def make():
        G = nn.Linear(LATENT + 3, OUT)
        D = nn.Linear(OUT, 1)
        emb = nn.Embedding(3, 3)
        opt_g = torch.optim.Adam(list(G.parameters()) + list(emb.parameters()), lr=0.01)
        opt_d = torch.optim.SGD(D.parameters(), lr=0.05)
        real = torch.randn(N, OUT)

        def step():
            z = torch.FloatTensor(np.random.normal(0, 1, (real.shape[0], LATENT)))
            if labels_as == "LongTensor":
                labels = torch.LongTensor(np.random.randint(0, 3, N))
            else:
                labels = torch.from_numpy(np.random.randint(0, 3, size=(N,)))
            fake = G(torch.cat((z, emb(labels)), 1))
            opt_g.zero_grad()
            g_loss = -D(fake).mean()
            g_loss.backward()
            opt_g.step()
            alpha = torch.Tensor(np.random.random((N, 1)))
            mixed = alpha * real + (1 - alpha) * fake.detach()
            opt_d.zero_grad()
            d_loss = D(fake.detach()).mean() - D(real).mean() + 0.1 * D(mixed).pow(2).mean()
            d_loss.backward()
            opt_d.step()
            return g_loss, d_loss
        return step, [*G.parameters(), *D.parameters(), *emb.parameters()]
    return make


@pytest.mark.parametrize("labels_as", ["LongTensor", "from_numpy"])
def test_a_gan_step_is_traced_once_and_draws_as_eager_on_every_call(labels_as):
    with warnings.catch_warnings():
        warnings.simplefilter("error")     # no warning: nothing runs per call
        c = side_by_side(_gan(labels_as), 10)
    st = c.stats()
    # (the first call makes Adam's state: a trace of that call only, then one trace replayed)
    assert (st["mode"], st["traces"], st["eager_calls"], st["fallbacks"]) == ("tree", 2, 0, 0), st


def test_the_fast_call_draws_after_its_guards_on_the_cpu_backend():
    c = side_by_side(_gan(), 10, backend="cpu", exact=False)
    st = c.stats()
    assert (st["mode"], st["traces"], st["eager_calls"]) == ("tree", 2, 0), st
    src = c.fast_sources()[0]
    assert src.index("numpy.random.normal(0, 1, (6, 4))") > src.index("verify_at")
    assert src.index("numpy.random.normal") < src.index("numpy.random.randint") \
        < src.index("numpy.random.random")


FLAG = [True]


def _flagged():
    """A Python value the trace guards, read after the draw (a guard of the same segment)."""
    def make():
        w = torch.randn(LATENT, requires_grad=True)

        def step():
            z = torch.tensor(np.random.normal(size=(N, LATENT)))
            scale = 2.0 if FLAG[0] else -1.0
            loss = (z.float() @ w * scale).pow(2).mean()
            return _descend(loss, [w], 0.01)
        return step, [w]
    return make


def test_a_call_whose_guards_fail_draws_nothing_more_than_eager():
    def before(i):
        FLAG[0] = (i // 3) % 2 == 0
    c = side_by_side(_flagged(), 12, before=before)
    st = c.stats()
    assert st["mode"] == "tree" and st["eager_calls"] == 0 and st["traces"] == 2, st


def _deciding():
    """A decision on values computed from the draw: the tree walk draws in the root segment,
    and a call whose decision goes a new way leaves the tree after drawing."""
    def make():
        w = torch.randn(LATENT, requires_grad=True)

        def step():
            z = torch.as_tensor(np.random.uniform(-1, 1, (N, LATENT)))
            s = (z.float() @ w).mean()
            if s > 0:       # a data-dependent branch on this call's noise
                loss = s * s
            else:
                loss = -s
            eps = torch.from_numpy(np.random.standard_normal(LATENT)).float()
            loss = loss + (w * eps).sum()
            return _descend(loss, [w], 0.01)
        return step, [w]
    return make


def test_a_decision_after_a_draw_leaves_the_stream_as_eager():
    c = side_by_side(_deciding(), 14)
    st = c.stats()
    assert st["mode"] == "tree" and st["eager_calls"] == 0 and st["fallbacks"] == 0, st
    assert st["decision_misses"] >= 1 and st["traces"] <= 3, st


ROWS = [N]


def _sized_by_a_changing_int():
    def make():
        w = torch.randn(LATENT, requires_grad=True)

        def step():
            z = torch.tensor(np.random.normal(0, 1, (ROWS[0], LATENT)))
            loss = (z.float() @ w).pow(2).mean()
            return _descend(loss, [w], 0.01)
        return step, [w]
    return make


def test_a_draw_sized_by_a_value_that_changes_every_call_is_made_by_the_step():
    def before(i):
        ROWS[0] = 2 + i
    c = side_by_side(_sized_by_a_changing_int(), 6, before=before)
    assert c.stats()["mode"] == "per-call retracing"


def _one_hot_labels():
    """PyTorch-GAN's infogan: the drawn labels one-hot encoded with NumPy indexing."""
    def make():
        w = torch.randn(3, requires_grad=True)

        def step():
            labels = np.random.randint(0, 3, N)
            onehot = np.zeros((N, 3))
            onehot[range(N), labels] = 1.0
            loss = (torch.tensor(onehot).float() @ w).pow(2).mean()
            return _descend(loss, [w], 0.1)
        return step, [w]
    return make


def test_a_drawn_array_used_as_numpy_makes_the_step_run_its_python_every_call():
    with pytest.warns(UserWarning, match="numpy.random.randint"):
        c = side_by_side(_one_hot_labels(), 6)
    assert c.stats()["mode"] == "per-call retracing"


KEPT = []


def _kept_draw():
    def make():
        w = torch.randn(LATENT, requires_grad=True)

        def step():
            noise = np.random.normal(0, 1, LATENT)
            KEPT[:] = [noise]          # the step keeps this call's array
            loss = (torch.from_numpy(noise).float() * w).sum()
            return _descend(loss, [w], 0.1)
        return step, [w]
    return make


def test_a_drawn_array_the_step_keeps_is_this_calls_array_after_every_call():
    seen = []

    def before(i):
        if i:
            seen.append(KEPT[0])
    with pytest.warns(UserWarning, match="numpy.random.normal.*keeps it"):
        c = side_by_side(_kept_draw(), 5, before=before)
    assert c.stats()["mode"] == "per-call retracing"
    eager, compiled = seen[:4], seen[4:]
    for a, b in zip(eager, compiled):
        assert type(b) is np.ndarray
        np.testing.assert_array_equal(a, b)


class _NoisyLayer(nn.Module):
    """Noise injection sized by the input: `x.shape`, a Size, is a constant of the trace."""
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(LATENT, OUT)

    def forward(self, x):
        return self.lin(x + torch.from_numpy(np.random.normal(0, 0.1, x.shape)).float())


def _train_model(compiled, calls=8):
    torch.manual_seed(0)
    model = _NoisyLayer()
    forward = torch.compile(model, backend="interpret") if compiled else model
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randn(N, LATENT)
    np.random.seed(3)
    losses = []
    for _ in range(calls):
        loss = forward(x).pow(2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, _stream(), forward


def test_a_compiled_models_forward_draws_noise_shaped_like_its_input():
    losses, stream, _ = _train_model(False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got, got_stream, forward = _train_model(True)
    assert got == losses and got_stream == stream
    assert forward.stats()["traces"] == 1


def _seeded_in_the_step():
    def make():
        w = torch.randn(LATENT, requires_grad=True)

        def step():
            np.random.seed(11)       # the step's own seed: the same noise on every call
            z = torch.tensor(np.random.normal(size=(N, LATENT)))
            loss = (z.float() @ w).pow(2).mean()
            return _descend(loss, [w], 0.01)
        return step, [w]
    return make


def test_a_step_that_seeds_numpy_before_drawing_is_not_replayed_unseeded():
    with pytest.warns(UserWarning, match="numpy.random"):
        c = side_by_side(_seeded_in_the_step(), 5)
    assert c.stats()["mode"] == "per-call retracing"


def _lazy_after_a_draw():
    def make():
        layer = nn.LazyLinear(1)

        def step():
            z = torch.tensor(np.random.normal(size=(N, LATENT))).float()
            loss = layer(z).pow(2).mean()    # the first call makes the weights: run eagerly
            return _descend(loss, list(layer.parameters()), 0.01)
        return step, []
    return make


def test_a_trace_stopped_after_a_draw_leaves_the_stream_as_eager():
    """The first call's trace draws, then meets the lazy layer and stops; the call runs
    eagerly and draws again, from the state the trace found."""
    c = side_by_side(_lazy_after_a_draw(), 4)
    assert c.stats()["fallbacks"] == 1 and c.stats()["mode"] == "tree"


IT = [0]


def _counter_after_a_draw():
    """runtime/walk.py's case with a draw in the first segment: a loop counter guarded by value
    in the leaf of the trace made before it changed, read symbolically after; the walk enters
    the older trace's root (and draws), misses at its leaf and backtracks to the newer one."""
    def make():
        w = torch.randn(LATENT, 2, requires_grad=True)
        x = torch.randn(N, LATENT)

        def step():
            z = torch.tensor(np.random.normal(0, 1, (N, LATENT))).float()
            noisy = x + 0.1 * z
            rows = noisy[1:5] if x.sum() > -1e9 else noisy[:4]   # a decision: segments
            scale = 2.0 if IT[0] % 5 == 0 else 1.0
            loss = ((rows @ w) * scale).pow(2).mean()
            return _descend(loss, [w], 0.1)
        return step, [w]
    return make


def test_a_walk_that_backtracks_past_a_draw_draws_once():
    def before(i):
        IT[0] = i
    try:
        c = side_by_side(_counter_after_a_draw(), 12, before=before)
    finally:
        IT[0] = 0
    st = c.stats()
    assert (st["eager_calls"], st["fallbacks"], st["mode"]) == (0, 0, "tree"), st


def _replay_buffer():
    """A DQN-style step sampling its batch from a tensor buffer with NumPy's indices."""
    def make():
        w = torch.randn(LATENT, requires_grad=True)
        states = torch.randn(16, LATENT)
        rewards = torch.randn(16)

        def step():
            idx = np.random.randint(0, len(states), N)
            batch, target = states[idx], rewards[torch.from_numpy(idx)]
            loss = (batch @ w - target).pow(2).mean()
            return _descend(loss, [w], 0.05)
        return step, [w]
    return make


def test_a_tensor_indexed_by_drawn_indices_is_replayed():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = side_by_side(_replay_buffer(), 8)
    assert (c.stats()["mode"], c.stats()["traces"]) == ("tree", 1), c.stats()

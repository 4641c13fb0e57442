"""A compiled model whose outputs require grad: compiled forward, compiled backward behind one
CompiledFunctionBackward node, with loss.backward() and the optimizer outside (PyTorch 2's
`model = torch.compile(model)`). Every test compares with the same program run eagerly, or
with PyTorch's recorded values."""
from pathlib import Path

import numpy as np
import pytest

import stepjit as torch
from stepjit import nn
from stepjit.nn import functional as F

FIXTURES = Path(__file__).parent.parent / "fixtures" / "aot"


def mlp(seed=0, dtype=torch.float64):
    torch.manual_seed(seed)
    m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    return m.to(dtype)


def data(seed=1, dtype=torch.float64, n=6):
    torch.manual_seed(seed)
    return torch.randn(n, 4, dtype=dtype), torch.randn(n, 1, dtype=dtype)


def train(m, forward, x, y, steps):
    """Compiled (or eager) forward; backward and SGD outside. Per step: loss, grads, params."""
    opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    seen = []
    for _ in range(steps):
        opt.zero_grad()
        loss = ((forward(x) - y) ** 2).mean()
        loss.backward()
        grads = [p.grad.numpy().copy() for p in m.parameters()]
        opt.step()
        seen.append((loss.item(), grads, [p.detach().numpy().copy() for p in m.parameters()]))
    return seen


def compare(a, b, exact):
    for (la, ga, pa), (lb, gb, pb) in zip(a, b):
        if exact:
            assert la == lb
        else:
            np.testing.assert_allclose(la, lb, rtol=1e-10)
        for u, v in zip(ga + pa, gb + pb):
            if exact:
                assert u.dtype == v.dtype and np.array_equal(u, v), np.abs(u - v).max()
            else:
                np.testing.assert_allclose(u, v, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_compiled_model_trains_like_eager(backend):
    x, y = data()
    eager_model = mlp()
    eager = train(eager_model, eager_model, x, y, steps=5)
    m = mlp()
    cm = torch.compile(m, backend=backend)
    got = train(m, cm, x, y, steps=5)
    compare(eager, got, exact=backend == "interpret")
    stats = cm.stats()
    assert stats["traces"] == 1 and stats["retraces"] == 0 and stats["fallbacks"] == 0


def test_the_node_is_named_like_pytorchs():
    x, _ = data()
    m = mlp()
    out = torch.compile(m, backend="interpret")(x)
    assert out.requires_grad and not out.is_leaf
    assert type(out.grad_fn).__name__ == "CompiledFunctionBackward"
    edges = [type(n).__name__ for n, _ in out.grad_fn.next_functions]
    assert edges == ["AccumulateGrad"] * 4


def test_no_grad_and_nothing_requiring_grad_run_forward_only():
    x, _ = data()
    m = mlp()
    cm = torch.compile(m, backend="interpret")
    with torch.no_grad():
        out = cm(x)
    assert not out.requires_grad and out.grad_fn is None
    for p in m.parameters():
        p.requires_grad_(False)
    out = cm(x)
    assert not out.requires_grad and out.grad_fn is None
    assert all(tr.aot is None for tr in cm.traces)


def _recorded(name):
    path = FIXTURES / f"{name}.npz"
    return dict(np.load(path))


class Multi(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 1)

    def forward(self, x):
        h = torch.tanh(self.fc1(x))
        out = self.fc2(h)
        return out, h, out.argmax(0)


@pytest.mark.parametrize("name", ["mlp", "multi"])
def test_against_pytorch_recorded(name):
    rec = _recorded(name)
    multi = name == "multi"
    m = Multi() if multi else nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
    m = m.double()
    layers = [m.fc1, m.fc2] if multi else [m[0], m[2]]
    with torch.no_grad():
        for lin, (w, b) in zip(layers, [("w1", "b1"), ("w2", "b2")]):
            lin.weight.copy_(torch.tensor(rec[w]))
            lin.bias.copy_(torch.tensor(rec[b]))
    cm = torch.compile(m, backend="interpret")
    opt = torch.optim.SGD(m.parameters(), lr=0.1)
    x, y = torch.tensor(rec["x"]), torch.tensor(rec["y"])
    for k in range(4):
        opt.zero_grad()
        out = cm(x)
        if multi:
            pred, h, idx = out
            assert idx.dtype == torch.int64 and not idx.requires_grad
            loss = ((pred - y) ** 2).mean() + 0.1 * (h * h).mean()
        else:
            loss = ((out - y) ** 2).mean()
        loss.backward()
        np.testing.assert_allclose(loss.item(), rec[f"loss{k}"], rtol=1e-12)
        for i, p in enumerate(m.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), rec[f"grad{k}_{i}"], rtol=1e-10, atol=1e-14)
        opt.step()
        for i, p in enumerate(m.parameters()):
            np.testing.assert_allclose(p.detach().numpy(), rec[f"param{k}_{i}"], rtol=1e-12)
    assert cm.stats()["traces"] == 1


# -- the semantics of the eager engine, through the node -------------------------------------
def _both(fn, args_of, use):
    """Run use(fn(*args)) eagerly and compiled on fresh copies; return both (result, grads)."""
    results = []
    for compiled in (False, True):
        args = args_of()
        f = torch.compile(fn, backend="interpret") if compiled else fn
        value = use(f(*args))
        grads = [None if a.grad is None else a.grad.numpy().copy() for a in args]
        results.append((value, grads))
    (ve, ge), (vc, gc) = results
    assert (ve is None) == (vc is None)
    if ve is not None:
        np.testing.assert_array_equal(ve, vc)
    for a, b in zip(ge, gc):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(a, b)
    return results


def _leaves(seed=0):
    def make():
        torch.manual_seed(seed)
        return [torch.randn(3, 4, dtype=torch.float64, requires_grad=True),
                torch.randn(4, 2, dtype=torch.float64, requires_grad=True)]
    return make


def test_several_outputs_partial_use_and_used_twice():
    def f(x, w):
        h = x @ w
        return h.sigmoid(), h * 2.0, (x * x).sum()

    def use_two(out):
        a, b, _ = out   # the third output is never used
        loss = (a * b).sum() + a.sum()   # a used twice
        loss.backward()
        return loss.detach().numpy()

    def use_one(out):
        out[1].sum().backward()
        return None

    _both(f, _leaves(), use_two)
    _both(f, _leaves(), use_one)


def test_non_differentiable_outputs():
    def f(x, w):
        h = x @ w
        return h, h.argmax(1), 3

    def use(out):
        h, idx, n = out
        assert not idx.requires_grad and idx.grad_fn is None and n == 3
        (h.sum() * n).backward()
        return idx.numpy()

    _both(f, _leaves(), use)


def test_output_aliasing_an_input():
    def f(x, w):
        return x, x.t(), x @ w

    def use(out):
        x_same, xt, h = out
        (xt.sum() * 3.0 + h.sum()).backward()
        return None

    (_, _), (_, _) = _both(f, _leaves(), use)


def test_hooks_on_leaves_run_once():
    calls = []

    def make():
        args = _leaves()()
        args[1].register_hook(lambda g: calls.append(1) or g * 2.0)
        return args

    def f(x, w):
        return (x @ w).tanh()

    _both(f, make, lambda out: out.sum().backward())
    assert len(calls) == 2   # once eagerly, once compiled


def test_hooks_and_retain_grad_on_the_results():
    def f(x, w):
        return (x @ w).tanh(), x.sum(1)

    def use(out):
        a, b = out
        a.register_hook(lambda g: g * 3.0)
        b.retain_grad()
        ((a * 2.0).sum() + (b * b).sum()).backward()
        return b.grad.numpy().copy()

    _both(f, _leaves(), use)


def test_retain_graph_and_its_error():
    def f(x, w):
        return (x @ w).exp()

    def twice(out):
        loss = out.sum()
        loss.backward(retain_graph=True)
        loss.backward()
        return None

    _both(f, _leaves(), twice)

    x, w = _leaves()()
    out = torch.compile(f, backend="interpret")(x, w)
    loss = out.sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()


def test_backward_through_eager_ops_and_into_outside_history():
    lin = None

    def make():
        nonlocal lin
        torch.manual_seed(3)
        lin = nn.Linear(4, 4).double()
        return _leaves()()

    def f(h, w):
        return (h @ w).relu()

    grads = []
    for compiled in (False, True):
        x, w = make()
        g = torch.compile(f, backend="interpret") if compiled else f
        h = lin(x)                     # an input with autograd history
        out = g(h, w)
        loss = (out * 2.0 + 1.0).pow(2).mean()   # eager ops after the compiled region
        loss.backward()
        grads.append([t.grad.numpy().copy() for t in (x, w, lin.weight, lin.bias)])
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)


def test_a_step_calling_backward_on_outside_history_runs_eagerly():
    grads = []
    for compiled in (False, True):
        torch.manual_seed(3)
        lin = nn.Linear(4, 4).double()
        x, w = _leaves()()

        def step(h):
            loss = (h @ w).sum()
            loss.backward()      # eagerly this reaches lin's parameters through h's history
            return loss

        if compiled:
            step = torch.compile(step, backend="interpret")
            with pytest.warns(UserWarning, match="autograd history from outside the step"):
                step(lin(x))
        else:
            step(lin(x))
        grads.append([t.grad.numpy().copy() for t in (w, lin.weight, lin.bias)])
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)


def test_two_calls_before_one_backward_keep_their_own_residuals():
    x1, y = data(1)
    x2, _ = data(2)
    results = []
    for backend in (None, "interpret", "cpu"):
        m = mlp()
        f = m if backend is None else torch.compile(m, backend=backend)
        a = f(x1)
        b = f(x2)
        ((a - y).pow(2).sum() + 3.0 * b.sigmoid().sum()).backward()
        results.append([p.grad.numpy().copy() for p in m.parameters()])
    for got in results[1:]:
        for u, v in zip(results[0], got):
            np.testing.assert_allclose(u, v, rtol=1e-12)


def test_changing_a_saved_input_before_backward_raises_as_eagerly():
    def f(x, w):
        return (x @ w).sum()

    for fn in (f, torch.compile(f, backend="interpret")):
        x, w = _leaves()()
        loss = fn(x, w)
        with torch.no_grad():
            w.mul_(2.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            loss.backward()


class RunningNorm(nn.Module):
    """Batch-norm-like: normalizes by the batch mean in training and updates a running mean in
    place under no_grad (a buffer written inside the compiled forward)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 6)
        self.out = nn.Linear(6, 1)
        self.running_mean = torch.zeros(6, dtype=torch.float64)

    def forward(self, x):
        h = self.fc(x)
        mean = h.mean(0)
        with torch.no_grad():
            self.running_mean.mul_(0.9).add_(0.1 * mean)
        return self.out((h - mean).relu())


def test_buffer_written_in_the_forward_and_grads_match():
    x, y = data(n=8)
    runs = []
    for compiled in (False, True):
        torch.manual_seed(5)
        m = RunningNorm().double()
        f = torch.compile(m, backend="interpret") if compiled else m
        seen = train(m, f, x, y, steps=3)
        runs.append((seen, m.running_mean.numpy().copy()))
    compare(runs[0][0], runs[1][0], exact=True)
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


def test_a_saved_input_the_forward_writes_raises_at_backward_as_eagerly():
    def f(x, w, s):
        h = (x @ w) * s      # the backward of w reads s as it was here
        with torch.no_grad():
            s.mul_(0.5)
        return h

    for fn in (f, torch.compile(f, backend="interpret")):
        x, w = _leaves()()
        s = torch.full((2,), 3.0, dtype=torch.float64)
        out = fn(x, w, s)    # the forward runs, and writes s, as eagerly
        np.testing.assert_array_equal(s.numpy(), [1.5, 1.5])
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            out.sum().backward()


def test_create_graph_names_the_alternative():
    x, w = _leaves()()
    out = torch.compile(lambda x, w: (x @ w).sum(), backend="interpret")(x, w)
    with pytest.raises(NotImplementedError):
        torch.autograd.grad(out, [w], create_graph=True)


def test_a_whole_step_calling_backward_keeps_detached_results():
    m = mlp()
    x, y = data()

    @torch.compile(backend="interpret")
    def step(x, y):
        loss = ((m(x) - y) ** 2).mean()
        loss.backward()
        return loss

    loss = step(x, y)
    assert loss.grad_fn is None and not loss.requires_grad
    assert step.traces[0].aot is None


# -- inspection, torch.compile's arguments, reset ------------------------------------------
DUMP_SCRIPT = """
import stepjit as torch
from stepjit import nn
torch.manual_seed(0)
m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))
model = torch.compile(m, backend="interpret")
def forward(x):
    return model(x)
loss = forward(torch.randn(5, 4)).sum()
loss.backward()
"""


def test_dump_shows_the_forward_and_the_backward(tmp_path, capsys):
    from stepjit.cli import main
    script = tmp_path / "model.py"
    script.write_text(DUMP_SCRIPT)
    assert main(["dump", str(script)]) == 0
    out = capsys.readouterr().out
    assert "## Sequential: trace 1 (first call)" in out
    assert "# forward (its outputs after the results are the residuals" in out
    assert "## Sequential: trace 1: backward (CompiledFunctionBackward" in out
    assert "def Sequential_backward(" in out and "%grad_0: f32[5,1]" in out
    assert "# model.py:8  (backward) return model(x)" in out
    assert main(["dump", str(script), "--stage", "fused"]) == 0
    assert capsys.readouterr().out.count("# stage: fused") == 2
    assert main(["explain", str(script)]) == 0
    assert ("its results require grad: a backward graph of 16 nodes (CompiledFunctionBackward) "
            "gives 4 inputs their gradients from 1 result gradients and 3 residuals "
            "(%t2_weight, %3, %args)") in capsys.readouterr().out


def test_torch_compile_arguments():
    m = mlp()
    cm = torch.compile(m, mode="max-autotune", fullgraph=True, dynamic=True, backend="aot_eager")
    assert cm.backend == "interpret" and cm._orig_mod is m
    assert torch.compile(m, backend="inductor").backend == "cpu"
    assert torch.compile(m, options={"triton.cudagraphs": False}).backend == "cpu"
    assert torch.compile(m, disable=True) is m
    with pytest.raises(RuntimeError, match="Unrecognized mode=fastest"):
        torch.compile(m, mode="fastest")
    with pytest.raises(RuntimeError, match="Either mode or options"):
        torch.compile(m, mode="default", options={})
    with pytest.raises(ValueError, match="custom backend functions"):
        torch.compile(m, backend=lambda gm, example_inputs: gm)
    # the compiled module is the module for everything but the call
    assert len(list(cm.parameters())) == 4 and cm.training
    assert cm.eval() is cm and not m.training and not cm.training
    assert cm.double() is cm and cm.train(True) is cm and m.training
    assert set(cm.state_dict()) == set(m.state_dict())


def test_fullgraph_raises_where_the_function_would_run_eagerly():
    def f(x, n):
        for _ in range(n):        # a new structure for every n: a new program each call
            x = x * 2
        return x

    x = torch.ones(2)
    loose = torch.compile(f, backend="interpret", recompile_limit=2)
    strict = torch.compile(f, backend="interpret", recompile_limit=2, fullgraph=True)
    with pytest.warns(UserWarning):
        for n in range(6):
            loose(x, n)
    assert loose.stats()["fallbacks"] > 0
    with pytest.raises(RuntimeError, match="fullgraph=True"):
        for n in range(6):
            strict(x, n)


def test_reset_forgets_traces():
    x, _ = data()
    cm = torch.compile(mlp(), backend="interpret")
    cm(x)
    assert cm.stats()["traces"] == 1
    torch.compiler.reset()
    assert cm.stats()["traces"] == 0 and cm.stats()["cached_traces"] == 0
    cm(x)
    torch._dynamo.reset()
    cm(x)
    assert cm.stats()["traces"] == 1
    assert not torch.compiler.is_compiling()


def test_dropout_in_the_compiled_forward_trains_like_eager():
    def model():
        torch.manual_seed(7)
        return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 1)).double()

    x, y = data()
    runs = []
    for compiled in (False, True):
        m = model()
        f = torch.compile(m, backend="interpret") if compiled else m
        torch.manual_seed(11)
        runs.append(train(m, f, x, y, steps=3))
    compare(runs[0], runs[1], exact=True)


def test_a_data_dependent_branch_in_the_forward():
    def f(x, w):
        h = x @ w
        if h.sum() > 0:          # a decision: the trace tree holds both ways
            return (h * 2.0).tanh()
        return h.sigmoid()

    compiled = torch.compile(f, backend="interpret")
    for sign in (1.0, -1.0, 1.0, -1.0):
        grads = []
        for fn in (f, compiled):
            x, w = _leaves()()
            with torch.no_grad():
                w.abs_().mul_(sign)
                x.abs_()
            (fn(x, w) ** 2).sum().backward()
            grads.append((x.grad.numpy().copy(), w.grad.numpy().copy()))
        for a, b in zip(*grads):
            np.testing.assert_array_equal(a, b)
    assert compiled.stats()["traces"] == 2



# -- nanoGPT's pattern: model = torch.compile(model), loss inside forward, accumulation outside --
class _Block(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.ln = nn.LayerNorm(n)
        self.fc = nn.Linear(n, 4 * n)
        self.proj = nn.Linear(4 * n, n)
        self.drop = nn.Dropout(0.0)

    def forward(self, x):
        return x + self.drop(self.proj(F.gelu(self.fc(self.ln(x)))))


class _GPT(nn.Module):
    def __init__(self, vocab=11, n=16, block=8):
        super().__init__()
        self.wte = nn.Embedding(vocab, n)
        self.wpe = nn.Embedding(block, n)
        self.blocks = nn.ModuleList([_Block(n) for _ in range(2)])
        self.head = nn.Linear(n, vocab, bias=False)

    def forward(self, idx, targets=None):
        _, t = idx.size()
        x = self.wte(idx) + self.wpe(torch.arange(0, t, dtype=torch.long))
        for blk in self.blocks:
            x = blk(x)
        logits = self.head(x)
        if targets is None:
            return logits[:, [-1], :], None
        return logits, F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1),
                                       ignore_index=-1)


def _train_gpt(compiled):
    torch.manual_seed(0)
    model = _GPT().double()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
    if compiled:
        model = torch.compile(model, backend="interpret")
    rng = np.random.default_rng(0)
    losses = []
    for it in range(6):
        for _ in range(2):   # gradient accumulation: .grad is None, then not
            X = torch.tensor(rng.integers(0, 11, (4, 8)))
            Y = torch.tensor(rng.integers(0, 11, (4, 8)))
            _, loss = model(X, Y)
            (loss / 2).backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(loss.item())
        if it % 3 == 2:
            model.eval()
            with torch.no_grad():
                losses.append(model(X, Y)[1].item())
                losses.append(model(X[:, :5])[0].sum().item())
            model.train()
    return losses, model


def test_a_small_gpt_trained_as_nanogpt_trains():
    """Embedding, LayerNorm, GELU, the loss computed inside the compiled forward and returned
    with the logits, gradient accumulation over micro-steps, clip_grad_norm_, AdamW, and an
    evaluation under no_grad and eval() with a shorter sequence: equal to eager bit for bit."""
    eager, _ = _train_gpt(False)
    got, compiled = _train_gpt(True)
    assert eager == got
    stats = compiled.stats()
    # grad mode (whether a .grad exists does not matter to a forward that never reads it);
    # no_grad at two lengths
    assert stats["traces"] == 3 and stats["fallbacks"] == 0


def test_two_inputs_with_one_gradient_value_accumulate_apart():
    def f(a, b):
        return ((a + b) * 2.0).sum()    # a and b get the same gradient value

    def make():
        torch.manual_seed(0)
        return [torch.randn(3, dtype=torch.float64, requires_grad=True) for _ in range(2)]

    for fn in (f, torch.compile(f, backend="interpret"), torch.compile(f, backend="cpu")):
        a, b = make()
        fn(a, b).backward()
        fn(a, b).backward()     # accumulates into each .grad in place
        np.testing.assert_array_equal(a.grad.numpy(), [4.0, 4.0, 4.0])
        np.testing.assert_array_equal(b.grad.numpy(), [4.0, 4.0, 4.0])

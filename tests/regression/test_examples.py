"""The examples/ programs, checked three ways.

1. They run and their loss goes down.
2. Their losses match a hand-written NumPy forward/backward/update of the same
   math from the same initial values (rtol 1e-5).
3. Where PyTorch is installed (optional), the same source with `import torch`
   put back gives the same losses from the same initial values (rtol 1e-5).

Each example exposes `init()` (initial values) and `main(steps, <initial values>,
log_every=0)` returning the loss of every step.
"""
import importlib.util
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import stepjit

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
IMPORT_LINE = "import stepjit as torch\n"
STEPS = 20
RTOL = 1e-5


def load_example(name, framework="stepjit"):
    """Load examples/<name>.py as a fresh module; framework="torch" puts `import torch` back."""
    source = (EXAMPLES / f"{name}.py").read_text()
    assert IMPORT_LINE in source, f"{name}.py should start from `{IMPORT_LINE.strip()}`"
    if framework == "torch":
        source = source.replace(IMPORT_LINE, "import torch\n")
    module = types.ModuleType(f"example_{name}_{framework}")
    module.__file__ = str(EXAMPLES / f"{name}.py")
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module


def as_numpy(*tensors):
    return [t.detach().numpy().copy() for t in tensors]


def leaves(framework, arrays, requires_grad):
    """Tensors of `framework` (the stepjit or torch module) holding copies of `arrays`."""
    out = []
    for a, rg in zip(arrays, requires_grad):
        t = framework.from_numpy(a.copy())
        out.append(t.requires_grad_() if rg else t)
    return out


def assert_decreasing(losses):
    assert all(np.isfinite(losses)), losses
    assert losses[-1] < losses[0], losses


# ------------------------------------------------------------ NumPy references

def numpy_two_layer(x, y, w1, w2, lr, steps):
    w1, w2 = w1.copy(), w2.copy()
    losses = []
    for _ in range(steps):
        h = x @ w1
        h_relu = np.maximum(h, 0)
        y_pred = h_relu @ w2
        losses.append(float(np.square(y_pred - y).sum()))
        grad_y_pred = 2.0 * (y_pred - y)
        grad_w2 = h_relu.T @ grad_y_pred
        grad_h = grad_y_pred @ w2.T
        grad_h[h < 0] = 0
        grad_w1 = x.T @ grad_h
        w1 -= lr * grad_w1
        w2 -= lr * grad_w2
    return losses


def numpy_logistic(x, y, w, b, lr, steps):
    w, b = w.copy(), b.copy()
    losses = []
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(x @ w + b)))
        losses.append(float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean()))
        dz = (p - y) / len(x)
        w -= lr * (x.T @ dz)
        b -= lr * dz.sum(axis=0)
    return losses


def numpy_linear(x, y, w, b, lr, steps):
    w, b = w.copy(), b.copy()
    losses = []
    for _ in range(steps):
        r = x @ w + b - y
        losses.append(float(np.square(r).mean()))
        d = 2 * r / r.size
        w -= lr * (x.T @ d)
        b -= lr * d.sum(axis=0)
    return losses


def numpy_mlp_sgd(x, y, params, lr, momentum, steps):
    """Linear-ReLU-Linear, MSELoss, SGD with momentum (dampening 0, PyTorch's buffer rule)."""
    params = [p.copy() for p in params]
    bufs = [None] * len(params)
    losses = []
    for _ in range(steps):
        W1, b1, W2, b2 = params
        h = x @ W1.T + b1
        a = np.maximum(h, 0)
        out = a @ W2.T + b2
        losses.append(float(np.square(out - y).mean()))
        d = 2 * (out - y) / out.size
        dh = (d @ W2) * (h > 0)
        grads = [dh.T @ x, dh.sum(axis=0), d.T @ a, d.sum(axis=0)]
        for i, g in enumerate(grads):
            bufs[i] = g.copy() if bufs[i] is None else momentum * bufs[i] + g
            params[i] -= lr * bufs[i]
    return losses


# ------------------------------------------------------------ the examples

def test_two_layer_net_matches_numpy():
    ex = load_example("two_layer_net")
    tensors = ex.init()
    start = as_numpy(*tensors)
    losses = ex.main(steps=STEPS, tensors=tensors, log_every=0)
    assert_decreasing(losses)
    np.testing.assert_allclose(losses, numpy_two_layer(*start, lr=1e-6, steps=STEPS), rtol=RTOL)


def test_logistic_regression_matches_numpy():
    ex = load_example("logistic_regression")
    tensors = ex.init()
    start = as_numpy(*tensors)
    losses = ex.main(steps=STEPS, tensors=tensors, log_every=0)
    assert_decreasing(losses)
    np.testing.assert_allclose(losses, numpy_logistic(*start, lr=0.5, steps=STEPS), rtol=RTOL)


def test_linear_regression_matches_numpy():
    ex = load_example("linear_regression")
    tensors = ex.init()
    start = as_numpy(*tensors)
    losses = ex.main(steps=STEPS, tensors=tensors, log_every=0)
    assert_decreasing(losses)
    np.testing.assert_allclose(losses, numpy_linear(*start, lr=0.01, steps=STEPS), rtol=RTOL)


def require_nn_optim():
    """Skip until stepjit.nn and stepjit.optim (being written) provide what mlp_sgd uses."""
    nn = pytest.importorskip("stepjit.nn", reason="stepjit.nn is not importable yet")
    optim = pytest.importorskip("stepjit.optim", reason="stepjit.optim is not importable yet")
    missing = [f"stepjit.nn.{n}" for n in ("Module", "Linear", "ReLU", "MSELoss")
               if not hasattr(nn, n)]
    missing += ["stepjit.optim.SGD"] if not hasattr(optim, "SGD") else []
    missing += [f"stepjit.{n}" for n in ("nn", "optim") if not hasattr(stepjit, n)]
    if missing:
        pytest.skip("not written yet: " + ", ".join(missing))


def _mlp_params(model):
    return [model.fc1.weight, model.fc1.bias, model.fc2.weight, model.fc2.bias]


def test_mlp_sgd_matches_numpy():
    require_nn_optim()
    ex = load_example("mlp_sgd")
    x, y, model = ex.init()
    start = as_numpy(x, y, *_mlp_params(model))
    losses = ex.main(steps=STEPS, data=(x, y, model), log_every=0)
    assert_decreasing(losses)
    ref = numpy_mlp_sgd(start[0], start[1], start[2:], lr=0.01, momentum=0.9, steps=STEPS)
    np.testing.assert_allclose(losses, ref, rtol=RTOL)


@pytest.mark.parametrize("name, shrink", [
    ("two_layer_net", 1e-4),
    ("logistic_regression", 0.5),
    ("linear_regression", 1e-3),
    ("mlp_sgd", 0.5),
])
def test_examples_train_with_their_defaults(name, shrink, capsys):
    """Each example's main() as the script runs it: default steps, printed progress."""
    if name == "mlp_sgd":
        require_nn_optim()
    losses = load_example(name).main()
    assert all(np.isfinite(losses))
    assert losses[-1] < shrink * losses[0], (losses[0], losses[-1])
    assert capsys.readouterr().out.strip()


# ------------------------------------------------------------ PyTorch oracle (optional)

def _with_torch(name, run):
    """Run `run(example_module, framework)` for stepjit and for torch; compare losses."""
    torch = pytest.importorskip("torch")
    got = run(load_example(name), stepjit)
    want = run(load_example(name, "torch"), torch)
    assert_decreasing(got)
    np.testing.assert_allclose(got, want, rtol=RTOL)


@pytest.mark.parametrize("name, requires_grad", [
    ("two_layer_net", (False, False, True, True)),
    ("logistic_regression", (False, False, True, True)),
    ("linear_regression", (False, False, True, True)),
])
def test_matches_pytorch(name, requires_grad):
    start = as_numpy(*load_example(name).init())

    def run(ex, framework):
        tensors = leaves(framework, start, requires_grad)
        return ex.main(steps=STEPS, tensors=tensors, log_every=0)

    _with_torch(name, run)


def test_mlp_sgd_matches_pytorch():
    require_nn_optim()
    x, y, model = load_example("mlp_sgd").init()
    start = as_numpy(x, y, *_mlp_params(model))

    def run(ex, framework):
        x, y = leaves(framework, start[:2], (False, False))
        model = ex.MLP(x.shape[1], start[2].shape[0], y.shape[1])
        with framework.no_grad():
            for p, value in zip(_mlp_params(model), start[2:]):
                p.copy_(framework.from_numpy(value.copy()))
        return ex.main(steps=STEPS, data=(x, y, model), log_every=0)

    _with_torch("mlp_sgd", run)


# ------------------------------------------------------------ the stepjit command

def test_demo_prints_eager_and_compiled_losses_every_100_steps(capsys):
    from stepjit import cli
    assert cli.main(["demo", "--steps", "200"]) == 0
    out = capsys.readouterr().out
    lines = [ln.split() for ln in out.splitlines() if ln.strip()[:1].isdigit()]
    assert [ln[0] for ln in lines] == ["99", "199"]
    # float32 drift: whether the program turns native in this process or in a compile
    # helper (chosen by the machine's load) moves the step at which its summation order
    # changes; after 200 steps the two paths part by up to ~2.5e-4 of a 0.33 loss.
    for _, eager, compiled in lines:
        assert abs(float(eager) - float(compiled)) <= 1e-3 * abs(float(eager))
    assert float(lines[1][1]) < float(lines[0][1])
    assert "speedup" in out and "fused kernels:" in out and "loop [" in out


def test_missing_subcommand_says_not_available(capsys):
    from stepjit import cli
    reason = cli._resolve("dump", "stepjit.no_such_module:dump")
    assert isinstance(reason, str) and "not built yet" in reason
    assert cli._not_available("dump", reason) == cli.NOT_AVAILABLE == 2
    assert "stepjit dump: not available yet: " in capsys.readouterr().err

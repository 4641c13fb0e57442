"""Python accumulators a compiled step updates from `.item()` (tracer/results.py): the graph
computes them and the runtime writes them back after every call, so the step is traced a
couple of times and then replayed, and every accumulator equals the eager run's bit for bit
after every call (float64 sums of float32 losses, as Python adds them; ints as ints).

The steps are modelled on tutorial loops: the CIFAR-10 tutorial's `running_loss` printed and
reset every N steps, a test loop counting `correct`, makemore's `lossi.append(...)`, and a
trainer class keeping totals on `self`. Each runs eagerly and compiled from the same start
and compares the Python state and the parameters after every call."""
import contextlib
import io
import warnings

import numpy as np
import pytest

import stepjit as torch
import stepjit.nn.functional as F

CALLS = 20
N, D, K = 8, 5, 3


def _data(calls=CALLS):
    torch.manual_seed(1)
    return [(torch.randn(N, D), torch.randint(0, K, (N,))) for _ in range(calls)]


def _weights():
    torch.manual_seed(0)
    return torch.randn(D, K, requires_grad=True), torch.zeros(K, requires_grad=True)


def _sgd(params, lr=0.1):
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad.zero_()


def _run(make, calls, compiled, backend="interpret", between=None):
    """make() -> (step, read, params); step(x, y, i) is called for each batch. Returns the state
    read after each call, the final parameters, the printed text and the compiled function."""
    step, read, params = make()
    fn = torch.compile(step, backend=backend) if compiled else step
    states, out = [], io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(out):
        warnings.simplefilter("error")    # no per-call or fallback warning
        for i, (x, y) in enumerate(_data(calls)):
            if between is not None:
                between(i)
            fn(x, y, i)
            states.append(read())
    return states, [p.detach().numpy().copy() for p in params], out.getvalue(), fn


def _same(make, calls=CALLS, between=None, backend="interpret"):
    eager = _run(make, calls, False, between=between)
    got = _run(make, calls, True, backend, between=between)
    for i, (a, b) in enumerate(zip(eager[0], got[0])):
        assert _typed(b) == _typed(a), f"call {i}: compiled {b} eager {a}"
    for a, b in zip(eager[1], got[1]):
        np.testing.assert_array_equal(b, a)
    assert got[2] == eager[2]
    st = got[3].stats()
    assert st["fallbacks"] == 0 and st["eager_calls"] == 0 and st["mode"] == "tree", st
    return st


def _typed(x):
    """x with each number paired with its type (0 == 0.0 == False must not pass)."""
    if isinstance(x, (list, tuple)):
        return [_typed(v) for v in x]
    if isinstance(x, dict):
        return {k: _typed(v) for k, v in x.items()}
    return (type(x).__name__, x.hex() if type(x) is float else x)


# -- the CIFAR-10 tutorial's running loss -------------------------------------------------------
G = {}


def _cifar(every):
    def make():
        w, b = _weights()
        G["running_loss"] = 0.0

        def train_step(inputs, labels, i):
            loss = F.cross_entropy(inputs @ w + b, labels)
            loss.backward()
            _sgd((w, b))
            G["running_loss"] += loss.item()
            if i % every == every - 1:
                print(f"[{i + 1:5d}] loss: {G['running_loss'] / every:.3f}")
                G["running_loss"] = 0.0
            return loss
        return train_step, lambda: G["running_loss"], (w, b)
    return make


running_loss = 0.0


def _cifar_global(every):
    """The same with a module global, as the tutorial's script has it."""
    def make():
        global running_loss
        w, b = _weights()
        running_loss = 0.0

        def train_step(inputs, labels, i):
            global running_loss
            loss = F.cross_entropy(inputs @ w + b, labels)
            loss.backward()
            _sgd((w, b))
            running_loss += loss.item()
            if i % every == every - 1:
                print(f"[{i + 1:5d}] loss: {running_loss / every:.3f}")
                running_loss = 0.0
            return loss
        return train_step, lambda: running_loss, (w, b)
    return make


def test_running_loss_of_the_cifar_tutorial_is_replayed_not_traced_every_call():
    st = _same(_cifar_global(2000))
    assert st["traces"] <= 2, st


def test_running_loss_printed_and_reset_inside_the_step(monkeypatch):
    # every 8th call prints (a trace of that call only) and resets the total; the others replay
    # (a large step as far as the runtime is concerned: a small one printing this often runs
    # eagerly, config.dynamo.one_shot_gap)
    monkeypatch.setattr(torch.config.dynamo, "per_call_eager_below", 0)
    st = _same(_cifar_global(8))
    assert st["traces"] <= 2 + CALLS // 8 + 1, st
    st = _same(_cifar(8))
    assert st["traces"] <= 2 + CALLS // 8 + 1, st


def test_running_loss_reset_and_read_by_the_script_between_calls():
    seen = []

    def between(i):
        global running_loss
        seen.append(running_loss)          # Python reads it between calls
        if i % 7 == 0:
            running_loss = 0.0             # the script resets it, an epoch's start
        if i == 10:
            running_loss = 0               # an int now: `running_loss = 0` is common too
    st = _same(_cifar_global(2000), between=between)
    assert st["traces"] <= 3, st
    assert all(type(x) in (int, float) for x in seen)


# -- a test loop counting correct answers ---------------------------------------------------
correct = total = 0


def _evaluate():
    global correct, total
    w, b = _weights()
    correct = total = 0

    def test_step(images, labels, i):
        global correct, total
        with torch.no_grad():
            outputs = images @ w + b
            _, predicted = torch.max(outputs, 1)
            total += labels.size(0)
            correct += (predicted == labels).sum().item()
    return test_step, lambda: (correct, total, 100 * correct / total), (w, b)


def test_correct_and_total_counted_by_a_test_loop():
    st = _same(_evaluate)
    assert st["traces"] <= 2, st
    assert type(correct) is int and type(total) is int and total == N * CALLS


# -- makemore's loss log ---------------------------------------------------------------------
lossi, stepi = [], []


def _makemore():
    w, b = _weights()
    lossi.clear()
    stepi.clear()

    def step(xb, yb, i):
        logits = xb @ w + b
        loss = F.cross_entropy(logits, yb)
        for p in (w, b):
            p.grad = None
        loss.backward()
        lr = 0.1 if i < 10 else 0.01
        with torch.no_grad():
            for p in (w, b):
                p.data += -lr * p.grad
        stepi.append(i)
        lossi.append(loss.log10().item())
    return step, lambda: (list(stepi), list(lossi)), (w, b)


def test_makemore_loss_log_appended_every_call():
    st = _same(_makemore)
    assert st["traces"] <= 4, st      # (lr changes once, at i == 10: a branch of its own)
    assert len(lossi) == CALLS and all(type(v) is float for v in lossi)


# -- a trainer class keeping totals on self ----------------------------------------------------
class Trainer:
    def __init__(self):
        self.w, self.b = _weights()
        self.step_count = 0
        self.total_loss = 0          # an int until the first loss is added
        self.seen = 0
        self.history = {"loss": [], "acc": []}

    def train_step(self, x, y, i):
        out = x @ self.w + self.b
        loss = F.cross_entropy(out, y)
        loss.backward()
        _sgd((self.w, self.b))
        self.step_count += 1
        self.total_loss += loss.item() * x.size(0)
        self.seen += len(y)
        acc = (out.argmax(1) == y).float().mean().item()
        self.history["loss"].append(loss.item())
        self.history["acc"].append(acc)
        return loss

    def state(self):
        return (self.step_count, self.total_loss, self.seen, self.total_loss / self.seen,
                {k: list(v) for k, v in self.history.items()})


def _trainer():
    t = Trainer()
    return t.train_step, t.state, (t.w, t.b)


def test_trainer_totals_on_self():
    st = _same(_trainer)
    assert st["traces"] <= 2, st


def test_compiled_method_decorated_in_the_class():
    class Decorated(Trainer):
        train_step = torch.compile(Trainer.train_step, backend="interpret")

    eager = Trainer()
    got = Decorated()
    for i, (x, y) in enumerate(_data()):
        eager.train_step(x, y, i)
        got.train_step(x, y, i)
        assert _typed(got.state()) == _typed(eager.state()), i
    st = Decorated.train_step.__get__(got).stats()
    assert st["traces"] <= 2 and st["mode"] == "tree", st


# -- native code -----------------------------------------------------------------------------
def test_accumulators_sum_the_compiled_losses_as_python_does():
    # the cpu backend's float32 loss may differ from eager's in its last bits; the float64 sum
    # of those numbers must still be Python's, bit for bit, past the fast call (reuse 64)
    global running_loss
    make = _cifar_global(2000)
    step, read, _ = make()
    fn = torch.compile(step, backend="cpu")
    total, calls = 0.0, 70
    for i, (x, y) in enumerate(_data(calls)):
        total += fn(x, y, i).item()
        assert read().hex() == total.hex(), i
    st = fn.stats()
    assert st["traces"] <= 2 and st["mode"] == "tree", st


def test_a_value_used_otherwise_keeps_its_guards():
    # the total compared with a threshold inside the step: that comparison is a decision, and
    # the branch it takes is followed, as eagerly
    w, b = _weights()
    G["total"] = 0.0
    G["big"] = 0

    def step(x, y, i):
        loss = F.cross_entropy(x @ w + b, y)
        loss.backward()
        _sgd((w, b))
        G["total"] += loss.item()
        if G["total"] > 5.0:
            G["big"] += 1
    fn = torch.compile(step, backend="interpret")
    expected_total, expected_big = 0.0, 0
    w0 = (w.detach().clone(), b.detach().clone())
    for i, (x, y) in enumerate(_data()):
        fn(x, y, i)
    got = (G["total"], G["big"])
    with torch.no_grad():
        w.copy_(w0[0])
        b.copy_(w0[1])
    G["total"], G["big"] = 0.0, 0
    for i, (x, y) in enumerate(_data()):
        step(x, y, i)
    expected_total, expected_big = G["total"], G["big"]
    assert got == (expected_total, expected_big) and expected_big > 0
    st = fn.stats()     # (the comparison's two outcomes: a branch each)
    assert st["fallbacks"] == 0 and st["mode"] == "tree" and st["traces"] <= 4, st


def _closure():
    """Totals in the enclosing function's variables (`nonlocal`), a dict of metrics and an int
    turned float, as a loop written inside a `train()` function keeps them."""
    w, b = _weights()
    total, n, metrics, lossi_ = 0, 0, {"loss": 0.0, "best": 1e9}, []

    def step(x, y, i):
        nonlocal total, n
        loss = F.cross_entropy(x @ w + b, y)
        loss.backward()
        _sgd((w, b))
        total += loss.item()                 # 0 (an int) + a float: a float from now on
        n += 1
        metrics["loss"] = total / n          # a divisor read per call: guarded non-zero
        metrics["best"] = min(metrics["best"], loss.item())   # a comparison: a decision
        lossi_.append(-loss.item())
    return step, lambda: (total, n, dict(metrics), list(lossi_)), (w, b)


def test_closure_variables_and_dict_entries():
    st = _same(_closure)
    # (min() takes one of two branches per call: the loss improved or not)
    assert st["traces"] <= 6, st


def test_explain_lists_the_written_back_numbers():
    from stepjit.runtime.guards import describe_guards
    step, _, _ = _evaluate()
    fn = torch.compile(step, backend="interpret")
    for i, (x, y) in enumerate(_data(3)):
        fn(x, y, i)
    text = describe_guards(fn.traces[-1])
    assert "after each call: global correct = %" in text, text
    assert "after each call: global total = %" in text, text


def _cifar_module():
    """The tutorial's own objects: an nn.Module, nn.CrossEntropyLoss, SGD with momentum (its
    buffers made on the first step: a trace of that call only)."""
    global running_loss
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(D, 16), torch.nn.ReLU(), torch.nn.Linear(16, K))
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    running_loss = 0.0

    def train_step(inputs, labels, i):
        global running_loss
        optimizer.zero_grad()
        loss = criterion(net(inputs), labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
        if i % 2000 == 1999:
            print(f"[{i + 1:5d}] loss: {running_loss / 2000:.3f}")
            running_loss = 0.0
    return train_step, lambda: running_loss, list(net.parameters())


def test_cifar_tutorial_step_with_module_loss_and_momentum():
    st = _same(_cifar_module)
    assert st["traces"] <= 3, st

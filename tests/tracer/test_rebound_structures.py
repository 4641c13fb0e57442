"""A step that rebinds a name to a tuple or list of tensors it made (tracer/structures.py).

The hidden state of a recurrent language model is carried across calls in a global or closure
name: `states = detach(states); out, states = lstm(x, states)`, or `hidden =
repackage_hidden(hidden)`. Before, every call traced again (the new tuple's tensors outlived
the call) until the recompile limit, then the step ran eagerly. Each compiled call must equal
the eager one (bitwise on the interpreter backend), with at most two traces and no call run
eagerly, and the name must hold a fresh container of the same type and structure.
"""
import numpy as np

import stepjit as torch

nn = torch.nn
CALLS = 6


def _run(source, compiled, calls=CALLS):
    """exec a module holding `step`, call it `calls` times; the losses, the names after each
    call (as numpy), and the step."""
    torch.manual_seed(0)
    space = {"torch": torch, "nn": nn}
    exec(compile(source, "<lm>", "exec"), space)
    step = space["step"]
    if compiled:
        step = torch.compile(step, backend="interpret")
    losses, kept = [], []
    for _ in range(calls):
        losses.append(step(space["X"]).item())
        kept.append(_numpy(space["states"]))
    return losses, kept, step, space


def _numpy(s):
    if isinstance(s, (tuple, list)):
        return type(s)(_numpy(x) for x in s)
    return s.detach().numpy().copy()


def _assert_same(source):
    e_losses, e_kept, _, e_space = _run(source, False)
    c_losses, c_kept, step, c_space = _run(source, True)
    assert c_losses == e_losses
    for a, b in zip(c_kept, e_kept):
        _assert_tree_equal(a, b)
    st = step.stats()
    assert st["traces"] <= 2, st
    assert st["fallbacks"] == 0 and st["eager_calls"] == 0, st
    for p, q in zip(c_space["lstm"].parameters(), e_space["lstm"].parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    return c_space, e_space


def _assert_tree_equal(a, b):
    assert type(a) is type(b)
    if isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_tree_equal(x, y)
    else:
        np.testing.assert_array_equal(a, b)


_LSTM = (
    "lstm = nn.LSTM(3, 4, 1, batch_first=True)\n"
    "opt = torch.optim.SGD(lstm.parameters(), lr=0.1)\n"
    "X = torch.randn(2, 5, 3)\n"
    "states = (torch.zeros(1, 2, 4), torch.zeros(1, 2, 4))\n"
    "def detach(s):\n"
    "    return [t.detach() for t in s]\n"
)


def test_a_global_tuple_state_rebound_every_call_compiles_once():
    c_space, e_space = _assert_same(
        _LSTM +
        "def step(x):\n"
        "    global states\n"
        "    states = detach(states)\n"
        "    out, states = lstm(x, states)\n"
        "    loss = out.pow(2).mean()\n"
        "    opt.zero_grad(); loss.backward(); opt.step()\n"
        "    return loss\n")
    # a fresh tuple of fresh tensors, as eagerly
    assert type(c_space["states"]) is tuple and len(c_space["states"]) == 2


def test_a_detached_list_and_a_nested_tuple_keep_their_structure():
    _assert_same(
        _LSTM.replace("states = (torch.zeros(1, 2, 4), torch.zeros(1, 2, 4))",
                      "states = [(torch.zeros(1, 2, 4), torch.zeros(1, 2, 4))]") +
        "def step(x):\n"
        "    global states\n"
        "    (h, c), = states\n"
        "    out, (h, c) = lstm(x, (h.detach(), c.detach()))\n"
        "    loss = out.pow(2).mean()\n"
        "    opt.zero_grad(); loss.backward(); opt.step()\n"
        "    states = [(h.detach(), c.detach())]\n"
        "    return loss\n")


def test_a_closure_state_repackaged_recursively():
    source = (
        _LSTM.replace("states = (", "init = lambda: (") +
        "def make():\n"
        "    states = init()\n"
        "    def step(x):\n"
        "        nonlocal states\n"
        "        states = repackage(states)\n"
        "        out, states = lstm(x, states)\n"
        "        loss = out.pow(2).mean()\n"
        "        opt.zero_grad(); loss.backward(); opt.step()\n"
        "        return loss\n"
        "    return step, lambda: states\n"
        "def repackage(h):\n"
        "    return h.detach() if isinstance(h, torch.Tensor) else tuple(repackage(v) for v in h)\n"
        "step, current = make()\n"
    )
    results = []
    for compiled in (False, True):
        torch.manual_seed(0)
        space = {"torch": torch, "nn": nn}
        exec(compile(source, "<lm>", "exec"), space)
        step = torch.compile(space["step"], backend="interpret") if compiled else space["step"]
        losses = [step(space["X"]).item() for _ in range(CALLS)]
        results.append((losses, _numpy(space["current"]()), step))
    (e_losses, e_state, _), (c_losses, c_state, step) = results
    assert c_losses == e_losses
    _assert_tree_equal(c_state, e_state)
    st = step.stats()
    assert st["traces"] <= 2 and st["fallbacks"] == 0 and st["eager_calls"] == 0, st


class _Model(nn.Module):
    """word_language_model's shape: init_hidden gives (h, c); forward returns (out, hidden)."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(3, 4, 2)
        self.decoder = nn.Linear(4, 5)

    def forward(self, x, hidden):
        out, hidden = self.rnn(x, hidden)
        return self.decoder(out).view(-1, 5), hidden

    def init_hidden(self, bsz):
        return (torch.zeros(2, bsz, 4), torch.zeros(2, bsz, 4))


def _word_lm(compiled, as_argument):
    torch.manual_seed(0)
    model = _Model()
    crit = nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(3)
    data = [(torch.randn(5, 2, 3, generator=g), torch.randint(0, 5, (10,), generator=g))
            for _ in range(CALLS)]

    def repackage_hidden(h):
        if isinstance(h, torch.Tensor):
            return h.detach()
        return tuple(repackage_hidden(v) for v in h)

    hidden = None

    def train(x, y):
        nonlocal hidden
        model.zero_grad()
        hidden = repackage_hidden(hidden)
        output, hidden = model(x, hidden)
        loss = crit(output, y)
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p.add_(p.grad, alpha=-0.5)
        return loss

    def train_arg(x, y, h):
        model.zero_grad()
        h = repackage_hidden(h)
        output, h = model(x, h)
        loss = crit(output, y)
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p.add_(p.grad, alpha=-0.5)
        return loss, h

    fn = train_arg if as_argument else train
    step = torch.compile(fn, backend="interpret") if compiled else fn
    losses = []
    for i, (x, y) in enumerate(data):
        if i % 3 == 0:              # a new epoch starts from zeros
            hidden = model.init_hidden(2)
        if as_argument:
            loss, hidden = step(x, y, hidden)
        else:
            loss = step(x, y)
        losses.append(loss.item())
    return losses, _numpy(hidden), step


def test_word_language_model_hidden_in_a_closure_and_as_an_argument():
    for as_argument in (False, True):
        e_losses, e_hidden, _ = _word_lm(False, as_argument)
        c_losses, c_hidden, step = _word_lm(True, as_argument)
        assert c_losses == e_losses
        _assert_tree_equal(c_hidden, e_hidden)
        st = step.stats()
        assert st["traces"] <= 2 and st["fallbacks"] == 0 and st["eager_calls"] == 0, \
            (as_argument, st)


def test_a_list_that_existed_before_is_not_rebuilt():
    """A global list the step appends its tensors to is state: eager grows it."""
    source = (
        "w = torch.ones(3, requires_grad=True)\n"
        "X = torch.ones(3)\n"
        "kept = []\n"
        "states = kept\n"
        "def step(x):\n"
        "    y = (w * x).sum()\n"
        "    kept.append(y.detach())\n"
        "    return y\n")
    for compiled in (False, True):
        torch.manual_seed(0)
        space = {"torch": torch, "nn": nn}
        exec(compile(source, "<lm>", "exec"), space)
        step = torch.compile(space["step"], backend="interpret") if compiled else space["step"]
        for _ in range(3):
            step(space["X"])
        assert len(space["kept"]) == 3 and space["states"] is space["kept"]
        assert [t.item() for t in space["kept"]] == [3.0, 3.0, 3.0]


def test_a_tuple_whose_first_tensors_are_also_globals_reads_the_tuple():
    """states = (h0, c0) with h0, c0 globals too: later calls read states, never h0."""
    _assert_same(
        _LSTM.replace("states = (torch.zeros(1, 2, 4), torch.zeros(1, 2, 4))",
                      "h0 = torch.zeros(1, 2, 4)\nc0 = torch.zeros(1, 2, 4)\nstates = (h0, c0)") +
        "def step(x):\n"
        "    global states\n"
        "    out, states = lstm(x, detach(states))\n"
        "    return out.pow(2).mean() + h0.sum() + c0.sum()\n")


class _Stateful(nn.Module):
    """The state kept on the module: `self.hidden = ...` in forward."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(3, 4, 1, batch_first=True)
        self.hidden = (torch.zeros(1, 2, 4), torch.zeros(1, 2, 4))

    def forward(self, x):
        out, self.hidden = self.lstm(x, tuple(t.detach() for t in self.hidden))
        return out.pow(2).mean()


def test_an_attribute_rebound_to_a_tuple_compiles_once():
    runs = []
    for compiled in (False, True):
        torch.manual_seed(0)
        m = _Stateful()
        opt = torch.optim.SGD(m.parameters(), lr=0.1)
        x = torch.randn(2, 5, 3)

        def step(x):
            loss = m(x)
            opt.zero_grad(); loss.backward(); opt.step()
            return loss

        fn = torch.compile(step, backend="interpret") if compiled else step
        runs.append(([fn(x).item() for _ in range(CALLS)], _numpy(m.hidden), fn))
    (e_losses, e_hidden, _), (c_losses, c_hidden, step) = runs
    assert c_losses == e_losses
    _assert_tree_equal(c_hidden, e_hidden)
    st = step.stats()
    assert st["traces"] <= 2 and st["fallbacks"] == 0 and st["eager_calls"] == 0, st


def test_a_rebound_tensor_that_another_global_also_holds():
    """h = h0 before the first call; the step rebinds h and reads h0: a replay must read the
    fresh h, never h0 (both were the same tensor when traced)."""
    def run(compiled):
        space = {"torch": torch}
        exec(compile(
            "w = torch.ones(3)\n"
            "h0 = torch.zeros(3)\n"
            "h = h0\n"
            "def step(x):\n"
            "    global h\n"
            "    h = torch.tanh(h + x * w)\n"
            "    return h.sum() + h0.sum()\n", "<rnn>", "exec"), space)
        step = torch.compile(space["step"], backend="interpret") if compiled else space["step"]
        return [step(torch.ones(3)).item() for _ in range(CALLS)], step
    (eager, _), (compiled, step) = run(False), run(True)
    assert compiled == eager
    assert step.stats()["traces"] <= 2 and step.stats()["eager_calls"] == 0

"""A NumPy array larger than values._MAX_ARRAY (a trainer's `self.x_np`, a list's or a dict's
item) that the step reaches through an attribute, a list or a dict is an input of its trace, read
through its place on every call (tracer/arrays.py, NamedArrays), as an array bound to the step's
own name is. Before, such an array was guarded by nothing: refilled in place or rebound after the
trace's first re-verification, the compiled step replayed the contents the trace had seen (a
silently wrong loss and update on every later call). Every call is compared with eager (float64,
interpret backend: bit for bit)."""
import warnings

import numpy as np
import pytest

import stepjit as torch
from stepjit.tracer.arrays import ArrayPlace

N = 5000    # (above values._MAX_ARRAY: not guarded by a copy)
CALLS = 12


class Trainer:
    pass


def _read(how):
    """How the step makes a tensor of the array its trainer holds."""
    return {
        "tensor": lambda t: torch.tensor(t.x_np),
        "from_numpy": lambda t: torch.from_numpy(t.x_np),
        "list item": lambda t: torch.as_tensor(t.parts[0]),
        "dict entry": lambda t: torch.tensor(t.cols["x"]),
        "numpy": lambda t: torch.from_numpy(t.x_np * 2.0),
    }[how]


def _fill(trainer, i, rebind):
    """The batch of call i, changing every 4 calls (after the first reuse's re-verification)."""
    x = np.arange(N) * (i // 4 + 1) / N
    if rebind:
        trainer.x_np, trainer.parts[0], trainer.cols["x"] = x, x.copy(), x.copy()
    else:
        trainer.x_np[...], trainer.parts[0][...], trainer.cols["x"][...] = x, x, x


def _loop(compiled, how, rebind, keep=False):
    torch.manual_seed(0)
    trainer = Trainer()
    trainer.x_np, trainer.parts, trainer.cols = np.zeros(N), [np.zeros(N)], {"x": np.zeros(N)}
    w = torch.randn(N, dtype=torch.float64, requires_grad=True)
    read = _read(how)

    def step():
        if keep:
            trainer.last = trainer.x_np
        loss = (read(trainer) * w).sum()
        loss.backward()
        with torch.no_grad():
            w.sub_(0.01 * w.grad)
            w.grad = None
        return loss
    f = torch.compile(step, backend="interpret") if compiled else step
    seen = []
    for i in range(CALLS):
        _fill(trainer, i, rebind)
        seen.append((f().item(), w.detach().numpy().copy()))
        if keep:
            assert type(trainer.last) is np.ndarray and trainer.last is trainer.x_np
    return seen, f


def _same(got, want):
    assert len(got) == len(want)
    for (a, wa), (b, wb) in zip(got, want):
        assert a == b and (wa == wb).all()


@pytest.mark.parametrize("rebind", [False, True], ids=["in place", "rebound"])
@pytest.mark.parametrize("how", ["tensor", "from_numpy", "list item", "dict entry"])
def test_a_large_array_on_an_attribute_is_read_per_call(how, rebind):
    want, _ = _loop(False, how, rebind)
    got, f = _loop(True, how, rebind)
    _same(got, want)    # (was: calls 4-11 replayed the zeros or the first batch)
    st = f.stats()
    assert st["traces"] == 1 and st["eager_calls"] == 0 and st["mode"] == "tree", st
    assert [type(s.slot[1]) for s in f.traces[0].slots].count(ArrayPlace) == 1


def test_numpy_arithmetic_on_it_is_guarded_by_value():
    """`torch.from_numpy(self.x_np * 2.0)`: the step's Python read the values, so the trace
    holds for those values only (an ArrayGuard where the array lives): a trace per contents,
    not per call."""
    want, _ = _loop(False, "numpy", rebind=False)
    got, f = _loop(True, "numpy", rebind=False)
    _same(got, want)
    st = f.stats()
    assert st["mode"] == "tree" and st["eager_calls"] == 0, st
    assert st["traces"] == CALLS // 4, st     # (the contents change every 4 calls)


def test_a_table_sliced_as_numpy_stays_one_trace():
    """A model's constant NumPy table sliced before it becomes a tensor (positions, a lookup):
    one trace for every call; a step that writes into it runs its Python every call."""
    def loop(compiled, write):
        torch.manual_seed(0)
        t = Trainer()
        t.table = np.linspace(0.0, 1.0, N).reshape(100, 50)
        w = torch.randn(50, dtype=torch.float64)

        def step(n):
            rows = torch.from_numpy(t.table[:3])
            if write:
                t.table[0, 0] += 1.0
            return (rows @ w).sum() * n
        f = torch.compile(step, backend="interpret") if compiled else step
        return [f(torch.tensor(float(i))).item() for i in range(CALLS)], f
    want, _ = loop(False, write=False)
    got, f = loop(True, write=False)
    assert got == want
    st = f.stats()
    assert st["traces"] == 1 and st["eager_calls"] == 0 and st["mode"] == "tree", st
    want, _ = loop(False, write=True)
    with pytest.warns(UserWarning, match=r"the NumPy array of closure variable t\.table"):
        got, f = loop(True, write=True)
    assert got == want


def test_an_array_the_step_keeps_elsewhere_is_the_array_again():
    """`self.last = self.x_np` inside the step: the attribute holds the array, not what the
    trace read it as; the step then runs its Python every call (it binds an attribute)."""
    want, _ = _loop(False, "tensor", rebind=False, keep=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got, f = _loop(True, "tensor", rebind=False, keep=True)
    _same(got, want)


def test_an_array_held_at_two_places_is_read_by_neither():
    """t.x_np and t.alias are one array, which the loop may part later: any use of it makes
    the trace describe its call only, rather than reading it through one place."""
    def loop(compiled):
        torch.manual_seed(0)
        t = Trainer()
        t.x_np = t.alias = np.zeros(N)
        w = torch.randn(N, dtype=torch.float64)

        def step():
            return (torch.tensor(t.x_np) * w).sum()
        f = torch.compile(step, backend="interpret") if compiled else step
        out = []
        for i in range(CALLS):
            if i == 6:
                t.x_np = np.zeros(N)    # parted
            t.x_np[...] = i
            out.append(f().item())
        return out, f
    want, _ = loop(False)
    got, f = loop(True)
    assert got == want


def test_a_new_trainer_object_retraces():
    """The place is the object's attribute: a loop that makes a new trainer (a new epoch's
    object) guards the link to it, so the next call reads the new object's array."""
    def loop(compiled):
        torch.manual_seed(0)
        box = {"t": Trainer()}
        box["t"].x_np = np.zeros(N)
        w = torch.randn(N, dtype=torch.float64)

        def step():
            return (torch.tensor(box["t"].x_np) * w).sum()
        f = torch.compile(step, backend="interpret") if compiled else step
        out = []
        for i in range(CALLS):
            if i % 4 == 0:
                box["t"] = Trainer()
                box["t"].x_np = np.full(N, float(i))
            out.append(f().item())
        return out, f
    want, _ = loop(False)
    got, f = loop(True)
    assert got == want
    st = f.stats()
    assert st["eager_calls"] == 0 and st["mode"] == "tree", st

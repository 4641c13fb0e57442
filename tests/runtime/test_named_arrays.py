"""NumPy arrays a compiled step reaches through its own names (a global its code names, a cell of
its closure) are inputs of its trace, as array arguments are (tracer/arrays.py, NamedArrays):
guarded on shape and dtype, their contents read on every call. A data loop that stores each
batch in an enclosing variable (a dependency parser's minibatch arrays), or refills one array
in place, replays one trace; a replay never sees an earlier call's values. Every call is compared
with eager (float64, interpret backend: bit for bit)."""
import warnings

import numpy as np
import pytest

import stepjit as torch

BATCH = np.zeros((8, 4))


def _parser_loop(compiled, fill, calls=12, shapes=None):
    """A training loop whose step reads the current minibatch from its enclosing function's
    variables, converted with from_numpy (features) and tensor (labels). fill(i, xb, yb) gives
    the next batch: new arrays, or the same arrays written in place."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    w = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    xb, yb = rng.standard_normal((8, 4)), rng.integers(0, 3, 8)

    def step():
        x = torch.from_numpy(xb)
        y = torch.tensor(yb)
        loss = torch.nn.functional.cross_entropy(x @ w, y)
        loss.backward()
        with torch.no_grad():
            w.sub_(0.5 * w.grad)
            w.grad = None
        return loss
    f = torch.compile(step, backend="interpret") if compiled else step
    seen = []
    for i in range(calls):
        n = shapes[i] if shapes else 8
        got = fill(i, rng, n, xb, yb)
        if got is not None:
            xb, yb = got
        seen.append((f().item(), w.detach().numpy().copy()))
    return seen, f


def _new_arrays(i, rng, n, xb, yb):
    return rng.standard_normal((n, 4)), rng.integers(0, 3, n)


def _in_place(i, rng, n, xb, yb):
    if i >= 3:      # (after the first reuse, which re-verifies the trace: replays follow)
        xb[...] = rng.standard_normal(xb.shape)
        yb[...] = rng.integers(0, 3, yb.shape)


def _same(got, want):
    assert len(got) == len(want)
    for (a, wa), (b, wb) in zip(got, want):
        assert a == b and (wa == wb).all()


@pytest.mark.parametrize("fill", [_new_arrays, _in_place], ids=["new arrays", "in place"])
def test_closure_arrays_are_read_per_call(fill):
    want, _ = _parser_loop(False, fill)
    got, f = _parser_loop(True, fill)
    _same(got, want)
    st = f.stats()
    # one trace for every batch (was: a trace per new array until a re-verification found the
    # constant stale, then the step's Python on every call: 3 traces and 9 eager calls)
    assert st["traces"] == 1 and st["fallbacks"] == 0 and st["eager_calls"] == 0, st
    assert st["mode"] == "tree", st
    assert [s.slot[0] for s in f.traces[0].slots][:1] == ["name"]


def test_a_new_shape_or_dtype_retraces():
    shapes = [8, 8, 8, 5, 5, 8, 3]
    want, _ = _parser_loop(False, _new_arrays, len(shapes), shapes)
    got, f = _parser_loop(True, _new_arrays, len(shapes), shapes)
    _same(got, want)
    st = f.stats()
    assert st["traces"] == 3 and st["fallbacks"] == 0 and st["mode"] == "tree", st


def test_a_global_array_written_in_place_between_and_inside_calls():
    """A global array refilled in place by the loop and scaled in place by the step through
    from_numpy's shared memory: each call reads the contents the array has then, and the step's
    write reaches the array, as eagerly."""
    global BATCH
    runs = []
    for compiled in (False, True):
        BATCH = np.zeros((8, 4))
        w = torch.ones(4, dtype=torch.float64, requires_grad=True)

        def step():
            x = torch.from_numpy(BATCH)
            loss = (x @ w).pow(2).sum()
            loss.backward()
            with torch.no_grad():
                x.mul_(0.5)
                w.sub_(0.01 * w.grad)
                w.grad = None
            return loss
        f = torch.compile(step, backend="interpret") if compiled else step
        out = []
        for i in range(10):
            if i % 3:
                BATCH[:] = np.arange(32.0).reshape(8, 4) / (i + 1)
            out.append((f().item(), BATCH.copy(), w.detach().numpy().copy()))
        runs.append((out, f))
    (want, _), (got, f) = runs
    for (a, ba, wa), (b, bb, wb) in zip(got, want):
        assert a == b and (ba == bb).all() and (wa == wb).all()
    st = f.stats()
    assert st["traces"] == 1 and st["fallbacks"] == 0 and st["mode"] == "tree", st


def test_an_array_used_as_numpy_runs_the_steps_python_every_call():
    """A NumPy computation on the closure's array (`xb.mean()`) would be a constant of the
    call that traced it: the step's Python runs on every call instead, with a warning."""
    runs = []
    for compiled in (False, True):
        xb = np.ones(3)
        w = torch.ones(3, dtype=torch.float64, requires_grad=True)

        def step():
            loss = (w * float(xb.mean())).sum()
            loss.backward()
            with torch.no_grad():
                w.sub_(0.1 * w.grad)
                w.grad = None
            return loss
        f = torch.compile(step, backend="interpret") if compiled else step
        out = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for i in range(6):
                xb = np.full(3, float(i))
                out.append(f().item())
        runs.append((out, caught))
    (want, _), (got, caught) = runs
    assert got == want
    assert any("as NumPy" in str(w.message) for w in caught)

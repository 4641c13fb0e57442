"""NumPy arrays passed to a compiled step are tensor inputs of its trace (tracer/arrays.py), as
torch.compile makes them: guarded on shape and dtype, their values read on every call."""
import warnings

import numpy as np
import pytest

import stepjit as torch


def _sgd_step(backend="interpret"):
    w = torch.zeros(3, 1, dtype=torch.float64, requires_grad=True)

    def step(x, y):
        inputs, targets = torch.from_numpy(x), torch.as_tensor(y)
        loss = ((inputs @ w - targets) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w.sub_(0.1 * w.grad)
            w.grad.zero_()
        return loss

    return w, (torch.compile(step, backend=backend) if backend else step)


def _batches(n, rows=4, dtype=np.float64):
    rng = np.random.default_rng(0)
    for _ in range(n):
        x = rng.standard_normal((rows, 3)).astype(dtype)
        yield x, (x @ np.array([[1.0], [-2.0], [0.5]])).astype(dtype)


def test_array_batches_are_inputs_traced_once_and_equal_eager():
    w_e, eager = _sgd_step(None)
    w_c, compiled = _sgd_step("interpret")
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # no "runs its Python on every call" warning
        for x, y in _batches(12):
            assert compiled(x, y).item() == eager(x, y).item()
    assert np.array_equal(w_c.detach().numpy(), w_e.detach().numpy())
    stats = compiled.stats()
    # a first call (w.grad None), the trace of every later call, its re-verification
    assert stats["mode"] == "tree" and stats["traces"] <= 2 and stats["eager_calls"] == 0, stats


def test_shape_and_dtype_are_guarded():
    f = torch.compile(lambda x: torch.from_numpy(x) * 2, backend="interpret")
    for a in (np.arange(3.0), np.arange(4.0), np.arange(3, dtype=np.float32),
              np.arange(3), np.ones((2, 2), dtype=bool), np.arange(3.0) + 5):
        out = f(a)
        expected = torch.from_numpy(a) * 2
        assert out.dtype is expected.dtype and out.shape == expected.shape
        assert np.array_equal(out.numpy(), expected.numpy())


def test_from_numpy_shares_the_callers_array_and_tensor_copies_it():
    def step(x, y):
        torch.from_numpy(x).mul_(2)          # writes the caller's array, as eagerly
        t = torch.tensor(y)
        t.add_(1)                            # a copy: y stays as it was
        return t.sum()

    f = torch.compile(step, backend="interpret")
    for k in range(4):
        x, y = np.full(3, float(k)), np.full(2, float(k))
        ex, ey = x.copy(), y.copy()
        assert f(x, y).item() == step(ex, ey).item()
        assert np.array_equal(x, ex) and np.array_equal(y, ey) and x[0] == 2 * k and y[0] == k
    assert f.stats()["traces"] == 1 and f.stats()["mode"] == "tree"


def test_arrays_in_containers_keywords_and_passed_twice():
    def step(pair, scale=None):
        a, b = pair
        return (torch.as_tensor(a, dtype=torch.float32) + torch.from_numpy(b)) * \
            torch.from_numpy(scale["s"])

    f = torch.compile(step, backend="interpret")
    for k in range(5):
        a = np.full((2,), 1.0 + k, dtype=np.float32)
        b = a if k % 2 else np.ones(2, dtype=np.float32) * k
        s = {"s": np.array(3.0, dtype=np.float32)}
        assert np.array_equal(f([a, b], scale=s).numpy(), step([a, b], scale=s).numpy())
    assert f.stats()["traces"] <= 3   # one with two arrays, one with one array twice (+ reuse)


def test_numpy_computation_on_an_array_runs_every_call_with_a_warning():
    def step(x):
        scaled = x / 255.0                   # NumPy on the argument: this call's values
        return torch.from_numpy(scaled).sum(), scaled.max()

    f = torch.compile(step, backend="interpret")
    with pytest.warns(UserWarning, match=r"uses a NumPy array argument as NumPy \(computes "
                                         r"with it, returns or keeps it; at test_array_arguments.py:\d+\)"):
        for k in range(4):
            a = np.arange(3.0) + k
            total, top = f(a)
            e_total, e_top = step(a)
            assert total.item() == e_total.item()
            assert type(top) is type(e_top) and top == e_top   # NumPy's own result, as eagerly
    assert f.stats()["mode"] == "per-call retracing"


def test_an_array_of_a_dtype_stepjit_does_not_compute_in_stays_a_value():
    def step(x):
        return torch.tensor(np.abs(x).astype(np.float64)).sum()

    f = torch.compile(step, backend="interpret")
    with pytest.warns(UserWarning, match=r"dtype stepjit does not compute in \(complex128\)"):
        for k in range(3):
            a = np.array([3 + 4j, k])
            assert f(a).item() == step(a).item()


def test_shape_queries_do_not_leave_the_trace_tree():
    def step(x):
        n, d = x.shape
        assert x.ndim == 2 and len(x) == n and x.dtype == np.float64
        return torch.from_numpy(x).sum() / (n * d)

    f = torch.compile(step, backend="interpret")
    for k in range(10):
        a = np.full((2, 3), float(k))
        assert f(a).item() == step(a).item()
    assert f.stats()["mode"] == "tree" and f.stats()["traces"] == 1


def test_a_returned_array_is_the_callers_own():
    def step(x):
        return torch.from_numpy(x) * 2, [x]

    f = torch.compile(step, backend="interpret")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in range(3):
            a = np.full(2, float(k))
            doubled, (same,) = f(a)
            assert same is a and doubled.tolist() == [2.0 * k] * 2


def test_isinstance_ndarray_holds_inside_the_step():
    def step(x):
        if isinstance(x, np.ndarray):        # a helper's conversion, as real programs write it
            x = torch.from_numpy(x)
        return x.sum()

    f = torch.compile(step, backend="interpret")
    for k in range(4):
        assert f(np.full(3, float(k))).item() == 3.0 * k
    assert f.stats()["traces"] == 1 and f.stats()["mode"] == "tree"


@pytest.mark.parametrize("factory", ["Tensor", "FloatTensor"])
def test_the_legacy_constructors_take_an_array_as_the_input(factory):
    """`torch.Tensor(x)`, `torch.FloatTensor(x)` (older scripts' `Variable(Tensor(x))`): a float
    copy of the array's values on every call, as eagerly, from one trace."""
    make = getattr(torch, factory)

    def step(x):
        return (make(x) * 2).sum()
    compiled = torch.compile(step, backend="interpret")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for x, _ in _batches(4):
            got = compiled(x)
            assert got.dtype == torch.float32 and got.item() == step(x).item()
    assert compiled.stats()["traces"] == 1

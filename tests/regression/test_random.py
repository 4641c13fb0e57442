"""The counter-based generator: reproducible eagerly, identical compiled, reusable traces."""
import numpy as np
import pytest

import stepjit as torch
import stepjit.nn as nn
import stepjit.nn.functional as F
from stepjit.ir.primitives import random as R

from .harness import BACKENDS


def test_manual_seed_reproduces_every_draw():
    def draws():
        torch.manual_seed(123)
        return [torch.rand(3, 4), torch.randn(5, dtype=torch.float64), torch.randint(0, 7, (6,)),
                torch.randperm(9), torch.bernoulli(torch.full((4,), 0.5)),
                nn.Dropout(0.5)(torch.ones(8)), torch.normal(2.0, 3.0, (3,))]
    for a, b in zip(draws(), draws()):
        assert a.dtype is b.dtype and np.array_equal(a.numpy(), b.numpy())


def test_each_draw_advances_the_offset_by_its_size():
    torch.manual_seed(5)
    assert torch.random.get_rng_state().tolist() == [5, 0]
    torch.rand(3, 4)
    torch.randperm(7)
    assert torch.random.get_rng_state().tolist() == [5, 19]
    assert torch.initial_seed() == 5


def test_a_draw_equals_the_per_element_definition():
    torch.manual_seed(77)
    torch.rand(10)                          # offset 10
    x = torch.randn(2, 3, dtype=torch.float64)
    want = [R.normal_scalar(77, 10 + i, torch.float64) for i in range(6)]
    assert x.numpy().ravel().tolist() == want
    u = torch.rand(4)
    assert u.numpy().tolist() == [float(R.uniform_scalar(77, 16 + i, torch.float32)) for i in range(4)]


def test_split_draws_continue_one_stream():
    torch.manual_seed(1)
    whole = torch.rand(10).numpy()
    torch.manual_seed(1)
    parts = np.concatenate([torch.rand(4).numpy(), torch.rand(6).numpy()])
    assert np.array_equal(whole, parts)


def test_get_and_set_rng_state_replay():
    torch.manual_seed(9)
    torch.rand(5)
    state = torch.random.get_rng_state()
    a = torch.randn(4)
    torch.random.set_rng_state(state)
    assert np.array_equal(a.numpy(), torch.randn(4).numpy())


def test_separate_generators_are_independent():
    g = torch.random.Generator().manual_seed(3)
    torch.manual_seed(3)
    a = torch.rand(4, generator=g)
    assert torch.random.get_rng_state().tolist() == [3, 0]      # the global one did not move
    assert np.array_equal(a.numpy(), torch.rand(4).numpy())      # same seed, same numbers


def test_distributions_look_right():
    torch.manual_seed(0)
    u = torch.rand(200_000, dtype=torch.float64).numpy()
    n = torch.randn(200_000).numpy()
    k = torch.randint(-3, 4, (70_000,)).numpy()
    assert 0.0 <= u.min() and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.005
    assert abs(n.mean()) < 0.01 and abs(n.std() - 1.0) < 0.01
    assert abs((np.abs(n) > 1.96).mean() - 0.05) < 0.003
    counts = np.bincount(k + 3)
    assert k.min() == -3 and k.max() == 3 and counts.min() > 9_500
    p = torch.randperm(50).numpy()
    assert sorted(p.tolist()) == list(range(50))
    # neighbouring seeds give unrelated streams
    torch.manual_seed(1)
    v = torch.rand(200_000, dtype=torch.float64).numpy()
    assert abs(np.corrcoef(u, v)[0, 1]) < 0.01


def test_rand_rejects_integer_dtypes_and_randint_needs_a_range():
    with pytest.raises(torch.StepjitError):
        torch.rand(3, dtype=torch.int64)
    with pytest.raises(torch.StepjitError):
        torch.randint(3, 3, (2,))


def _draw_four_times(fn, x):
    torch.manual_seed(42)
    return [[t.cpu().numpy() for t in fn(x)] for _ in range(4)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_compiled_step_draws_the_eager_numbers_and_keeps_its_trace(backend):
    """rand, randn, randint, randperm and dropout give the eager CPU numbers bitwise: eagerly on
    the step's device and compiled on every backend (on cuda the step's tensors are on the
    device: draws are made on the host and copied, so the numbers cannot depend on it)."""
    def step(x):
        mask = torch.rand(4, 5, device=x.device) < 0.5
        noise = torch.randn(4, 5, dtype=torch.float64, device=x.device)
        return (x * mask, noise, torch.randint(0, 10, (3,), device=x.device),
                torch.randperm(6, device=x.device), F.dropout(x, 0.5))

    x = torch.ones(4, 5)
    eager = _draw_four_times(step, x)
    x = x.to("cuda" if backend == "cuda" else "cpu")
    runs = {"compiled": _draw_four_times(torch.compile(step, backend=backend), x)}
    if backend == "cuda":
        runs["eager on cuda"] = _draw_four_times(step, x)
    for what, got in runs.items():
        for e, c in zip(eager, got):
            for a, b in zip(e, c):
                assert a.dtype == b.dtype and np.array_equal(a, b), what   # bitwise
    compiled = torch.compile(step, backend=backend)
    torch.manual_seed(42)
    first, second = compiled(x)[0].cpu().numpy(), compiled(x)[0].cpu().numpy()
    assert not np.array_equal(first, second)                    # fresh numbers every call
    assert compiled.stats()["traces"] == 1                       # the trace is reused
    assert torch.random.get_rng_state().tolist() == [42, 2 * (20 + 20 + 3 + 6 + 20)]


def test_the_generator_state_is_a_lifted_input_written_back():
    def step(x):
        return x + torch.rand(3)

    graph = torch.make_ir(step)(torch.zeros(3))
    prims = [n.prim.name for n in graph.nodes]
    assert prims[:2] == ["uniform", "rng_advance"]
    state = graph.nodes[0].inputs[0]
    assert any(v is state for v, _ in graph.lifted)
    assert any(v is graph.nodes[1].out for _, v in graph.writes)
    # tracing changed nothing outside the step
    assert torch.random.get_rng_state().tolist() == [0, 0]


def test_manual_seed_inside_a_compiled_step():
    def step():
        torch.manual_seed(7)
        return torch.rand(3)

    compiled = torch.compile(step, backend="interpret")
    a, b = compiled(), compiled()
    torch.manual_seed(7)
    assert np.array_equal(a.numpy(), torch.rand(3).numpy()) and np.array_equal(a.numpy(), b.numpy())
    assert compiled.stats()["traces"] == 1


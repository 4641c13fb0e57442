"""A compiled function run over many batch sizes keeps bounded caches: the trace tree holds at
most `config.dynamo.trace_cache_limit` roots and the shared program cache at most its limit, least
recently used first, and what they drop is freed. Counts, not timings: each size left its
trace and program behind before (RSS grew ~229 KiB per size over 1,000 sizes)."""
import gc
import weakref

import numpy as np
import pytest

import stepjit
from stepjit.codegen import kernels
from stepjit import config
from stepjit.runtime import tree

SIZES = list(range(3, 15))     # 12 batch sizes, one trace each


def _step_pair():
    """The same step compiled (recompile limit raised past SIZES) and eager, on their own
    weights: (compiled, eager, compiled's weight, eager's weight)."""
    w0 = np.linspace(-1, 1, 8, dtype=np.float64).reshape(4, 2)

    def make():
        w = stepjit.tensor(w0.copy(), requires_grad=True)

        def step(x, y):
            loss = ((x @ w).tanh() - y).pow(2).mean()
            loss.backward()
            with stepjit.no_grad():
                w.sub_(0.1 * w.grad)
                w.grad.zero_()
            return loss
        return w, step

    w_c, fn = make()
    w_e, eager = make()
    return stepjit.compile(fn, backend="cpu", recompile_limit=100), eager, w_c, w_e


def _batch(n, seed):
    rng = np.random.default_rng(seed)
    return (stepjit.tensor(rng.standard_normal((n, 4))), stepjit.tensor(rng.standard_normal((n, 2))))


@pytest.fixture
def small_caches(monkeypatch, fresh_kernels):
    monkeypatch.setattr(config.dynamo, "trace_cache_limit", 4)
    monkeypatch.setattr(tree, "_CACHE_LIMIT", 5)


def test_many_batch_sizes_keep_bounded_caches_and_free_what_they_drop(small_caches):
    step, eager, w_c, w_e = _step_pair()
    dropped_before = tree.PROGRAM_STATS["evicted"]
    first = []
    for k, n in enumerate(SIZES):
        x, y = _batch(n, k)
        assert step(x, y).item() == pytest.approx(eager(x, y).item(), rel=1e-12)
        if k == 0:
            first = [weakref.ref(p) for _, p in step.programs.values()]
        if k == 1:    # (the first call's trace differs: .grad was None)
            compiled_early = kernels.STATS["compiled"]
        stats = step.stats()
        assert stats["cached_traces"] <= 4 and len(step.traces) <= 4, stats
        assert len(tree._PROGRAMS) <= 5
    np.testing.assert_allclose(w_c.detach().numpy(), w_e.detach().numpy(), rtol=1e-12)
    stats = step.stats()
    assert stats["evictions"] == len(SIZES) - 4
    assert tree.PROGRAM_STATS["evicted"] - dropped_before >= len(SIZES) - 5
    assert stats["calls"] == len(SIZES)
    # shape-generic kernels: the later sizes compiled none, evictions or not
    assert kernels.STATS["compiled"] == compiled_early
    gc.collect()
    assert first and all(r() is None for r in first), "an evicted program is still referenced"


def test_an_evicted_size_traces_again_and_the_used_ones_stay(small_caches):
    step, eager, w_c, w_e = _step_pair()
    hot = _batch(3, 0)
    for k, n in enumerate(SIZES):
        for x, y in (hot, _batch(n, k)):   # size 3 used on every round: never the victim
            assert step(x, y).item() == pytest.approx(eager(x, y).item(), rel=1e-12)
    traces = step.stats()["traces"]
    step(*hot)
    eager(*hot)
    assert step.stats()["traces"] == traces            # still cached
    x, y = _batch(SIZES[1], 99)                          # long evicted: traced again
    assert step(x, y).item() == pytest.approx(eager(x, y).item(), rel=1e-12)
    assert step.stats()["traces"] == traces + 1
    np.testing.assert_allclose(w_c.detach().numpy(), w_e.detach().numpy(), rtol=1e-12)

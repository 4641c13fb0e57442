"""A fast call's returned loss may be a pooled tensor given out again (fastcall.pool_choice), but
only when nothing the caller holds reaches it: every result a caller keeps, or keeps a view, a
detached alias, a weak reference or the version of, keeps its value; a dropped result that was
changed (an attribute, requires_grad, an in-place write, new data) comes back as a new tensor.
Values are compared with the eager step run alongside.
"""
import weakref

import numpy as np
import pytest

import stepjit as torch
from stepjit.runtime.tree import clear_programs
from stepjit.tensor import Tensor

from .test_fastcall import _hot, logistic_state, logistic_step, positional

CALLS = 6


@pytest.fixture(autouse=True)
def _native(monkeypatch):
    """The step runs as one native program from its first compiled call: its fast call calls it
    directly and returns the loss through the pool."""
    monkeypatch.setenv("STEPJIT_NATIVE", "1")
    clear_programs()    # programs are shared by structural hash: build them in this mode
    yield


def _pooled(fn):
    """The two pooled result tensors of fn's fast call (empty when it has none)."""
    g = type(fn).__call__.__globals__
    lasts = [v for k, v in g.items() if k.startswith("POOL_LAST")]
    if not lasts:
        return []
    pool = lasts[0][0]
    if pool[0] is None:     # the copy path was taken last: its next pool is the first one
        pool = pool[4]
    return [pool[0], pool[4][0]]


def _fresh(r):
    """r is a plain detached tensor as Tensor._make makes one, version 0."""
    made = Tensor._make(np.zeros((), np.float32))
    assert type(r) is Tensor and vars(r) == {}
    for name in Tensor.__slots__:
        if name not in ("_data", "_version", "__weakref__", "__dict__"):
            assert getattr(r, name) == getattr(made, name), name
    assert r._version.value == 0 and weakref.getweakrefcount(r) == 0
    assert r.shape == () and r.dtype == torch.float32 and r.grad_fn is None


def test_a_dropped_loss_is_given_out_again_with_eager_values():
    s, e = logistic_state(), logistic_state()
    fn = _hot(s, e)
    pooled = 0
    for _ in range(CALLS):
        loss = positional(fn, s)
        want = positional(logistic_step, e)
        _fresh(loss)
        np.testing.assert_allclose(loss.item(), want.item(), rtol=1e-5)
        pooled += any(loss is p for p in _pooled(fn))
        del loss
    assert "POOL_LAST" in fn.fast_sources()[0] and pooled == CALLS


KEEPERS = {
    "the tensor": (lambda r: r, lambda k: k.item()),
    "a list holding it": (lambda r: [r], lambda k: k[0].item()),
    "its numpy view": (lambda r: r.numpy(), lambda k: float(k)),
    "a detached alias": (lambda r: r.detach(), lambda k: k.item()),
    # (a result not pooled dies with its last reference; a pooled one lives on in its pool)
    "a weak reference": (weakref.ref, lambda k: None if k() is None else k().item()),
}


@pytest.mark.parametrize("keep", list(KEEPERS), ids=list(KEEPERS))
def test_what_the_caller_keeps_keeps_its_value(keep):
    hold, read = KEEPERS[keep]
    s, e = logistic_state(), logistic_state()
    fn = _hot(s, e)
    kept = []
    for _ in range(CALLS):
        r = positional(fn, s)
        want = positional(logistic_step, e).item()
        np.testing.assert_allclose(r.item(), want, rtol=1e-5)
        kept.append((hold(r), r.item()))
        del r
    for k, value in kept:
        assert read(k) in (value, None if keep == "a weak reference" else value)


def test_a_version_the_caller_keeps_is_no_later_results():
    """A version counter kept from a dropped result (as a saved tensor's check keeps one) is not
    bumped by writes into later results."""
    s, e = logistic_state(), logistic_state()
    fn = _hot(s, e)
    versions = []
    for _ in range(CALLS):
        r = positional(fn, s)
        versions.append(r._version)
        r.add_(1.0)
        del r
    assert [v.value for v in versions] == [1] * CALLS
    assert len({id(v) for v in versions}) == CALLS


class _Marked(Tensor):
    pass


MUTATIONS = {
    "its class": lambda r: setattr(r, "__class__", _Marked),
    "an attribute": lambda r: setattr(r, "tag", 1),
    "requires_grad": lambda r: r.requires_grad_(),
    "an in-place write": lambda r: r.add_(100.0),
    "new data": lambda r: setattr(r, "data", torch.tensor(7.0)),
    "a hook": lambda r: (r.requires_grad_(), r.register_hook(lambda g: g)),
}


@pytest.mark.parametrize("change", list(MUTATIONS), ids=list(MUTATIONS))
def test_a_changed_and_dropped_result_comes_back_new(change):
    s, e = logistic_state(), logistic_state()
    fn = _hot(s, e)
    for _ in range(CALLS):
        r = positional(fn, s)
        want = positional(logistic_step, e).item()
        _fresh(r)
        np.testing.assert_allclose(r.item(), want, rtol=1e-5)
        MUTATIONS[change](r)
        del r

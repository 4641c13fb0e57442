"""A tiny step's program becomes one native function once its trace is hot (compiled.py:
re-verified at its HOT_REUSE-th reuse), the fast call is rebuilt to call it directly, and the
results still match eager."""

import stepjit as torch
from stepjit.runtime.compiled import HOT_REUSE
from stepjit.runtime.tree import clear_programs

from .helpers import assert_same, snapshot
from .test_fastcall import logistic_state, logistic_step, positional


def test_hot_small_program_goes_native(monkeypatch):
    monkeypatch.delenv("STEPJIT_NATIVE", raising=False)
    clear_programs()
    calls = HOT_REUSE + 10        # the first call's trace, the steady one, its reuses
    s = logistic_state()
    eager = [snapshot(positional(logistic_step, s), [s["w"], s["b"]]) for _ in range(calls)]
    s = logistic_state()
    fn = torch.compile(logistic_step, backend="cpu")
    got = []
    for k in range(calls):
        got.append(snapshot(positional(fn, s), [s["w"], s["b"]]))
        if k == HOT_REUSE - 5:
            assert fn.roots[-1].program.native is None       # not hot yet
    for e, c in zip(eager, got):
        for part in range(3):
            for x, y in zip(e[part], c[part]):
                assert_same(x, y, exact=False)
    assert fn.roots[-1].program.native is not None
    assert fn.roots[0].program.native is None                # the first call's: used once
    assert "GENERATION, NATIVE," in fn.fast_sources()[0]   # the native entry, packed

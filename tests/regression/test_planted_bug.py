"""The net has holes no larger than one wrong op: a bug planted in code generation is caught.

The plant (in this test only, never in the product): the cpu backend's generated expression for
`mul` multiplies by an extra 1 + 2**-10, a 0.1% error in one primitive, as a wrong fusion or
codegen rule would. Every fuzz program multiplies somewhere (the loss, its gradient), so:

  (a) the differential fuzzer (fuzz_programs.py on the cpu backend, a bounded number of
      examples) fails on it, printing the program and its IR;
  (b) the shadow check (`stepjit.compile(check=True)`) raises a CheckError naming the first
      wrong IR value, which is a `mul` node, with its IR line and source line, before anything
      is written back;
  (c) with the plant removed, the fuzzer passes the same (derandomized) examples and the
      shadow check passes the program it named.

The plant cannot leak: kernels are keyed by a hash of their source, which contains the wrong
expression, and the test runs with a fresh STEPJIT_CACHE_DIR, the in-memory kernel cache
emptied before and restored after, and the runtime's shared program cache cleared both times.
"""
import gc

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402

import stepjit as torch  # noqa: E402
from stepjit.codegen import kernels  # noqa: E402
from stepjit.ir.primitives import PRIMITIVES  # noqa: E402
from stepjit.runtime import tree  # noqa: E402

from .fuzz_programs import build, programs  # noqa: E402
from .test_fuzz import check  # noqa: E402

PLANT = ("mul", "({0} * {1} * 1.0009765625)")     # x * y * (1 + 2**-10)
EXAMPLES = 3


@pytest.fixture
def isolated_kernels(tmp_path, monkeypatch):
    monkeypatch.setenv("STEPJIT_CACHE_DIR", str(tmp_path))
    saved = dict(kernels._KERNELS)
    kernels._KERNELS.clear()
    tree.clear_programs()
    gc.collect()
    gc.freeze()   # the tracer's gc.collect() then only sees what the examples make (test_fuzz.py)
    yield
    gc.unfreeze()
    kernels._KERNELS.clear()
    kernels._KERNELS.update(saved)
    tree.clear_programs()


def _planted(monkeypatch):
    name, expr = PLANT
    monkeypatch.setattr(PRIMITIVES[name], "expr", expr)   # the codegen's expression only
    kernels._KERNELS.clear()
    tree.clear_programs()


def _unplanted(mp):
    mp.undo()
    kernels._KERNELS.clear()
    tree.clear_programs()
    assert PRIMITIVES[PLANT[0]].expr != PLANT[1]


def _fuzz(tried):
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=(Phase.generate,),
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(programs(max_ops=3))
    def fuzz(spec):
        tried.append(spec)
        check(spec, "cpu")
    fuzz()


def _shadow(spec):
    step, args, state = build(spec)
    before = [(p.detach().numpy().copy(), p.grad) for p in state]
    compiled = torch.compile(step, backend="cpu", check=True)
    try:
        for _ in range(spec.steps):
            compiled(*args)
    except torch.CheckError as e:
        # nothing was written back: the weights and .grad are those of the last good call
        return e, compiled, before, state
    return None, compiled, before, state


def test_planted_codegen_bug_is_caught_by_fuzzer_and_shadow_check(isolated_kernels):
    tried = []
    with pytest.MonkeyPatch.context() as mp:
        _planted(mp)
        # (a) the fuzzer
        with pytest.raises(AssertionError) as caught:
            _fuzz(tried)
        failing = tried[-1]
        text = str(caught.value)
        assert "--- program ---" in text and "--- traced IR ---" in text, text

        # (b) the shadow check names the planted op
        err, compiled, before, state = _shadow(failing)
        assert err is not None, "the shadow check missed the planted bug"
        msg = str(err)
        assert err.value.startswith("%") and f" = {PLANT[0]} " in err.op, msg
        assert err.value in msg and err.op.split("  #")[0] in msg
        node = next(n for tr in compiled.traces for n in tr.graph.nodes if "%" + n.out.name == err.value)
        assert node.prim.name == PLANT[0]
        assert err.loc is not None and "fuzz_programs.py" in str(err.loc) and str(err.loc) in msg
        assert err.max_abs > 0 and err.index is not None
        if compiled.stats()["calls"] == 1:    # the first call failed: nothing may have changed
            for (w, g), p in zip(before, state):
                assert np.array_equal(w, p.detach().numpy()) and p.grad is g
        print(msg)

    # (c) the plant removed: the same programs pass the fuzzer's comparison and the check
    _unplanted(mp)
    again = []
    _fuzz(again)                      # the same derandomized examples, all of them this time
    assert failing in again and len(again) >= len(tried)
    err, *_ = _shadow(failing)
    assert err is None, str(err)

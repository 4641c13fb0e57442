"""The optimization pipeline over real traced steps and the registry's sample table."""
import sys

import numpy as np
import pytest

import stepjit as torch
from stepjit.dispatch import apply
from stepjit.ir.primitives import PRIMITIVES
from stepjit.ir.verifier import IRVerifyError, verify
from stepjit import pipeline
from stepjit.passes.fusion import fuse
from stepjit.pipeline import OPTIMIZE, optimize, run_passes
from tests.ir.test_registry import PRIM_CASES, SAMPLES, _case_id
from tests.runtime.programs import PROGRAMS

from tests.passes.helpers import check, prims


def _verified_optimize(graph):
    return optimize(graph, verify=True)


def _traces(make):
    """The step's traced graph on a first call, and again after one eager step (so
    optimizer state and accumulated .grad exist, as on a later compiled call)."""
    step, args, _ = make()
    first = torch.make_ir(step)(*args)
    step, args, _ = make()      # fresh: make_ir may leave trace-time state behind
    step(*args)
    return [first, torch.make_ir(step)(*args)]


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_every_program_optimizes_to_the_same_bits(name):
    graphs = _traces(PROGRAMS[name])
    assert graphs
    for graph in graphs:
        out = check(_verified_optimize, graph, trials=2)
        check(_verified_optimize, graph, trials=1, specials=False, seed=7)
        assert len(out.nodes) <= len(graph.nodes)


@pytest.mark.parametrize("case", PRIM_CASES, ids=[_case_id(c) for c in PRIM_CASES])
def test_every_registry_sample_optimizes_to_the_same_bits(case):
    name, i = case
    sample = SAMPLES[name][i]
    if name == "gather" and any(isinstance(a, np.ndarray) and a.dtype == bool
                                for a in sample.args):
        pytest.skip("a bool-mask gather cannot be traced (data-dependent shape)")
    tensors = sample.tensors()
    arrays = [t.numpy().copy() for t in tensors if isinstance(t, torch.Tensor)]
    prim = PRIMITIVES[name]

    def f(*ts):
        it = iter(ts)
        args = [next(it) if isinstance(a, torch.Tensor) else a for a in tensors]
        a, b = apply(prim, *args, **sample.attrs), apply(prim, *args, **sample.attrs)
        return a, b * 1, b
    graph = torch.make_ir(f)(*[t for t in tensors if isinstance(t, torch.Tensor)])
    out = check(_verified_optimize, graph, inputs=(arrays, []), trials=1)
    assert len(out.nodes) <= len(graph.nodes)


def _two_layer():
    sys.path.insert(0, "examples")
    import two_layer_net as T
    x, y, w1, w2 = T.init(N=8, D_in=10, H=5, D_out=3)
    return torch.make_ir(T.step)(x, y, w1, w2, 1e-3)


def test_two_layer_step_loses_its_root_gradient_chain():
    graph = _two_layer()
    out = check(_verified_optimize, graph, trials=3)
    before, after = prims(graph), prims(out)
    assert (len(before), len(after)) == (26, 22)
    assert "reshape" not in after and "expand" not in after and "pow" not in after
    assert after.count("full") == 2            # the two zeroed .grad buffers, written back
    assert out.stage == "dce"


def test_mlp_module_step_shrinks():
    step, args, _ = PROGRAMS["mlp_sgd_momentum"]()
    graph = torch.make_ir(step)(*args)
    out = check(_verified_optimize, graph, trials=3)
    assert len(out.nodes) <= len(graph.nodes) - 6
    assert "full" not in prims(out)
    # The mean's backward seed (1 / n, broadcast) is computed from the batch size, which the
    # graph keeps as a value (numel): no kernel reads it as an array, loops inline it.
    inlined = fuse(out).constants
    assert all(n.out in inlined for n in out.nodes if n.prim.name == "expand")
    assert not any(v in inlined for g in fuse(out).groups if g.kind == "loop" for v in g.inputs)


def test_passes_are_named_in_order_and_stamp_their_stage():
    names = [n for n, _ in OPTIMIZE]
    assert names[:4] == ["dce", "cse", "fold", "simplify"]
    seen = []
    graph = _two_layer()
    run_passes(graph, [(n, lambda g, n=n: seen.append(n) or fn(g)) for n, fn in OPTIMIZE])
    assert seen == names
    for name, fn in OPTIMIZE:
        assert fn(graph).stage == name
    assert graph.stage == "traced"


def test_verifier_runs_between_passes_and_names_the_culprit(monkeypatch):
    def broken(graph):
        out = optimize(graph)
        out.outputs = [graph.nodes[0].out.__class__("nowhere", (), graph.nodes[0].out.dtype)]
        return out
    graph = _two_layer()
    with pytest.raises(IRVerifyError, match="after pass broken"):
        run_passes(graph, [("broken", broken)], verify=True)
    run_passes(graph, [("broken", broken)])            # verification is off by default
    monkeypatch.setenv("STEPJIT_VERIFY", "1")
    with pytest.raises(IRVerifyError):
        run_passes(graph, [("broken", broken)])
    assert pipeline.verify_enabled()


def test_optimizing_twice_changes_nothing_more():
    graph = _two_layer()
    once = optimize(graph)
    twice = optimize(once)
    verify(twice)
    assert prims(twice) == prims(once)

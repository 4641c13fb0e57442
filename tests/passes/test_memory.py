"""Buffer sharing (passes/memory.py): intermediates whose lifetimes do not overlap share a
workspace buffer, in CpuProgram and in native programs; a value read later through a view,
or read after the program, keeps its own. Results are compared with NumPy."""
import numpy as np
import pytest

import stepjit as torch
from stepjit.runtime import tree
from stepjit.programs.cpu import CpuProgram

RNG = np.random.default_rng(4)
X, W = (RNG.standard_normal((8, 8)).astype(np.float32) for _ in range(2))


def chain(x, w):
    a = (x * 2) @ w
    b = (a + 1) @ w
    return ((b - 1) @ w).sum()


def chain_numpy(x, w):
    return ((((x * 2) @ w + 1) @ w - 1) @ w).sum()


def viewed(x, w):
    t = x * 2
    u = ((x @ w) + 1) @ w
    return (t.T @ u).sum()          # t is read again, through its transpose, after u


def viewed_numpy(x, w):
    return ((x * 2).T @ (((x @ w) + 1) @ w)).sum()


def _program(fn):
    graph = torch.make_ir(fn)(torch.from_numpy(X), torch.from_numpy(W))
    return graph, CpuProgram(graph, keep=())


def test_dead_intermediates_share_and_live_ones_do_not():
    _, program = _program(chain)
    owners = program.shared
    assert len(set(owners.values())) < len(owners), "x*2's buffer is free once its matmul ran"
    _, program = _program(viewed)
    nodes = program.graph.nodes
    t = next(n.out for n in nodes if n.prim.name == "mul")
    last = next(n for n in nodes if n.prim.name == "matmul"
                and any(p.prim.name == "transpose" for p in nodes if p.out in n.inputs))
    assert program.shared[t] is t, "t (x*2) is read through its transpose after everything"
    for v, owner in program.shared.items():
        assert owner is not t or v is t
    assert program.shared[last.out] is not program.shared[t]


@pytest.mark.parametrize("native", ["0", "1"], ids=["steps", "native"])
@pytest.mark.parametrize("fn, ref", [(chain, chain_numpy), (viewed, viewed_numpy)],
                         ids=["chain", "viewed"])
def test_shared_buffers_give_numpys_results(monkeypatch, native, fn, ref):
    monkeypatch.setenv("STEPJIT_NATIVE", native)
    tree.clear_programs()
    compiled = torch.compile(fn, backend="cpu")
    want = ref(X.astype(np.float64), W.astype(np.float64))
    for _ in range(3):      # buffers kept between calls: the second call reuses them
        got = compiled(torch.from_numpy(X), torch.from_numpy(W)).item()
        np.testing.assert_allclose(got, want, rtol=1e-5)
    tree.clear_programs()


def reused(x, w):
    a = (x * 2) @ w
    b = ((a + 1) * 3) @ w
    return b.sum()


def test_a_value_computed_after_the_run_ignores_reused_buffers(monkeypatch):
    """The runtime may read a value the program never materialized (a decision): the
    interpreter computes it then, and must not start from an intermediate whose buffer a
    later value took."""
    monkeypatch.setenv("STEPJIT_NATIVE", "0")
    graph, program = _program(reused)
    a = next(n.out for n in program.graph.nodes if n.prim.name == "matmul")
    assert program.shared.get(a) is not None
    env = dict(zip(graph.inputs, (X, W)))
    out = program.run(env)
    inner = next(n.out for n in graph.nodes if n.prim.name == "add")   # a + 1, fused away
    assert inner not in dict(out)
    np.testing.assert_allclose(out[inner], (X * 2) @ W + 1, rtol=1e-5)

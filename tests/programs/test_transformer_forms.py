"""A transformer layer's shapes in a CPU program run as its straight-line function (no native
program): Linear layers on (batch, time, features) inputs and their weight gradients are 2-D
matmuls (passes/kernel_forms.py, flat-matmuls), `split`'s backward is one concat
(scatter-sums), and the embedding's scatter-add runs through its native form (programs/cpu.py)
instead of np.add.at: the compiled step matches eager (and PyTorch, when installed), duplicate
indices accumulate, and a bad index raises eager's error with the user's line."""
import numpy as np
import pytest

import stepjit as torch
from stepjit.errors import IndexingError
from stepjit.runtime import tree

V, E, H, B, T = 7, 6, 4, 2, 3
R = np.random.default_rng(5)
PARAMS = [R.standard_normal(s) for s in ((V, E), (3 * H, E), (E, H))]
IDX = np.array([[0, 6, 0], [3, 0, -1]], np.int64)        # duplicates, a negative index


def attention(torch):
    def step(params, idx):
        C, Wqkv, Wo = params
        x = C[idx]                                          # (B, T, E); backward: a scatter-add
        q, k, v = (x @ Wqkv.t()).split(H, dim=2)
        att = q @ k.transpose(1, 2)                         # batched: stays batched
        loss = ((att @ v) @ Wo.t()).pow(2).mean()
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= 0.1 * p.grad
                p.grad = None
        return loss
    return step


def _params(fw):
    return [fw.tensor(p.copy(), requires_grad=True) for p in PARAMS]


@pytest.fixture(scope="module")
def straight_step():
    mp = pytest.MonkeyPatch()
    mp.setenv("STEPJIT_NATIVE", "0")
    tree.clear_programs()
    params, step = _params(torch), torch.compile(attention(torch))
    yield params, step
    mp.undo()


def test_compiled_matches_eager_with_2d_matmuls_a_concat_and_a_native_scatter_add(straight_step):
    params, step = straight_step
    eparams, eager = _params(torch), attention(torch)
    idx = torch.tensor(IDX)
    for k in range(3):
        np.testing.assert_allclose(step(params, idx).item(), eager(eparams, idx).item(),
                                   rtol=1e-12, err_msg=f"call {k}")
        for got, want in zip(params, eparams):
            np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-11)
    (prog,) = [p for _, p in step.programs.values()]
    by_matrix = [n for n in prog.graph.nodes if n.prim.name == "matmul" and n.inputs[1].ndim == 2]
    assert by_matrix and all(n.inputs[0].ndim == 2 for n in by_matrix)
    names = {n.prim.name for n in prog.graph.nodes}
    assert "concat" in names and "slice_scatter" not in names
    assert "PUT1(" in prog.straight_text and not prog.is_native
    # only what the caller reads is stored in env (codegen/straight_line.py), not every value
    stores = [line for line in prog.straight_text.splitlines() if line.strip().startswith("env[")]
    assert stores and len(stores) <= len(prog.exported) < len(prog.graph.nodes) // 2


def test_eager_matches_pytorch():
    real = pytest.importorskip("torch")
    eparams, tparams = _params(torch), _params(real)
    idx = IDX.copy()
    for _ in range(2):
        want = attention(real)(tparams, real.tensor(idx)).item()
        np.testing.assert_allclose(attention(torch)(eparams, torch.tensor(idx)).item(), want,
                                   rtol=1e-12)


def _scatter(vals, idx):
    return torch.zeros(5, 3, dtype=torch.float64).index_put((idx,), vals, accumulate=True) * 2


def test_a_bad_index_raises_eagers_error(straight_step):
    step = torch.compile(_scatter)
    vals = torch.tensor(R.standard_normal((4, 3)))
    good = torch.tensor(np.array([0, 4, 0, -5], np.int64))
    for _ in range(2):
        np.testing.assert_array_equal(step(vals, good).numpy(), _scatter(vals, good).numpy())
    (prog,) = [p for _, p in step.programs.values()]
    assert "PUT1(" in prog.straight_text
    bad = torch.tensor(np.array([0, 5, 1, 1], np.int64))
    with pytest.raises(Exception) as want:
        _scatter(vals, bad)
    with pytest.raises(type(want.value)) as got:
        step(vals, bad)
    assert str(want.value).splitlines()[0] in str(got.value)
    assert f"test_transformer_forms.py:{_scatter.__code__.co_firstlineno + 1}" in str(got.value)


def test_which_scatters_run_native_is_the_registry_entrys(straight_step, monkeypatch):
    """programs/cpu.py asks the entry (`native_first`): with index_put's predicate saying no,
    the same scatter-add of rows runs by its impl, with the same values."""
    from stepjit.ir import primitives as P
    vals = torch.tensor(R.standard_normal((4, 3)))
    idx = torch.tensor(np.array([0, 4, 0, -5], np.int64))
    node_seen = []
    monkeypatch.setattr(P.index_put, "native_first", lambda node: node_seen.append(node) or False)
    tree.clear_programs()
    step = torch.compile(_scatter)
    for _ in range(2):
        np.testing.assert_array_equal(step(vals, idx).numpy(), _scatter(vals, idx).numpy())
    (prog,) = [p for _, p in step.programs.values()]
    assert node_seen and "PUT1(" not in prog.straight_text
    assert all(P.index_put.native_for(n) is not None for n in node_seen)


def _pick(logits, target):
    loss = torch.nn.functional.cross_entropy(logits, target)   # gathers (row, class) elements
    loss.backward()                                            # their scatter-add
    with torch.no_grad():
        logits -= 0.5 * logits.grad
        logits.grad = None
    return loss


def test_cross_entropys_pick_and_its_scatter_add_run_native(straight_step):
    """An element gather and an element scatter-add run through their native forms (the
    registry's native_first: ~1-4 us against the impl's ~14-17 us), with eager's values and,
    for a bad class index, eager's error with the user's line and the tensors unchanged."""
    step = torch.compile(_pick)
    start = R.standard_normal((6, 5))
    lc, le = torch.tensor(start.copy(), requires_grad=True), torch.tensor(start.copy(),
                                                                          requires_grad=True)
    target = torch.tensor(np.array([0, 4, 4, 1, 2, 0], np.int64))
    for k in range(3):
        np.testing.assert_allclose(step(lc, target).item(), _pick(le, target).item(),
                                   rtol=1e-12, err_msg=f"call {k}")
        np.testing.assert_allclose(lc.detach().numpy(), le.detach().numpy(), rtol=1e-12)
    (prog,) = [p for _, p in step.programs.values()]
    assert "TAKE2(" in prog.straight_text and "PUT2(" in prog.straight_text
    assert "RUN_IMPL(" not in prog.straight_text and not prog.is_native
    bad = torch.tensor(np.array([0, 4, 5, 1, 2, 0], np.int64))
    before = lc.detach().numpy().copy()
    with pytest.raises(IndexingError) as got:
        step(lc, bad)
    # the gather impl's own words (what the step raised before it ran natively)
    assert str(got.value).startswith("gather: index 5 is out of bounds for dimension 1 with "
                                     "size 5 (input shapes [6, 5], [6, 1], [6, 1])")
    assert f"test_transformer_forms.py:{_pick.__code__.co_firstlineno + 1}" in str(got.value)
    np.testing.assert_array_equal(lc.detach().numpy(), before)

"""The backward graph a user walks: `(2 * b).grad_fn.next_functions` lists b's node first and
the number's empty slot second, as PyTorch does (it computes 2 * b as b * 2). The introyt
autograd tutorial walks `d.grad_fn.next_functions[0][0].next_functions[0][0]...` down a chain
`b = sin(a); c = 2 * b; d = c + 1` and stopped at None when the number came first."""
import numpy as np

import stepjit


def _chain():
    a = stepjit.linspace(0., 3., steps=4, requires_grad=True)
    b = stepjit.sin(a)
    c = 2 * b
    d = c + 1
    return a, b, c, d


def test_reflected_mul_and_add_keep_the_tensor_first():
    a, b, c, d = _chain()
    assert type(d.grad_fn).__name__ == "AddBackward0"
    assert d.grad_fn.next_functions[0][0] is c.grad_fn and d.grad_fn.next_functions[1][0] is None
    assert c.grad_fn.next_functions[0][0] is b.grad_fn and c.grad_fn.next_functions[1][0] is None
    sin_node = c.grad_fn.next_functions[0][0]
    leaf = sin_node.next_functions[0][0]
    assert type(leaf).__name__ == "AccumulateGrad" and leaf.next_functions == ()
    (1 + d).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), 2 * np.cos(a.detach().numpy()), rtol=1e-6)


def test_reflected_forms_match_the_forward_forms_bit_for_bit():
    x = stepjit.randn(5, dtype=stepjit.float64)
    for left, right in [(2.5 * x, x * 2.5), (0.1 + x, x + 0.1), (3 * x.int(), x.int() * 3)]:
        assert left.dtype is right.dtype
        np.testing.assert_array_equal(left.numpy(), right.numpy())


def test_reflected_forms_compile_like_eager():
    w = stepjit.randn(3, requires_grad=True)

    def step(x):
        loss = (0.5 * (x * w) + 1.0).pow(2).sum()
        loss.backward()
        return loss

    x = stepjit.randn(3)
    eager = float(step(x)); ge = w.grad.clone(); w.grad = None
    fn = stepjit.compile(step, backend="interpret")
    assert float(fn(x)) == eager
    np.testing.assert_array_equal(w.grad.numpy(), ge.numpy())


def test_graph_walk_matches_pytorch():
    import pytest
    torch = pytest.importorskip("torch")

    def shape(node, depth=0):
        if node is None or depth > 6:
            return None
        return (type(node).__name__, tuple(shape(n, depth + 1) for n, _ in node.next_functions))

    ta = torch.linspace(0., 3., steps=4, requires_grad=True)
    td = 2 * torch.sin(ta) + 1
    *_, d = _chain()
    assert shape(d.grad_fn) == shape(td.grad_fn)


def test_composite_ops_show_pytorchs_graph():
    """mean is sum then div, cross_entropy log_softmax then a gather...: the node a user walks
    to lists the op's own inputs, as PyTorch's does (tests/autograd/graph_walk_cases.py)."""
    import json
    from pathlib import Path
    from tests.autograd.graph_walk_cases import shapes
    recorded = Path(__file__).parents[1] / "fixtures" / "graph_walk" / "torch_graphs.json"
    want = json.loads(recorded.read_text())
    got = shapes(stepjit)
    assert set(got) == set(want)
    for name in want:
        assert got[name] == want[name], name


def test_composite_edges_reach_the_leaves_and_backward_follows_the_real_graph():
    x = stepjit.randn(3, 4, requires_grad=True)
    y = stepjit.nn.functional.softmax(x, -1).mean()
    soft = y.grad_fn.next_functions[0][0]
    assert type(soft).__name__ == "SoftmaxBackward0" and soft.next_functions[0][0].variable is x
    y.backward()
    assert x.grad is not None and abs(x.grad.sum().item()) < 1e-6   # softmax rows sum to 1

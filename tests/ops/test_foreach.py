"""torch._foreach_* (stepjit/ops/foreach.py): each multi-tensor op against NumPy on every
tensor of a list, the argument forms PyTorch takes (a shared number or tensor, a list with
one number or tensor per tensor, a 1-D tensor of values), PyTorch's return values (the same
sequence from an in-place op, a tuple otherwise), and a compiled step that copies stacked
results back into parameters as Muon does (`_foreach_copy_(params, list(stacked.unbind(0)))`)."""
import numpy as np
import pytest

import stepjit as torch

RNG = np.random.default_rng(4)
A = [RNG.uniform(0.5, 2.0, s).astype(np.float32) for s in ((2, 3), (4,), ())]
B = [RNG.uniform(0.5, 2.0, a.shape).astype(np.float32) for a in A]


def _ts(arrays):
    return [torch.tensor(a.copy()) for a in arrays]


def _check(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.detach().numpy(), w, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, ref", [("sqrt", np.sqrt), ("exp", np.exp), ("neg", np.negative),
                                       ("reciprocal", np.reciprocal), ("log1p", np.log1p),
                                       ("frac", lambda a: a - np.trunc(a))])
def test_unary_out_of_place_and_in_place(name, ref):
    ts = _ts(A)
    out = getattr(torch, f"_foreach_{name}")(ts)
    assert isinstance(out, tuple)
    _check(out, [ref(a) for a in A])
    _check(ts, A)                                   # inputs untouched
    assert getattr(torch, f"_foreach_{name}_")(ts) is ts
    _check(ts, [ref(a) for a in A])


def test_binary_operand_forms():
    ts = _ts(A)
    _check(torch._foreach_add(ts, 2.0), [a + 2 for a in A])
    _check(torch._foreach_add(ts, _ts(B), alpha=-0.5), [a - 0.5 * b for a, b in zip(A, B)])
    _check(torch._foreach_mul(ts, [1.0, 2.0, 3.0]), [a * k for a, k in zip(A, (1, 2, 3))])
    _check(torch._foreach_div(ts, torch.tensor(4.0)), [a / 4 for a in A])
    _check(torch._foreach_maximum(ts, _ts(B)), [np.maximum(a, b) for a, b in zip(A, B)])
    _check(torch._foreach_pow(2.0, ts), [2.0 ** a for a in A])
    ts2 = _ts(A)
    assert torch._foreach_minimum_(ts2, 1.0) is ts2
    _check(ts2, [np.minimum(a, 1.0) for a in A])


def test_pointwise_lerp_copy_zero_norm_max():
    ts = _ts(A)
    torch._foreach_addcmul_(ts, _ts(B), _ts(B), torch.tensor([1.0, 0.5, 2.0]))
    _check(ts, [a + v * b * b for a, b, v in zip(A, B, (1.0, 0.5, 2.0))])
    ts = _ts(A)
    _check(torch._foreach_addcdiv(ts, _ts(B), _ts(A), value=3.0), [a + 3 * b / a for a, b in zip(A, B)])
    torch._foreach_lerp_(ts, _ts(B), 0.25)
    _check(ts, [a + 0.25 * (b - a) for a, b in zip(A, B)])
    _check(torch._foreach_norm(_ts(A)), [np.linalg.norm(a.ravel()) for a in A])
    _check(torch._foreach_norm(_ts(A), 1), [np.abs(a).sum() for a in A])
    _check(torch._foreach_max(_ts(A)), [a.max() for a in A])
    ts = _ts(A)
    assert torch._foreach_copy_(ts, _ts(B)) is ts
    _check(ts, B)
    torch._foreach_zero_(ts)
    _check(ts, [np.zeros_like(a) for a in A])


def test_list_lengths_must_match():
    with pytest.raises(RuntimeError, match="3 tensors but 2"):
        torch._foreach_mul(_ts(A), [1.0, 2.0])
    with pytest.raises(RuntimeError, match="3 tensors but 1"):
        torch._foreach_copy_(_ts(A), _ts(B)[:1])


def test_grad_flows_through_out_of_place_forms():
    x = torch.tensor(A[0].copy(), requires_grad=True)
    (y,) = torch._foreach_mul([x], 3.0)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full(A[0].shape, 3.0, np.float32))


def _stacked_update(params, lr):
    """A Muon-shaped update: stack same-shaped weights, update the stack, copy it back."""
    with torch.no_grad():
        stacked = torch.stack(params)
        grads = torch.stack([p.grad for p in params])
        stacked.sub_(lr * grads / grads.norm(dim=(-2, -1), keepdim=True))
        torch._foreach_copy_(params, list(stacked.unbind(0)))
        torch._foreach_zero_([p.grad for p in params])


@pytest.mark.parametrize("compiled", [False, True], ids=["eager", "compiled"])
def test_compiled_step_copies_stacked_results_into_parameters(compiled):
    w0 = [RNG.standard_normal((3, 2)).astype(np.float32) for _ in range(2)]
    x0 = RNG.standard_normal((4, 3)).astype(np.float32)
    ws = [torch.tensor(w.copy(), requires_grad=True) for w in w0]
    x = torch.tensor(x0)

    def step(x):
        loss = sum(((x @ w) ** 2).sum() for w in ws)
        loss.backward()
        _stacked_update(ws, 0.1)
        return loss

    fn = torch.compile(step, backend="interpret") if compiled else step
    want = [w.copy() for w in w0]
    for _ in range(2):
        fn(x)
        gs = [2 * x0.T @ (x0 @ w) for w in want]
        want = [w - 0.1 * g / np.linalg.norm(g) for w, g in zip(want, gs)]
        _check(ws, want)
        _check([w.grad for w in ws], [np.zeros_like(w) for w in want])


def test_matches_pytorch_names_and_values():
    pt = pytest.importorskip("torch")
    from stepjit.ops.foreach import FOREACH
    assert set(FOREACH) <= set(n for n in dir(pt) if n.startswith("_foreach"))
    for name in FOREACH:
        if name.endswith("_") or name in ("_foreach_pow", "_foreach_lerp", "_foreach_addcmul",
                                          "_foreach_addcdiv") or "clamp" in name:
            continue
        args = () if name.split("_foreach_")[1] in (
            "abs acos asin atan ceil cos cosh erf erfc exp expm1 floor frac lgamma log log10 log1p "
            "log2 neg reciprocal round rsqrt sigmoid sign sin sinh sqrt tan tanh trunc norm clone "
            "max").split() else (0.5,)
        want = getattr(pt, name)([pt.tensor(a) for a in A], *args)
        got = getattr(torch, name)(_ts(A), *args)
        _check(got, [w.numpy() for w in want])

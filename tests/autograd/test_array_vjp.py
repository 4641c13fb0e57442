"""The eager backward's straight-line VJP functions (stepjit/autograd/array_vjp.py) against the
generic path (the registry's rules run op by op through dispatch): the same gradient bits, the
same tensor identities, the same errors, and the generic path wherever a function cannot stand
in for it."""
import numpy as np
import pytest

import stepjit as torch
from stepjit import autograd
from stepjit.autograd import array_vjp
from stepjit.dispatch import apply
from stepjit.ir.registry import Primitive
from tests.ir import test_registry as table

GRAD_CASES = [c for c in table.PRIM_CASES
              if table.SAMPLES[c[0]][c[1]].grad and c[0] not in table.NON_DIFFERENTIABLE]


@pytest.fixture
def generic():
    """Run the block with the straight-line functions switched off."""
    class Switch:
        def __enter__(self):
            array_vjp.ENABLED = False

        def __exit__(self, *exc):
            array_vjp.ENABLED = True
    return Switch()


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def derived(node):
    """The straight-line functions node's plan holds."""
    return [f for f in node.plan.arrays.values() if callable(f)]


def sample_grads(name, sample, calls=3):
    """The gradients of every differentiated input, by `calls` backwards over one graph (the
    plan's function is derived on the second)."""
    out, ts = table.run_prim(name, sample, sample.grad)
    if not out.requires_grad:
        pytest.skip("an integer or bool result: no gradient")
    cot = torch.tensor(np.random.default_rng(1).standard_normal(tuple(out.shape)), dtype=out.dtype)
    runs = [autograd.grad(out, [ts[j] for j in sample.grad], cot, retain_graph=True,
                          allow_unused=True) for _ in range(calls)]
    return out, runs


@pytest.mark.parametrize("case", GRAD_CASES, ids=table._case_id)
def test_every_primitive_gradient_is_bit_identical(case, generic):
    name, i = case
    sample = table.SAMPLES[name][i]
    with generic:
        _, expected = sample_grads(name, sample, calls=1)
    out, runs = sample_grads(name, sample)
    for got in runs + [direct_call(out, sample.grad)]:
        for e, g in zip(expected[0], got):
            assert (e is None) == (g is None)
            if e is not None:
                assert same_bits(e.numpy(), g.numpy()), f"{name}: {e} vs {g}"


def direct_call(out, grad_idx):
    """The derived function called by hand on the root's gradient: a function that raised
    would pass unnoticed through the engine (which then takes the generic path)."""
    node = out.grad_fn
    g = torch.tensor(np.random.default_rng(1).standard_normal(tuple(out.shape)), dtype=out.dtype)
    args = [g, g._data]
    fn = node.plan.arrays[array_vjp._key_and_args(node.plan, node.saved, g._data, args)]
    result = fn(*args)
    return [result[j] for j in grad_idx]


def test_the_registry_rules_become_functions():
    """Every primitive's rules are straight-line code today: a rule that stops qualifying (and
    silently takes the slow path) is noticed here."""
    not_derived = set()
    for name, i in GRAD_CASES:
        out, ts = table.run_prim(name, table.SAMPLES[name][i], table.SAMPLES[name][i].grad)
        if not out.requires_grad:
            continue
        out, _ = sample_grads(name, table.SAMPLES[name][i])
        if not derived(out.grad_fn):
            not_derived.add(name)
    assert not not_derived, sorted(not_derived)


# -- whole training steps, fast against generic ------------------------------------------------
def run_program(spec, steps):
    from tests.regression.fuzz_programs import build
    step, args, params = build(spec)
    losses = [step(*args).detach().numpy().copy() for _ in range(steps)]
    return losses, [p.detach().numpy().copy() for p in params], \
        [None if p.grad is None else p.grad.numpy().copy() for p in params]


def _programs():
    hypothesis = pytest.importorskip("hypothesis")
    from tests.regression.fuzz_programs import programs
    return hypothesis, programs


hypothesis, programs = _programs()


@hypothesis.settings(max_examples=60, deadline=None, derandomize=True, database=None)
@hypothesis.given(programs())
def test_random_programs_are_bit_identical_to_the_generic_path(spec):
    steps = spec.steps + 2    # the plans' functions are derived from the second backward on
    array_vjp.ENABLED = False
    try:
        expected = run_program(spec, steps)
    finally:
        array_vjp.ENABLED = True
    got = run_program(spec, steps)
    for e_part, g_part in zip(expected, got):
        for e, g in zip(e_part, g_part):
            assert (e is None) == (g is None)
            assert e is None or same_bits(e, g)


def test_two_layer_example_matches_numpy_reference():
    """The tutorial step's gradients against a hand-written NumPy backward."""
    rng = np.random.default_rng(0)
    x, y, w1, w2 = (rng.standard_normal(s) for s in ((5, 4), (5, 2), (4, 3), (3, 2)))
    tw1, tw2 = torch.tensor(w1, requires_grad=True), torch.tensor(w2, requires_grad=True)
    tx, ty = torch.tensor(x), torch.tensor(y)
    for _ in range(3):
        tw1.grad = tw2.grad = None
        h = tx.mm(tw1)
        loss = (h.clamp(min=0).mm(tw2) - ty).pow(2).sum()
        loss.backward()
    h = x @ w1
    g = 2 * (np.maximum(h, 0) @ w2 - y)
    np.testing.assert_allclose(tw2.grad.numpy(), np.maximum(h, 0).T @ g, rtol=1e-12)
    np.testing.assert_allclose(tw1.grad.numpy(), x.T @ ((g @ w2.T) * (h > 0)), rtol=1e-12)


# -- identities and errors -------------------------------------------------------------------
def test_a_rule_returning_g_hands_on_the_same_tensor(generic):
    """add's rules return g itself: the first leaf takes it, the second gets a copy, as in the
    generic path (AccumulateGrad's ownership rule)."""
    def shares():
        a, b = torch.ones(3, requires_grad=True), torch.ones(3, requires_grad=True)
        for _ in range(3):
            a.grad = b.grad = None
            (a + b).backward(torch.ones(3), retain_graph=True)
        return np.shares_memory(a.grad.numpy(), b.grad.numpy())
    with generic:
        expected = shares()
    assert shares() == expected is False


def test_modified_saved_tensor_raises_as_generic(generic):
    def run():
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1
        z = (y * y).sum()
        z.backward(retain_graph=True)
        z.backward(retain_graph=True)   # the function exists now
        with torch.no_grad():
            y.add_(1)
        with pytest.raises(RuntimeError) as e:
            z.backward()
        return str(e.value)
    with generic:
        expected = run()
    assert run() == expected
    assert "modified by an inplace operation" in expected


def test_freed_graph_raises():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    for _ in range(2):
        z = (x * x).sum()
        z.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        z.backward()


def test_gradient_of_another_dtype_gets_its_own_function(generic):
    """A hook may hand a node a float64 gradient for a float32 output: keyed apart."""
    def run():
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        grads = []
        for hook in (None, None, lambda g: g.double(), lambda g: g.double(), None):
            x.grad = None
            y = x * x
            if hook:
                y.register_hook(hook)
            y.sum().backward()
            grads.append(x.grad.numpy().copy())
        return grads
    with generic:
        expected = run()
    for e, g in zip(expected, run()):
        assert same_bits(e, g)


def test_hook_returning_a_tensor_that_requires_grad_takes_the_generic_path():
    w = torch.tensor([3.0, 4.0], requires_grad=True)
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    for _ in range(3):
        x.grad = None
        y = x * x
        y.register_hook(lambda g: w)
        y.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [6.0, 16.0])


def test_saved_numbers_key_the_function():
    x = torch.tensor([1.5, 2.0], requires_grad=True)
    for k in (2, 3, 2, 3, 2.5, 2.5, 3):
        x.grad = None
        (x ** k).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), k * np.array([1.5, 2.0]) ** (k - 1))
    assert len(derived((x ** 3).grad_fn)) == 2      # 2 and 3 (an int exponent: one plan)
    assert len(derived((x ** 2.5).grad_fn)) == 1    # a float exponent: another plan


def test_nan_saved_number_stays_generic():
    x = torch.tensor([1.5, 2.0], requires_grad=True)
    for _ in range(3):
        x.grad = None
        (x ** float("nan")).sum().backward()
        assert np.isnan(x.grad.numpy()).all()


def _rule_reading_a_value(g, x):
    return g * float(x.sum().item())   # the data decides a constant: not straight-line code


_READS_VALUE = Primitive("test_scale_by_sum", "elementwise", lambda x: x * x.sum(),
                         lambda a: a, inputs=("x",), vjp=(_rule_reading_a_value,))


def test_rule_reading_a_value_takes_the_generic_path():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    for _ in range(3):
        x.grad = None
        apply(_READS_VALUE, x).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])
    assert not derived(apply(_READS_VALUE, x).grad_fn)


def test_one_off_plans_are_not_derived():
    x = torch.ones(1, 19, 3, requires_grad=True)    # a shape no other test uses
    out = x.sum()
    out.backward()
    assert not derived(out.grad_fn)


def test_disabled_switch_leaves_no_functions(generic):
    with generic:
        x = torch.ones(7, 3, 5, requires_grad=True)    # a shape no other test uses
        for _ in range(3):
            out = (x * 5).sum()
            out.backward()
    assert not derived(out.grad_fn)


def test_generated_source_reads_as_the_rules():
    x = torch.ones(2, 3, requires_grad=True)
    w = torch.ones(3, 4, requires_grad=True)
    for _ in range(2):
        out = x.mm(w)
        out.backward(torch.ones(2, 4))
    src = derived(out.grad_fn)[0].source
    assert src.startswith("def MmBackward0_vjp(g, gd, y, x):")
    assert "MATMUL(" in src and "TRANSPOSE(" in src and "return [make(" in src


def test_a_plan_tracks_at_most_max_keys(monkeypatch):
    monkeypatch.setattr(array_vjp, "MAX_KEYS", 2)
    x = torch.tensor([1.5, 2.0, 3.0, 4.0, 5.0], requires_grad=True)   # a shape no other test uses
    for k in (4, 5, 6, 4, 5, 6, 6):
        x.grad = None
        (x ** k).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), k * x.detach().numpy() ** (k - 1), rtol=1e-6)
    plan = (x ** 4).grad_fn.plan
    assert len(plan.arrays) == 2 and len(derived((x ** 4).grad_fn)) == 2

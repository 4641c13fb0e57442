"""Check mode (docs/checking.md): the interpreter beside the compiled program, and custom
Functions' backward against finite differences."""
import warnings

import numpy as np
import pytest

import stepjit as torch
from stepjit.codegen import kernels
from stepjit.ir import primitives as P
from stepjit.runtime import tree
from stepjit.programs.check import CheckedProgram

from tests.regression.harness import assert_close

from tests.runtime.programs import PROGRAMS, MyReLU


def _snap(out, state):
    leaves = out.values() if isinstance(out, dict) else [out]
    return ([np.array(t.detach().numpy()) for t in leaves],
            [np.array(p.detach().numpy()) for p in state],
            [None if p.grad is None else np.array(p.grad.numpy()) for p in state])


@pytest.mark.parametrize("name", ["two_layer_custom_relu", "dict_of_metrics"])
def test_check_passes_on_correct_programs_and_changes_no_result(name):
    step, args, state = PROGRAMS[name]()
    eager = [_snap(step(*args), state) for _ in range(3)]
    step, args, state = PROGRAMS[name]()
    compiled = torch.compile(step, backend="cpu", check=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")     # the custom ReLU's backward passes its FD check
        got = [_snap(compiled(*args), state) for _ in range(3)]
    for e, c in zip(eager, got):
        for part in range(3):
            for a, b in zip(e[part], c[part]):
                assert_close(a, b, 1e-4, name)
    segments, programs = list(compiled.roots), []
    while segments:
        seg = segments.pop()
        programs.append(seg.program)
        segments.extend(s for level in seg.children.values() for s in level)
    assert programs and all(isinstance(p, CheckedProgram) for p in programs)
    assert all(p.program.inplace == {} and p.program.native is None for p in programs)


def test_check_is_off_by_default_and_costs_nothing(monkeypatch):
    monkeypatch.delenv("STEPJIT_CHECK", raising=False)
    compiled = torch.compile(lambda x: x * 2, backend="cpu")
    assert compiled.check is False and compiled.program_backend == "cpu"
    monkeypatch.setenv("STEPJIT_CHECK", "1")
    assert torch.compile(lambda x: x * 2).check is True
    assert torch.compile(lambda x: x * 2, check=False).check is False
    monkeypatch.setenv("STEPJIT_CHECK", "0")
    assert torch.compile(lambda x: x * 2).check is False


# -- a planted codegen bug --------------------------------------------------------------------
@pytest.fixture
def planted_sub(tmp_path, monkeypatch):
    """`sub` generated as `+`, in this test only; no broken kernel or program outlives it."""
    monkeypatch.setenv("STEPJIT_CACHE_DIR", str(tmp_path))
    saved = dict(kernels._KERNELS)
    kernels._KERNELS.clear()
    tree.clear_programs()
    monkeypatch.setattr(P.sub, "expr", "({0} + {1})")   # the codegen's expression only
    yield
    kernels._KERNELS.clear()
    kernels._KERNELS.update(saved)
    tree.clear_programs()


def _update_step():
    """Forward and backward without `sub`; the update (after a data-dependent decision, so in a
    second segment) subtracts."""
    torch.manual_seed(7)
    x = torch.randn(8, 3)
    w = torch.randn(3, 2, requires_grad=True)

    def step(x):
        loss = ((x @ w) * 0.5).sum()
        loss.backward()
        if loss.item() > -1e9:
            with torch.no_grad():
                w.sub_(0.1 * w.grad)    # the planted bug computes w + 0.1 * grad
        return loss
    return step, x, w


def test_planted_bug_is_named_and_nothing_is_written_back(planted_sub, monkeypatch):
    step, x, w = _update_step()
    w0 = w.detach().numpy().copy()
    compiled = torch.compile(step, backend="cpu", check=True)
    with pytest.raises(torch.CheckError) as caught:
        compiled(x)
    err = caught.value
    msg = str(err)
    assert isinstance(err, torch.StepjitError)
    assert " = sub " in err.op and err.value.startswith("%")
    assert f"op:       {err.op.split('  #')[0]}" in msg
    assert "test_check.py" in str(err.loc) and "w.sub_(0.1 * w.grad)" in msg
    assert err.max_abs > 0 and "at index" in msg and "compiled" in msg and "interpreter" in msg
    # nothing written back: the weight and its (never set) .grad are as before the call
    assert np.array_equal(w.detach().numpy(), w0) and w.grad is None

    # STEPJIT_CHECK=1 turns the same check on without changing the code
    monkeypatch.setenv("STEPJIT_CHECK", "1")
    again = torch.compile(step, backend="cpu")
    with pytest.raises(torch.CheckError) as caught2:
        again(x)
    assert caught2.value.op == err.op
    assert np.array_equal(w.detach().numpy(), w0) and w.grad is None


# -- custom Functions against finite differences ---------------------------------------------
class WrongScaleReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 2 * (input > 0).float()      # wrong: the slope is 1


class WrongSecondInput(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g * b, g * b                               # wrong: d(a*b)/db is a


# Correct, and applied to inputs with exact zeros (a kink): one-sided differences pass.
KinkedRightReLU = MyReLU


def _fn_step(fn, two=False):
    torch.manual_seed(3)
    x = torch.randn(5, 3)
    w = torch.randn(3, 4, requires_grad=True)
    v = torch.randn(5, 4, requires_grad=True)

    def step(x):
        h = x @ w
        out = fn.apply(h, v) if two else fn.apply(h.relu())
        loss = out.sum()
        loss.backward()
        return loss
    return step, x, w


@pytest.mark.parametrize("fn,two,index", [(WrongScaleReLU, False, 0), (WrongSecondInput, True, 1)])
def test_wrong_custom_backward_is_caught_by_finite_differences(fn, two, index):
    step, x, w = _fn_step(fn, two)
    compiled = torch.compile(step, backend="interpret", check=True)
    with pytest.raises(torch.CheckError) as caught:
        compiled(x)
    err = caught.value
    assert err.function == fn.__name__ and err.input == index
    assert f"custom Function {fn.__name__}" in str(err) and f"for input {index}" in str(err)
    assert "test_check.py" in str(err)
    assert w.grad is None
    # without check mode the same step runs (and is wrong, as it would be eagerly)
    step, x, w = _fn_step(fn, two)
    torch.compile(step, backend="interpret")(x)
    assert w.grad is not None


def test_correct_custom_backward_passes_at_a_kink():
    step, x, w = _fn_step(KinkedRightReLU)   # h.relu() has exact zeros
    compiled = torch.compile(step, backend="interpret", check=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compiled(x)
        compiled(x)
    assert w.grad is not None



# -- vectorized transcendentals are held to their documented ulp bound ---------------------------
def _tanh_step():
    torch.manual_seed(3)
    x = torch.randn(16, 8)
    w = torch.randn(8, 4, requires_grad=True)

    def step(x):
        loss = ((x @ w).tanh().exp() + (x @ w).sigmoid()).sum()
        loss.backward()
        with torch.no_grad():
            w.sub_(0.01 * w.grad)
            w.grad = None
        return loss
    return step, x


def test_vmath_ops_pass_check_and_an_error_below_1e4_but_over_their_bound_is_named(
        tmp_path, monkeypatch):
    from stepjit.ir import primitives as P
    monkeypatch.setenv("STEPJIT_CACHE_DIR", str(tmp_path))
    saved = dict(kernels._KERNELS)
    kernels._KERNELS.clear()
    tree.clear_programs()
    try:
        step, x = _tanh_step()
        torch.compile(step, backend="cpu", check=True)(x)          # within the bounds
        # 8 ulps off (relative 1e-6): far inside the general float32 tolerance of 1e-4
        monkeypatch.setattr(P.tanh, "simd_expr", "(vtanh({0}) * np.float32(1.000001))")
        kernels._KERNELS.clear()
        tree.clear_programs()
        step, x = _tanh_step()
        with pytest.raises(torch.CheckError) as caught:
            torch.compile(step, backend="cpu", check=True)(x)
        assert " = tanh " in caught.value.op and "rtol 7.15" in str(caught.value)
    finally:
        kernels._KERNELS.clear()
        kernels._KERNELS.update(saved)
        tree.clear_programs()

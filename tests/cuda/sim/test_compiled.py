"""Compiled steps on backend="cuda" against CPU eager: tests/runtime's programs (a subset) eagerly
on CUDA and compiled, write-back, decisions, and the backend's fixes. Every whole program of
tests/regression runs on cuda too, in the same child process (test_cuda.py)."""
import numpy as np
import pytest

import stepjit as torch
import stepjit.nn as nn
from stepjit.programs.cuda import CudaProgram
from tests.runtime.programs import PROGRAMS

# The rest of tests/runtime/programs.py has counterparts among the regression programs.
SUBSET = ["accumulate_without_zeroing", "two_backward_calls", "hooks_and_retain_grad",
          "logistic_regression_data", "dict_of_metrics"]


def _to_cuda(args, state):
    for t in state:
        t.data = t.data.cuda()
    return tuple(a.cuda() if isinstance(a, torch.Tensor) else a for a in args)


def _close(a, b):
    np.testing.assert_allclose(b.detach().cpu().numpy(), a.detach().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", SUBSET)
@pytest.mark.parametrize("mode", ["eager", "compiled"])
def test_program_on_cuda_matches_cpu_eager(name, mode):
    step, args, state = PROGRAMS[name]()
    want = [step(*args) for _ in range(2)]
    step2, args2, state2 = PROGRAMS[name]()
    args2 = _to_cuda(args2, state2)
    f = step2 if mode == "eager" else torch.compile(step2, backend="cuda")
    got = [f(*args2) for _ in range(2)]
    for a, b in zip(state, state2):
        _close(a, b)
        assert b.device.type == "cuda"
        if a.grad is not None:
            _close(a.grad, b.grad)
    flat = lambda r: list(r.values()) if isinstance(r, dict) else list(r) if isinstance(r, tuple) else [r]
    for a, b in zip(flat(want[-1]), flat(got[-1])):
        if isinstance(a, torch.Tensor):
            assert b.device.type == "cuda"
            _close(a, b)


def test_two_layer_step_fuses_and_writes_back_in_place():
    torch.manual_seed(0)
    x, y = torch.randn(8, 6), torch.randn(8, 3)
    w1, w2 = torch.randn(6, 5, requires_grad=True), torch.randn(5, 3, requires_grad=True)
    ref = [t.detach().clone().requires_grad_() for t in (w1, w2)]
    for t in (w1, w2):
        t.data = t.data.cuda()
    xc, yc = x.cuda(), y.cuda()

    def step(x, y, w1, w2):
        loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            w1 -= 1e-3 * w1.grad
            w2 -= 1e-3 * w2.grad
            w1.grad.zero_()
            w2.grad.zero_()
        return loss

    f = torch.compile(step)          # backend "cpu" follows the tensors onto the device
    buf = w1._data
    for _ in range(2):
        loss = f(xc, yc, w1, w2)
        want = step(x, y, *ref)
    assert w1._data is buf            # the update was computed into the parameter's buffer
    _close(want, loss)
    _close(ref[0], w1)
    _close(ref[1], w2)
    programs = [p for _, p in f.programs.values()]
    cuda_programs = [getattr(p, "built", {}).get("cuda", p) for p in programs]
    assert any(isinstance(p, CudaProgram) for p in cuda_programs)


def test_decision_reads_device_value():
    w = torch.ones(3, device="cuda", requires_grad=True)

    def step(x):
        loss = (x * w).sum()
        if loss.item() > 0:
            return loss * 2
        return loss

    f = torch.compile(step, backend="cuda")
    assert f(torch.ones(3, device="cuda")).item() == 6.0
    assert f(-torch.ones(3, device="cuda")).item() == -3.0


def test_host_input_written_in_place_between_calls_is_uploaded_again():
    s = torch.tensor(1.0)             # a 0-dim CPU tensor is a scalar (Adam's step count)
    w = torch.ones(3, device="cuda")
    f = torch.compile(lambda: w * s, backend="cuda")
    assert f().tolist() == [1.0, 1.0, 1.0]
    s.fill_(2.0)                      # the same host array, new contents
    assert f().tolist() == [2.0, 2.0, 2.0]


def test_grad_the_optimizer_reduced_to_another_value_stays_on_the_device():
    w = torch.ones(2, 1, device="cuda", requires_grad=True)
    x = torch.arange(6.0).reshape(2, 3).cuda()

    def step(x):
        loss = (x * w).sum()          # w's gradient: a sum over dim 1, then an identity reshape
        loss.backward()
        return loss

    f = torch.compile(step, backend="cuda")
    for _ in range(2):
        w.grad = None
        f(x)
        assert w.grad.device.type == "cuda" and w.grad.cpu().numpy().ravel().tolist() == [3.0, 12.0]


def test_interpreter_on_cuda_tensors_keeps_results_on_the_device():
    w = torch.ones(3, device="cuda", requires_grad=True)
    f = torch.compile(lambda x: (x * w).sum().backward(), backend="interpret")
    f(torch.arange(3.0).cuda())
    assert w.grad.device.type == "cuda" and w.grad.tolist() == [0.0, 1.0, 2.0]


class _TwoOutputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(4, 8), nn.Linear(8, 2)

    def forward(self, x):
        h = self.fc1(x).tanh()
        return self.fc2(h), h


def test_compiled_model_with_backward_outside_on_cuda():
    """torch.compile(model) on CUDA tensors: compiled forward and backward (one node), loss,
    backward entry and SGD eager; parameters and grads against CPU eager. The second result is
    not used: its gradient is zeros made on the device."""
    def make():
        torch.manual_seed(0)
        return _TwoOutputs()

    torch.manual_seed(1)
    x, y = torch.randn(6, 4), torch.randn(6, 2)
    ref, m = make(), make()
    for p in m.parameters():
        p.data = p.data.cuda()
    cm = torch.compile(m, backend="cuda")
    opts = [torch.optim.SGD(ref.parameters(), lr=0.1), torch.optim.SGD(m.parameters(), lr=0.1)]
    for _ in range(2):
        for model, opt, (xx, yy) in ((ref, opts[0], (x, y)), (cm, opts[1], (x.cuda(), y.cuda()))):
            opt.zero_grad()
            out, _ = model(xx)
            (out - yy).pow(2).mean().backward()
            opt.step()
        assert type(cm(x.cuda())[0].grad_fn).__name__ == "CompiledFunctionBackward"
        for a, b in zip(ref.parameters(), m.parameters()):
            assert b.device.type == "cuda" and b.grad.device.type == "cuda"
            _close(a, b)
            _close(a.grad, b.grad)
